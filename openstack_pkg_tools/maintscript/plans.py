"""From debconf answers to typed plans: pure functions, every answer checked.

postinst computes all plans before it changes anything, so a bad answer
(an empty host, a bad region name, a URL that is not http or https) stops
it with the question named and nothing half-done.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..errors import InvalidValueError
from ..keystone.model import Endpoints, check_region, check_url
from ..profile import CatalogEntry, Database, ServiceProfile
from ..questions import SWITCHES, Family, families
from ..urls import Engine, format_host, needs_encoding

PROTOCOLS = ("http", "https")
DB_ENGINES = tuple(Engine)  # the db-type answers: mysql, pgsql, sqlite


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
class Plans:
    """Everything postinst applies beyond user, directories and config files."""

    database: DatabasePlan | None = None
    transport: TransportPlan | None = None
    authtoken: AuthtokenPlan | None = None
    catalog: CatalogPlan | None = None


def _choice(answers: Answers, question: str, allowed: Sequence[str], prefix: str) -> str:
    value = answers.get(question, "")
    if value not in allowed:
        raise InvalidValueError(
            f"{prefix}/{question} is {value!r}, not one of {', '.join(allowed)}.",
            hint=f"answer it again: dpkg-reconfigure, or debconf-set-selections {prefix}/{question}.",
        )
    return value


def _required(answers: Answers, question: str, prefix: str) -> str:
    value = answers.get(question, "").strip()
    if not value:
        raise InvalidValueError(
            f"{prefix}/{question} is empty.",
            hint=f"answer it: dpkg-reconfigure, or debconf-set-selections {prefix}/{question}.",
        )
    return value


def database_plan(profile: ServiceProfile, answers: Answers) -> DatabasePlan:
    """What to create from the db answers (database names after the first come from the profile)."""
    prefix = profile.prefix
    engine = _choice(answers, "db-type", DB_ENGINES, prefix)
    name = _required(answers, "db-name", prefix)
    first, *others = profile.databases
    databases = (replace(first, name=name), *others)
    remote = engine != "sqlite"
    plan = DatabasePlan(
        engine=engine,
        host=_required(answers, "db-host", prefix) if remote else "",
        user=_required(answers, "db-user", prefix) if remote else "",
        password=answers.get("db-password", ""),
        admin_user=answers.get("db-admin-user", "") or "root",
        admin_password=answers.get("db-admin-password", ""),
        databases=databases,
    )
    if remote and not profile.percent_in_url:
        _no_percent_encoding(plan.user, "db-user", prefix)
        _no_percent_encoding(plan.password, "db-password", prefix)
    return plan


def _no_percent_encoding(answer: str, question: str, prefix: str) -> None:
    """Refuse an answer that the connection URL would hold percent-encoded.

    The message never quotes the answer: it may be a password.
    """
    if needs_encoding(answer):
        raise InvalidValueError(
            f"{prefix}/{question} has characters that the database URL must percent-encode, "
            f"and {prefix}'s own tools cannot read a URL with a '%' in it.",
            hint=f"use only letters, digits and - . _ ~ in {prefix}/{question} "
            "(dpkg-reconfigure, or debconf-set-selections); an empty password is generated so.",
        )


def transport_plan(profile: ServiceProfile, answers: Answers) -> TransportPlan:
    """The message queue connection from the rabbit answers."""
    assert profile.messaging is not None
    prefix = profile.prefix
    return TransportPlan(
        host=_required(answers, "rabbit-host", prefix),
        user=_required(answers, "rabbit-userid", prefix),
        password=answers.get("rabbit-password", ""),
        configs=profile.messaging.configs,
    )


def _http_url(answers: Answers, question: str, prefix: str) -> str:
    """The answer, if ksat.AuthToken (written later by postinst) will take it as a URL."""
    value = _required(answers, question, prefix)
    try:
        return check_url(value)
    except InvalidValueError as error:
        raise InvalidValueError(
            f"{prefix}/{question} is not an http:// or https:// URL that Keystone takes: {error.message}",
            hint=f"answer it again ({error.hint}): debconf-set-selections {prefix}/{question}.",
        ) from None


def authtoken_plan(profile: ServiceProfile, answers: Answers) -> AuthtokenPlan:
    """The keystone_authtoken settings from the ksat answers."""
    assert profile.authtoken is not None
    prefix = profile.prefix
    create = answers.get("ksat-create-service-user", "true") == "true"
    return AuthtokenPlan(
        configs=profile.authtoken.configs,
        section=profile.authtoken.section,
        public_url=_http_url(answers, "ksat-public-url", prefix),
        region=_region(answers, "ksat-region", prefix),
        username=_required(answers, "ksat-service-username", prefix),
        project_name=_required(answers, "ksat-service-project-name", prefix),
        password=_required(answers, "ksat-service-password", prefix),
        create_user=create,
        admin_username=_required(answers, "ksat-admin-username", prefix) if create else "",
        admin_project_name=_required(answers, "ksat-admin-project-name", prefix) if create else "",
        admin_password=_required(answers, "ksat-admin-password", prefix) if create else "",
    )


def _region(answers: Answers, question: str, prefix: str) -> str:
    value = _required(answers, question, prefix)
    try:
        return check_region(value)
    except InvalidValueError as error:
        raise InvalidValueError(f"{prefix}/{question} is {value!r}, not a region name.", error.hint) from None


def default_route_address() -> str:
    """This machine's address on the default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing decision only
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def endpoint_urls(entry: CatalogEntry, answers: Answers, address: str, prefix: str) -> Endpoints:
    """The three endpoint URLs: answered ones win, the rest built from address and port."""
    proto = _choice(answers, "api-endpoint-proto", PROTOCOLS, prefix)
    built = f"{proto}://{format_host(address)}:{entry.port}{entry.path}"
    public = answers.get("api-endpoint-public-url", "") or built
    try:
        return Endpoints(
            public=public,
            internal=answers.get("api-endpoint-internal-url", "") or public,
            admin=answers.get("api-endpoint-admin-url", "") or public,
        )
    except InvalidValueError as error:
        raise InvalidValueError(
            f"{prefix}/api-endpoint-*: {error.message}",
            hint=f"answer them again: debconf-set-selections {prefix}/api-endpoint-address (or -public-url, "
            "-internal-url, -admin-url).",
        ) from None


def catalog_plan(profile: ServiceProfile, package: str, answers: Answers) -> CatalogPlan:
    """What to register in Keystone for ``package`` from the endpoint answers."""
    prefix = profile.prefix
    proto = _choice(answers, "api-keystone-proto", PROTOCOLS, prefix)
    keystone = format_host(_required(answers, "api-keystone-address", prefix))
    address = answers.get("api-endpoint-address", "").strip() or default_route_address()
    return CatalogPlan(
        keystone_url=f"{proto}://{keystone}:5000/v3",
        admin_username=_required(answers, "api-keystone-admin-username", prefix),
        admin_project_name=_required(answers, "api-keystone-admin-project-name", prefix),
        admin_password=_required(answers, "api-keystone-admin-password", prefix),
        region=_region(answers, "api-endpoint-region-name", prefix),
        services=tuple(
            (entry, endpoint_urls(entry, answers, address, prefix)) for entry in profile.catalog_for(package)
        ),
    )


def plans(profile: ServiceProfile, package: str, answers: Answers) -> Plans:
    """Check every answer of every family whose ``configure_*`` is yes, before anything changes."""
    wanted = {family for family in families(profile, package) if answers.get(SWITCHES[family]) == "true"}
    return Plans(
        database=database_plan(profile, answers) if Family.DB in wanted else None,
        transport=transport_plan(profile, answers) if Family.RABBIT in wanted else None,
        authtoken=authtoken_plan(profile, answers) if Family.KSAT in wanted else None,
        catalog=catalog_plan(profile, package, answers) if Family.ENDPOINT in wanted else None,
    )
