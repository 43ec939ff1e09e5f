"""From debconf answers to typed plans: pure functions, every answer checked.

postinst computes all plans before it changes anything, so a bad answer
(an empty host, a bad region name, a URL that is not http or https) stops
it with the question named and nothing half-done.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..errors import InvalidValueError
from ..keystone.model import Endpoints, check_region, check_url
from ..keystone_bootstrap import BootstrapSpec
from ..profile import CatalogEntry, Database, ServiceProfile, Setting
from ..questions import (
    ASKED_SETTINGS,
    Check,
    Family,
    Type,
    by_name,
    details_of,
    families,
    prefix_of,
    switch_of,
)
from ..urls import check_host, format_host, needs_encoding

Answers = Mapping[str, str]


@dataclass(frozen=True)
class DatabasePlan:
    """The databases to create and the URL to write (password empty: generate one)."""

    engine: str
    host: str
    user: str
    password: str
    admin_user: str
    admin_password: str
    databases: tuple[Database, ...]


@dataclass(frozen=True)
class TransportPlan:
    """``[DEFAULT] transport_url`` for the service's config files."""

    host: str
    user: str
    password: str
    configs: tuple[str, ...]


@dataclass(frozen=True)
class AuthtokenPlan:
    """The ``[keystone_authtoken]`` section, and the Keystone user to create."""

    configs: tuple[str, ...]
    section: str
    public_url: str
    region: str
    username: str
    project_name: str
    password: str
    create_user: bool
    admin_username: str
    admin_project_name: str
    admin_password: str


@dataclass(frozen=True)
class CatalogPlan:
    """Services and endpoints to register in Keystone."""

    keystone_url: str
    admin_username: str
    admin_project_name: str
    admin_password: str
    region: str
    services: tuple[tuple[CatalogEntry, Endpoints], ...]


@dataclass(frozen=True)
class BootstrapPlan:
    """Keystone's own bootstrap: keys, administrator, endpoints, then project and roles.

    ``local_url`` is where postinst reaches the Keystone it has just started
    (this machine), whatever address the endpoints give clients; ``uwsgi``
    the service's uwsgi file, whose WSGI file serves the API steps of a
    first install (``keystone_private``), "" for none.
    """

    spec: BootstrapSpec
    admin_password: str = field(repr=False)
    admin_email: str
    project: str
    roles: tuple[str, ...]
    start: str
    local_url: str
    uwsgi: str


@dataclass(frozen=True)
class Plans:
    """Everything postinst applies beyond user, directories and config files."""

    database: DatabasePlan | None = None
    transport: TransportPlan | None = None
    authtoken: AuthtokenPlan | None = None
    catalog: CatalogPlan | None = None
    bootstrap: BootstrapPlan | None = None
    # The asked settings' directives, written with the profile's fixed settings.
    settings: tuple[Setting, ...] = ()
    # The profile's migrations and cells run again with the URLs already written (api-db).
    migrate: bool = False
    # (question, region) of every region answer applied: Keystone must have each region.
    regions: tuple[tuple[str, str], ...] = ()


# A physical network name and an interface name (Linux: at most 15 characters).
MAPPING_RE = re.compile(r"[A-Za-z0-9_.-]+:[A-Za-z0-9_.@-]{1,15}")


class PackageAnswers:
    """One package's answers, read by the questions of the table.

    Every name is looked up in ``questions.TABLE`` (a name the table lacks
    is a KeyError, a bug), choices come from there, and errors name the
    question as the package asks it (``heat-api-cfn/api-endpoint-proto``).
    """

    def __init__(self, answers: Answers, prefix: str, family: Family) -> None:
        self.answers = answers
        self.prefix = prefix
        self.family = family

    def name(self, question: str) -> str:
        """The debconf name of ``question`` (a name of this family in the table)."""
        return by_name(self.family, question).full_name(self.prefix)

    def get(self, question: str, absent: str = "") -> str:
        """The answer; ``absent`` when there is none."""
        self.name(question)
        return self.answers.get(question, absent)

    def choice(self, question: str) -> str:
        """The answer, one of the question's choices."""
        value = self.get(question)
        allowed = by_name(self.family, question).choices
        if value not in allowed:
            raise InvalidValueError(
                f"{self.name(question)} is {value!r}, not one of {', '.join(allowed)}.",
                hint=f"answer it again: dpkg-reconfigure, or debconf-set-selections {self.name(question)}.",
            )
        return value

    def required(self, question: str) -> str:
        """The answer, refused when empty."""
        value = self.get(question).strip()
        if not value:
            raise InvalidValueError(
                f"{self.name(question)} is empty.",
                hint=f"answer it: dpkg-reconfigure, or debconf-set-selections {self.name(question)}.",
            )
        return value

    def region(self, question: str) -> str:
        """The answer, a region name Keystone takes."""
        value = self.required(question)
        try:
            return check_region(value)
        except InvalidValueError as error:
            raise InvalidValueError(
                f"{self.name(question)} is {value!r}, not a region name.", error.hint
            ) from None

    def http_url(self, question: str) -> str:
        """The answer, if ksat.AuthToken (written later by postinst) will take it as a URL."""
        value = self.required(question)
        try:
            return check_url(value)
        except InvalidValueError as error:
            raise InvalidValueError(
                f"{self.name(question)} is not an http:// or https:// URL that Keystone takes: "
                f"{error.message}",
                hint=f"answer it again ({error.hint}): debconf-set-selections {self.name(question)}.",
            ) from None

    def checked(self, question: str, check: Check, default_address: str = "") -> str:
        """The answer, checked as ``check`` says; an error names the question and quotes no password.

        An empty address answer (``Check.ADDRESS``) means ``default_address``.
        """
        value = self.get(question)
        if "\n" in value or "\r" in value:
            raise self._refuse(question, value, "on several lines, which a config file cannot hold")
        if check is Check.ADDRESS:
            address = self.address_or_default(question, default_address)
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                raise self._refuse(question, address, "not an IP address") from None
        readers = {
            Check.TEXT: self.required,
            Check.URL: self.http_url,
            Check.REGION: self.region,
            Check.HOST: self.host,
            Check.BOOLEAN: self.boolean,
            Check.MAPPINGS: self.mappings,
        }
        return readers[check](question)

    def host(self, question: str) -> str:
        """The answer, an IP address (IPv6 without brackets) or a DNS name."""
        value = self.required(question)
        try:
            return check_host(value)
        except InvalidValueError as error:
            raise self._refuse(question, value, f"not a host address ({error.hint})") from None

    def boolean(self, question: str) -> str:
        """The answer, true or false."""
        value = self.get(question)
        if value not in ("true", "false"):
            raise self._refuse(question, value, "not true or false")
        return value

    def mappings(self, question: str) -> str:
        """The answer, comma-separated ``physical-network:interface`` pairs (empty: none)."""
        items = [item.strip() for item in self.get(question).split(",") if item.strip()]
        bad = [item for item in items if not MAPPING_RE.fullmatch(item)]
        if bad:
            raise self._refuse(
                question, self.get(question), "not physical-network:interface pairs (provider:eth1)"
            )
        return ",".join(items)

    def address_or_default(self, question: str, default_address: str) -> str:
        """The address answer, or ``default_address`` (the default route's) when it is empty.

        Both empty (a machine with no default route) is refused naming the
        question: 127.0.0.1 would do for nothing another node reaches.
        """
        address = self.get(question).strip() or default_address
        if not address:
            raise InvalidValueError(
                f"{self.name(question)} is empty, and this machine has no default route to take "
                "its address from.",
                hint=f"answer it with this node's address: debconf-set-selections {self.name(question)}, "
                "or dpkg-reconfigure.",
            )
        return address

    def _refuse(self, question: str, value: str, problem: str) -> InvalidValueError:
        """An error naming ``question``; its answer is quoted unless it is a password."""
        shown = "" if by_name(self.family, question).type is Type.PASSWORD else f" {value!r},"
        return InvalidValueError(
            f"{self.name(question)} is{shown} {problem}.",
            hint=f"answer it again: dpkg-reconfigure, or debconf-set-selections {self.name(question)}.",
        )

    def no_percent_encoding(self, question: str) -> None:
        """Refuse an answer that the connection URL would hold percent-encoded.

        The message never quotes the answer: it may be a password.
        """
        if needs_encoding(self.get(question)):
            raise InvalidValueError(
                f"{self.name(question)} has characters that the database URL must percent-encode, "
                f"and {self.prefix}'s own tools cannot read a URL with a '%' in it.",
                hint=f"use only letters, digits and - . _ ~ in {self.name(question)} "
                "(dpkg-reconfigure, or debconf-set-selections); an empty password is generated so.",
            )


def database_plan(profile: ServiceProfile, answers: Answers) -> DatabasePlan:
    """What to create from the db answers (database names after the first come from the profile)."""
    db = PackageAnswers(answers, profile.prefix, Family.DB)
    engine = db.choice("db-type")
    first, *others = profile.databases
    databases = (replace(first, name=db.required("db-name")), *others)
    remote = engine != "sqlite"
    plan = DatabasePlan(
        engine=engine,
        host=db.required("db-host") if remote else "",
        user=db.required("db-user") if remote else "",
        password=db.get("db-password"),
        admin_user=db.get("db-admin-user") or "root",
        admin_password=db.get("db-admin-password"),
        databases=databases,
    )
    if remote and not profile.percent_in_url:
        db.no_percent_encoding("db-user")
        db.no_percent_encoding("db-password")
    return plan


def transport_plan(profile: ServiceProfile, answers: Answers) -> TransportPlan:
    """The message queue connection from the rabbit answers."""
    assert profile.messaging is not None
    rabbit = PackageAnswers(answers, profile.prefix, Family.RABBIT)
    return TransportPlan(
        host=rabbit.required("rabbit-host"),
        user=rabbit.required("rabbit-userid"),
        password=rabbit.get("rabbit-password"),
        configs=profile.messaging.configs,
    )


def authtoken_plan(profile: ServiceProfile, answers: Answers) -> AuthtokenPlan:
    """The keystone_authtoken settings from the ksat answers."""
    assert profile.authtoken is not None
    ksat = PackageAnswers(answers, profile.prefix, Family.KSAT)
    create = ksat.get("ksat-create-service-user", "true") == "true"
    return AuthtokenPlan(
        configs=profile.authtoken.configs,
        section=profile.authtoken.section,
        public_url=ksat.http_url("ksat-public-url"),
        region=ksat.region("ksat-region"),
        username=ksat.required("ksat-service-username"),
        project_name=ksat.required("ksat-service-project-name"),
        password=ksat.required("ksat-service-password"),
        create_user=create,
        admin_username=ksat.required("ksat-admin-username") if create else "",
        admin_project_name=ksat.required("ksat-admin-project-name") if create else "",
        admin_password=ksat.required("ksat-admin-password") if create else "",
    )


def endpoint_urls(entry: CatalogEntry, endpoint: PackageAnswers, address: str) -> Endpoints:
    """The three endpoint URLs: answered ones win, the rest built from address and port."""
    proto = endpoint.choice("api-endpoint-proto")
    built = f"{proto}://{format_host(address)}:{entry.port}{entry.path}"
    public = endpoint.get("api-endpoint-public-url") or built
    try:
        return Endpoints(
            public=public,
            internal=endpoint.get("api-endpoint-internal-url") or public,
            admin=endpoint.get("api-endpoint-admin-url") or public,
        )
    except InvalidValueError as error:
        prefix = endpoint.prefix
        raise InvalidValueError(
            f"{prefix}/api-endpoint-*: {error.message}",
            hint=f"answer them again: debconf-set-selections {prefix}/api-endpoint-address (or -public-url, "
            "-internal-url, -admin-url).",
        ) from None


def catalog_plan(
    profile: ServiceProfile, package: str, answers: Answers, default_address: str
) -> CatalogPlan:
    """What to register in Keystone for ``package`` from the endpoint answers.

    ``default_address`` is the endpoints' address when none is answered
    (postinst passes the default route's).
    """
    endpoint = PackageAnswers(answers, prefix_of(profile, package), Family.ENDPOINT)
    proto = endpoint.choice("api-keystone-proto")
    keystone = format_host(endpoint.required("api-keystone-address"))
    address = endpoint.address_or_default("api-endpoint-address", default_address)
    return CatalogPlan(
        keystone_url=f"{proto}://{keystone}:5000/v3",
        admin_username=endpoint.required("api-keystone-admin-username"),
        admin_project_name=endpoint.required("api-keystone-admin-project-name"),
        admin_password=endpoint.required("api-keystone-admin-password"),
        region=endpoint.region("api-endpoint-region-name"),
        services=tuple(
            (entry, endpoint_urls(entry, endpoint, address)) for entry in profile.catalog_for(package)
        ),
    )


def bootstrap_plan(profile: ServiceProfile, answers: Answers, default_address: str) -> BootstrapPlan:
    """Keystone's bootstrap from the keystone/* answers (Debian's questions).

    An empty administrator password keeps the administrator as it is (a
    reconfigure after postinst forgot it); two different ones are refused.
    """
    assert profile.bootstrap is not None
    ks = PackageAnswers(answers, profile.prefix, Family.KEYSTONE)
    password = ks.get("admin-password")
    if password != ks.get("admin-password-confirm"):
        raise InvalidValueError(
            f"{ks.name('admin-password')} and {ks.name('admin-password-confirm')} differ.",
            hint=f"answer both again with the same password: dpkg-reconfigure {profile.package}.",
        )
    email = ks.get("admin-email").strip()
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
        raise InvalidValueError(
            f"{ks.name('admin-email')} is {email!r}, not an email address.",
            hint=f"answer it again: debconf-set-selections {ks.name('admin-email')}.",
        )
    entry = profile.catalog_for(profile.package)[0]
    endpoints = None
    if ks.get("register-endpoint") == "true":
        address = ks.address_or_default("endpoint-ip", default_address)
        host = _host(ks, "endpoint-ip", address)
        endpoints = _endpoints(ks, f"{ks.choice('endpoint-proto')}://{host}:{entry.port}{entry.path}")
    spec = BootstrapSpec(
        endpoints=endpoints,
        config_file=profile.bootstrap.config,
        system_user=profile.user.name,
        system_group=profile.user.name,
        admin_username=ks.required("admin-user"),
        admin_project=ks.required("admin-tenant-name"),
        admin_role=ks.required("admin-role-name"),
        region=ks.region("region-name"),
        service_name=entry.name,
    )
    return BootstrapPlan(
        spec=spec,
        admin_password=password,
        admin_email=email,
        project=profile.bootstrap.project,
        roles=profile.bootstrap.roles,
        start=profile.bootstrap.start,
        local_url=f"http://127.0.0.1:{entry.port}{entry.path}",
        uwsgi=profile.bootstrap.uwsgi,
    )


def _host(answers: PackageAnswers, question: str, address: str) -> str:
    """``address`` as a URL's host (IPv6 in brackets), refused naming ``question`` if it is none."""
    try:
        return format_host(check_host(address))
    except InvalidValueError as error:
        raise InvalidValueError(
            f"{answers.name(question)} is {address!r}: {error.message}",
            hint=f"answer it again: debconf-set-selections {answers.name(question)}.",
        ) from None


def _endpoints(answers: PackageAnswers, url: str) -> Endpoints:
    try:
        return Endpoints.same(url)
    except InvalidValueError as error:
        raise InvalidValueError(f"{answers.prefix}/endpoint-*: {error.message}", hint=error.hint) from None


def asked_settings_plan(
    profile: ServiceProfile, package: str, answers: Answers, default_address: str, wanted: set[Family]
) -> tuple[Setting, ...]:
    """The directives of the asked-settings families ``package`` asks (``[[asks]]``), all checked.

    Each answered question gives its ``writes`` directive; the family adds
    its fixed directives and those taken from another answer of the same
    package (Keystone's URL and region of the ksat questions). An empty
    address answer means ``default_address`` (the default route's).
    """
    prefix = prefix_of(profile, package)
    settings = []
    for asks in profile.asks_for(package):
        family = Family(asks.family)
        if family not in wanted:
            continue
        asked = PackageAnswers(answers, prefix, family)
        values = [
            (*question.writes, asked.checked(question.name, question.check, default_address))
            for question in details_of(family)
            if question.writes is not None
        ]
        extra = ASKED_SETTINGS[family]
        values += extra.fixed
        values += [
            (
                derived.section,
                derived.key,
                PackageAnswers(answers, prefix, derived.family).checked(derived.question, derived.check),
            )
            for derived in extra.derived
        ]
        settings += [Setting(package, asks.config, section, key, value) for section, key, value in values]
    return tuple(settings)


def plans(profile: ServiceProfile, package: str, answers: Answers, default_address: str = "") -> Plans:
    """Check every answer of every family whose ``configure_*`` is yes, before anything changes.

    ``default_address`` is what the endpoint family needs from the machine
    (the default route's address); plans themselves look at nothing.
    """
    wanted = {family for family in families(profile, package) if _switched_on(family, answers)}
    return Plans(
        database=database_plan(profile, answers) if Family.DB in wanted else None,
        transport=transport_plan(profile, answers) if Family.RABBIT in wanted else None,
        authtoken=authtoken_plan(profile, answers) if Family.KSAT in wanted else None,
        catalog=catalog_plan(profile, package, answers, default_address)
        if Family.ENDPOINT in wanted
        else None,
        bootstrap=bootstrap_plan(profile, answers, default_address) if Family.KEYSTONE in wanted else None,
        settings=asked_settings_plan(profile, package, answers, default_address, wanted),
        migrate=Family.API_DB in wanted,
        regions=region_answers(profile, package, answers, wanted),
    )


def region_answers(
    profile: ServiceProfile, package: str, answers: Answers, wanted: set[Family]
) -> tuple[tuple[str, str], ...]:
    """The region answers of the families applied, by debconf name: each names a region
    Keystone already has (Keystone's own bootstrap, which makes its region, aside)."""
    prefix = prefix_of(profile, package)
    found = [
        (question.full_name(prefix), answers.get(question.name, "").strip())
        for family in families(profile, package)
        if family in wanted
        for question in details_of(family)
        if question.check is Check.REGION
    ]
    found += [
        (
            by_name(derived.family, derived.question).full_name(prefix),
            answers.get(derived.question, "").strip(),
        )
        for asks in profile.asks_for(package)
        if Family(asks.family) in wanted
        for derived in ASKED_SETTINGS[Family(asks.family)].derived
        if derived.check is Check.REGION
    ]
    return tuple(dict.fromkeys(found))


def _switched_on(family: Family, answers: Answers) -> bool:
    """Whether ``family`` is applied: its switch is yes, or it has none (asked on every configure)."""
    switch = switch_of(family)
    return switch is None or answers.get(switch.name) == "true"
