"""Preseed files per node role, generated from one site file.

A site file (TOML) says where the database, RabbitMQ and Keystone are, the
region, the controller's address, and where the passwords are kept. From it
``generate`` writes one ``debconf-set-selections`` file per role
(all-in-one, controller, compute), so that ``apt-get install
openstack-compute-node`` asks nothing.

Passwords never appear in the site file, which is meant to be shared: they
live in a password store (TOML, mode 0600) that the site file names. With
``generate = true`` every missing password is made with ``secrets`` and
added to the store, so that generating again, or for another role, gives
the same passwords: the controller and its compute nodes must agree on the
RabbitMQ and Keystone service passwords.

Seen flags: an answer the site file decides is marked seen (never asked,
even by an interactive frontend); an answer filled with the toolkit's
default because the site file said nothing is followed by a ``seen false``
line, so an interactive install still offers it for review while a
non-interactive one takes it.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import string
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .. import fileio, profile, secretfile, tomltable
from ..errors import ConfigFileError, InvalidValueError
from ..keystone.model import DEFAULT_REGION
from ..questions import (
    LOCAL_HOSTS,
    PROTOCOLS,
    SHARED,
    Family,
    Need,
    by_name,
    families,
    of_family,
    owner_of,
    prefix_of,
)
from ..tomltable import Table
from ..urls import format_host, needs_encoding

PASSWORD_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 32
MIN_PASSWORD_LENGTH = 16
# The database administrator's password belongs to an existing server: it
# can be stored by the operator, never invented here.
NEVER_GENERATED = frozenset({"database-admin"})
# The site file's database types and the db-type answer each one gives
# (the shared template's choices are mysql, pgsql and sqlite).
DB_TYPE_ANSWERS = {"mysql": "mysql", "postgresql": "pgsql", "sqlite": "sqlite"}
KEYSTONE_PORT = 5000
NEUTRON_PORT = 9696
# The physical network the linuxbridge agent maps to [network] provider_interface.
PROVIDER_NETWORK = "provider"


class Role(StrEnum):
    """The node roles a preseed is generated for."""

    ALL_IN_ONE = "all-in-one"
    CONTROLLER = "controller"
    COMPUTE = "compute"


@dataclass(frozen=True)
class ServiceAnswers:
    """Which question families a service answers on one role.

    The packages that own the answers and the prefixes they ask under come
    from the service's profile (``questions.owner_of``, ``prefix_of``).
    """

    profile: str
    families: tuple[Family, ...]
    # Only the controller creates service users; compute nodes reuse them
    # and so never need the Keystone administrator's password.
    creates_service_user: bool = False


def _controller_service(name: str) -> ServiceAnswers:
    """A controller service: every family its profile's packages ask (the agents' too: the
    controller is also the network node)."""
    loaded = profile.load(name)
    asked = {family for package in loaded.packages for family in families(loaded, package)}
    return ServiceAnswers(
        name, tuple(family for family in Family if family in asked), creates_service_user=True
    )


def role_services(role: Role) -> tuple[ServiceAnswers, ...]:
    """The services ``role``'s preseed configures, in order.

    An all-in-one node runs the controller's services, which already
    answer every question the compute node's packages ask. Keystone
    registers its own endpoints when it bootstraps (its own family).
    """
    if role is Role.COMPUTE:
        return (
            ServiceAnswers(
                "nova", (Family.RABBIT, Family.KSAT, Family.PLACEMENT, Family.NEUTRON, Family.CINDER)
            ),
            ServiceAnswers("neutron", (Family.RABBIT, Family.KSAT, Family.LINUXBRIDGE)),
        )
    return tuple(
        _controller_service(name)
        for name in ("keystone", "glance", "placement", "nova", "neutron", "heat", "aodh")
    )


@dataclass(frozen=True)
class Site:
    """What a site file says, with defaults filled in.

    ``given`` holds the dotted keys the file set itself (``"rabbitmq.user"``);
    the others carry the toolkit's default.
    """

    region: str
    db_type: str
    db_host: str
    db_admin_user: str
    rabbit_host: str
    rabbit_user: str
    keystone_address: str
    keystone_proto: str
    keystone_admin_user: str
    keystone_admin_project: str
    keystone_admin_email: str
    controller_address: str
    controller_proto: str
    provider_interface: str
    password_store: str
    generate_passwords: bool
    password_length: int
    given: frozenset[str] = field(default_factory=frozenset)


# A host: a name, an IPv4 address or an IPv6 address (brackets are added
# where a URL needs them); a plain value: no spaces.
HOST_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")
PLAIN_RE = re.compile(r"\S+")
HOST = (HOST_RE, "a host name or an IP address (IPv6 without brackets)")
PLAIN = (PLAIN_RE, "a non-empty string without spaces")
# A Linux network interface's name (at most 15 characters).
INTERFACE = (re.compile(r"[A-Za-z0-9_.@-]{1,15}"), "a network interface's name, such as eth1")
# (table, key) -> (Site attribute, default or None when required, choices, what the value is)
SITE_KEYS: Mapping[tuple[str, str], tuple[str, str | None, tuple[str, ...], tuple[re.Pattern[str], str]]] = {
    ("site", "region"): ("region", DEFAULT_REGION, (), PLAIN),
    ("database", "type"): ("db_type", "mysql", tuple(DB_TYPE_ANSWERS), PLAIN),
    ("database", "host"): ("db_host", None, (), HOST),
    ("database", "admin_user"): ("db_admin_user", "root", (), PLAIN),
    ("rabbitmq", "host"): ("rabbit_host", None, (), HOST),
    ("rabbitmq", "user"): ("rabbit_user", "openstack", (), PLAIN),
    ("keystone", "address"): ("keystone_address", None, (), HOST),
    ("keystone", "proto"): ("keystone_proto", "http", PROTOCOLS, PLAIN),
    ("keystone", "admin_user"): ("keystone_admin_user", "admin", (), PLAIN),
    ("keystone", "admin_project"): ("keystone_admin_project", "admin", (), PLAIN),
    ("keystone", "admin_email"): ("keystone_admin_email", "root@localhost", (), PLAIN),
    ("controller", "address"): ("controller_address", None, (), HOST),
    ("controller", "proto"): ("controller_proto", "http", PROTOCOLS, PLAIN),
    # The interface of the provider network on every node (the linuxbridge agent's mapping).
    ("network", "provider_interface"): ("provider_interface", None, (), INTERFACE),
    ("passwords", "store"): ("password_store", None, (), PLAIN),
}
SITE_HINT = "see preseed/example-site.toml."
# Long enough for any password policy; a bound, so that a typo cannot ask for gigabytes.
MAX_PASSWORD_LENGTH = 4096


def load_site(path: str) -> Site:
    """Read and check a site file; every problem raises ConfigFileError naming the key."""
    try:
        text = fileio.read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigFileError(path, "is not UTF-8 text.", hint=SITE_HINT) from None
    top = tomltable.parse(text, path, hint=SITE_HINT)
    tables = {name: top.table(name) or Table(path, name, {}, hint=SITE_HINT) for name, _ in SITE_KEYS}
    sqlite = tables["database"].data.get("type") == "sqlite"
    values: dict[str, str] = {}
    given: set[str] = set()
    for (name, key), (attribute, default, choices, (pattern, means)) in SITE_KEYS.items():
        table = tables[name]
        if (name, key) == ("database", "host") and sqlite and not table.has(key):
            values[attribute] = ""  # a file on each node: no server to name
            continue
        if table.has(key):
            given.add(f"{name}.{key}")
        required = tomltable.REQUIRED if default is None else default
        values[attribute] = table.string(key, required, pattern, means, choices)
    passwords = tables["passwords"]
    generate = passwords.boolean("generate", False)
    length = passwords.integer("length", MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH, PASSWORD_LENGTH)
    assert length is not None
    passwords.done(hint="use store, generate and length; passwords go in the password store.")
    for table in tables.values():
        table.done()
    top.done(hint=f"use the tables {', '.join(sorted(tables))}.")
    store = os.path.join(os.path.dirname(os.path.abspath(path)), values.pop("password_store"))
    return Site(
        password_store=store,
        generate_passwords=generate,
        password_length=length,
        given=frozenset(given),
        **values,
    )


@dataclass(frozen=True)
class Answer:
    """One preseeded answer: ``owner question type value``, and whether it is marked seen."""

    owner: str
    question: str
    type: str
    value: str
    seen: bool = True

    def lines(self) -> list[str]:
        """The answer's lines in debconf-set-selections format."""
        if not preseedable(self.value):
            # The value is not quoted: it may be a password.
            raise InvalidValueError(
                f"The answer to {self.question} holds a line break or control character.",
                hint="a preseed line holds one answer: use printable characters only.",
            )
        lines = [f"{self.owner} {self.question} {self.type} {self.value}"]
        if not self.seen:
            lines.append(f"{self.owner} {self.question} seen false")
        return lines


class _PasswordNames(dict[str, str]):
    """A password mapping that records which passwords the answer builders ask for."""

    def __missing__(self, name: str) -> str:
        self[name] = ""
        return ""


def password_names(site: Site, role: Role) -> list[str]:
    """The passwords a role's preseed holds, by name in the password store.

    They are the ones the answer builders read: running them is the one
    place the rules (SQLite, a local database server, who creates service
    users) are written.
    """
    asked = _PasswordNames()
    role_answers(site, role, asked)
    return list(asked)


def read_store(path: str) -> dict[str, str]:
    """The password store's passwords, read as every secret file is (``secretfile``).

    A missing store is empty: ``generate = true`` starts one.
    """
    if not os.path.lexists(path):
        return {}
    text = secretfile.read_secret_file(path, whole=True)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # The parser's message may quote a line of the file: keep it out.
        del error
        raise ConfigFileError(path, "password store is not valid TOML.") from None
    bad = sorted(name for name, value in data.items() if not isinstance(value, str) or not value)
    if bad:
        raise ConfigFileError(path, f"password {bad[0]!r} must be a non-empty string.")
    # A newline would end the preseed line and start another answer.
    unfit = sorted(name for name, value in data.items() if not preseedable(value))
    if unfit:
        raise ConfigFileError(
            path,
            f"password {unfit[0]!r} holds a control character or line break, "
            "which a preseed line cannot hold.",
            hint="use printable characters only, or remove it and set generate = true in [passwords].",
        )
    return {name: str(value) for name, value in data.items()}


def preseedable(value: str) -> bool:
    """Whether ``value`` fits on one debconf-set-selections line as itself."""
    return not any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value)


def new_password(length: int = PASSWORD_LENGTH) -> str:
    """A random password of letters and digits (about 5.95 bits per character).

    Letters and digits only: such a password survives every format it goes
    through (debconf-set-selections lines, URLs, shells) unchanged.
    """
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def passwords_for(site: Site, names: Iterable[str]) -> dict[str, str]:
    """The passwords ``names``, taken from the store, generating the missing ones if allowed.

    New passwords are added to the store (written atomically, mode 0600)
    before they are used, so that every later run gives the same ones.
    """
    stored = read_store(site.password_store)
    missing = [name for name in names if name not in stored]
    not_generated = [name for name in missing if name in NEVER_GENERATED or not site.generate_passwords]
    if not_generated:
        raise ConfigFileError(
            site.password_store,
            f"password store has no password {not_generated[0]!r}.",
            hint=f'add a line {not_generated[0]} = "..." to it (mode 0600)'
            + ("" if site.generate_passwords else ", or set generate = true in [passwords] of the site file")
            + ".",
        )
    if missing:
        updated = {**stored, **{name: new_password(site.password_length) for name in missing}}
        _write_store(site.password_store, updated)
        stored = updated
    return stored


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = []
    for char in value:
        if char in ('"', "\\"):
            escaped.append("\\" + char)
        elif unicodedata.category(char) == "Cc":
            escaped.append(f"\\u{ord(char):04X}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else toml_string(name)


def _write_store(path: str, passwords: Mapping[str, str]) -> None:
    header = "# Passwords of the OpenStack site, kept by pkgos preseed generate. Mode 0600.\n"
    body = "".join(f"{_toml_key(name)} = {toml_string(value)}\n" for name, value in sorted(passwords.items()))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fileio.atomic_write(path, (header + body).encode(), new_file_mode=0o600)


def role_answers(site: Site, role: Role, passwords: Mapping[str, str]) -> list[Answer]:
    """Every answer of ``role``'s preseed, in a stable order.

    The values come from the site file and the passwords; the question
    names, their types and their order from the question table; the owning
    package and the prefix from the service's profile.
    """
    answers: list[Answer] = []
    for service in role_services(role):
        loaded = profile.load(service.profile)
        for family in service.families:
            for owner in owner_of(loaded, family):
                prefix = prefix_of(loaded, owner)
                values = _FAMILY_VALUES[family](site, service, prefix, passwords)
                for name in values:
                    by_name(family, name)  # a value for a question the table lacks is a bug
                answers += [
                    Answer(
                        owner,
                        question.full_name(prefix),
                        question.type,
                        *_answer(site, values[question.name]),
                    )
                    for question in of_family(family)
                    if question.name in values
                ]
    return answers


# An answer's value, and the site key it comes from when that key has a
# default (None: the value is the site's own or fixed by the role).
Value = tuple[str, str | None]


def _answer(site: Site, value: Value) -> tuple[str, bool]:
    """The value and whether it is marked seen: a default the site file did not give is not."""
    text, key = value
    return text, key is None or key in site.given


def _db_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    values: dict[str, Value] = {
        "configure_db": ("true", None),
        "db-type": (DB_TYPE_ANSWERS[site.db_type], "database.type"),
    }
    if site.db_type == "sqlite":
        # One file in /var/lib/<package>/: no server, user or password.
        return values
    values |= {
        "db-host": (site.db_host, None),
        "db-name": (prefix, None),
        "db-user": (prefix, None),
        "db-password": (passwords[f"{prefix}-db"], None),
        "db-admin-user": (site.db_admin_user, "database.admin_user"),
    }
    if site.db_host not in LOCAL_HOSTS:
        values["db-admin-password"] = (passwords["database-admin"], None)
    return values


def _rabbit_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    return {
        "configure_rabbit": ("true", None),
        "rabbit-host": (site.rabbit_host, None),
        "rabbit-userid": (site.rabbit_user, "rabbitmq.user"),
        "rabbit-password": (passwords["rabbitmq"], None),
    }


def keystone_url(site: Site) -> str:
    """Keystone's public URL, with brackets around an IPv6 address."""
    return f"{site.keystone_proto}://{format_host(site.keystone_address)}:{KEYSTONE_PORT}"


def _ksat_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    create = service.creates_service_user
    values: dict[str, Value] = {
        "configure_ksat": ("true", None),
        "ksat-public-url": (keystone_url(site), None),
        "ksat-region": (site.region, "site.region"),
        "ksat-create-service-user": ("true" if create else "false", None),
        "ksat-service-username": (prefix, None),
        "ksat-service-project-name": ("service", None),
        "ksat-service-password": (passwords[f"{prefix}-keystone"], None),
    }
    if create:
        values |= {
            "ksat-admin-username": (site.keystone_admin_user, "keystone.admin_user"),
            "ksat-admin-project-name": (site.keystone_admin_project, "keystone.admin_project"),
            "ksat-admin-password": (passwords["keystone-admin"], None),
        }
    return values


def _endpoint_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    return {
        "configure_api-endpoint": ("true", None),
        "api-keystone-address": (site.keystone_address, None),
        "api-keystone-proto": (site.keystone_proto, "keystone.proto"),
        "api-keystone-admin-username": (site.keystone_admin_user, "keystone.admin_user"),
        "api-keystone-admin-project-name": (site.keystone_admin_project, "keystone.admin_project"),
        "api-keystone-admin-password": (passwords["keystone-admin"], None),
        "api-endpoint-address": (site.controller_address, None),
        "api-endpoint-proto": (site.controller_proto, "controller.proto"),
        "api-endpoint-region-name": (site.region, "site.region"),
    }


def _keystone_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    admin = passwords["keystone-admin"]
    return {
        "create-admin-tenant": ("true", None),
        "admin-user": (site.keystone_admin_user, "keystone.admin_user"),
        "admin-email": (site.keystone_admin_email, "keystone.admin_email"),
        "admin-password": (admin, None),
        "admin-password-confirm": (admin, None),
        "admin-role-name": ("admin", None),
        "admin-tenant-name": (site.keystone_admin_project, "keystone.admin_project"),
        "register-endpoint": ("true", None),
        "endpoint-ip": (site.keystone_address, None),
        "endpoint-proto": (site.keystone_proto, "keystone.proto"),
        "region-name": (site.region, "site.region"),
    }


def _placement_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    return {
        "configure_placement": ("true", None),
        "placement_admin_tenant_name": ("service", None),
        "placement_admin_username": ("placement", None),
        "placement_admin_password": (passwords["placement-keystone"], None),
        "placement_os_region_name": (site.region, "site.region"),
    }


def _neutron_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    url = f"{site.controller_proto}://{format_host(site.controller_address)}:{NEUTRON_PORT}"
    return {
        "configure_neutron": ("true", None),
        "neutron_url": (url, None),
        "neutron_admin_tenant_name": ("service", None),
        "neutron_admin_username": ("neutron", None),
        "neutron_admin_password": (passwords["neutron-keystone"], None),
        "metadata_secret": (passwords["metadata-secret"], None),
    }


def _nova_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    return {
        "configure_nova": ("true", None),
        "nova_auth_url": (keystone_url(site), None),
        "nova_region": (site.region, "site.region"),
        "nova_service_project_name": ("service", None),
        "nova_service_username": ("nova", None),
        "nova_service_password": (passwords["nova-keystone"], None),
    }


def _no_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    """my-ip is each node's own: left to the default route's address."""
    return {}


def _metadata_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    return {
        "configure": ("true", None),
        # One secret for nova/metadata_secret and neutron-metadata/metadata_secret.
        "metadata_secret": (passwords["metadata-secret"], None),
        "nova_metadata_host": (site.controller_address, None),
    }


def _linuxbridge_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    # The VXLAN address is each node's own: left to the default route's address.
    return {
        "linuxbridge-physical-interface-mappings": (f"{PROVIDER_NETWORK}:{site.provider_interface}", None),
        "linuxbridge-enable-vxlan": ("true", None),
    }


def _cinder_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    return {"cinder_os_region_name": (site.region, "site.region")}


def _api_db_values(
    site: Site, service: ServiceAnswers, prefix: str, passwords: Mapping[str, str]
) -> dict[str, Value]:
    return {"configure_db": ("true", None)}


_FAMILY_VALUES = {
    Family.DB: _db_values,
    Family.RABBIT: _rabbit_values,
    Family.KSAT: _ksat_values,
    Family.ENDPOINT: _endpoint_values,
    Family.KEYSTONE: _keystone_values,
    Family.PLACEMENT: _placement_values,
    Family.NEUTRON: _neutron_values,
    Family.NOVA: _nova_values,
    Family.MY_IP: _no_values,
    Family.METADATA: _metadata_values,
    Family.LINUXBRIDGE: _linuxbridge_values,
    Family.API_DB: _api_db_values,
    Family.CINDER: _cinder_values,
}

ROLE_HEADER = "# pkgos-role: "


def render(role: Role, answers: Iterable[Answer]) -> str:
    """The preseed file's text: a header naming the role, then one answer per line."""
    lines = [
        f"# Preseed for an OpenStack {role} node, written by pkgos preseed generate.",
        "# It holds passwords: keep it mode 0600 and load it with debconf-set-selections.",
        ROLE_HEADER + role,
    ]
    for answer in answers:
        lines.extend(answer.lines())
    return "\n".join(lines) + "\n"


def required_questions(role: Role, db_types: Mapping[str, str] | None = None) -> list[str]:
    """The questions a preseed for ``role`` must answer (``questions.Need``).

    ``db_types`` maps a question prefix to its db-type answer: a service
    on SQLite needs no answer about a database server.
    """
    db_types = db_types or {}
    names = []
    for service in role_services(role):
        loaded = profile.load(service.profile)
        for family in service.families:
            for owner in owner_of(loaded, family):
                prefix = prefix_of(loaded, owner)
                sqlite = db_types.get(prefix) == "sqlite"
                names += [
                    question.full_name(prefix)
                    for question in of_family(family)
                    if question.need is Need.ALWAYS or (question.need is Need.SERVER and not sqlite)
                ]
    return list(dict.fromkeys(names))


def shared_groups() -> list[tuple[tuple[str, ...], str]]:
    """Each group of ``questions.SHARED`` as debconf names across the shipped profiles, with why."""
    groups = []
    for shared in SHARED:
        names = [
            by_name(family, question).full_name(prefix_of(loaded, owner))
            for family, question in shared.questions
            for loaded in map(profile.load, profile.shipped_profiles())
            for owner in owner_of(loaded, family)
        ]
        groups.append((tuple(dict.fromkeys(names)), shared.why))
    return groups


def disagreements(answered: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """``(first, other, why)`` for each answer of a shared group that differs from the group's first."""
    found = []
    for names, why in shared_groups():
        given = [name for name in names if name in answered]
        found += [(given[0], name, why) for name in given[1:] if answered[name] != answered[given[0]]]
    return found


def refuse_disagreeing(answers: Iterable[Answer]) -> None:
    """Refuse answers two packages must share that differ (never quoting them: they are secrets)."""
    for first, other, why in disagreements({answer.question: answer.value for answer in answers}):
        raise InvalidValueError(
            f"{first} and {other} would get different answers: {why}.",
            hint="both come from one password of the store (metadata-secret): give them the same value.",
        )


def generate(site_path: str, output_dir: str, roles: Iterable[Role] = tuple(Role)) -> list[Path]:
    """Write ``<role>.preseed`` (mode 0600) for each role into ``output_dir``; return the paths.

    Every problem of the site file or the password store is found before
    any file is written. A file whose content is unchanged is not rewritten.
    """
    site = load_site(site_path)
    roles = list(roles)
    names = list(dict.fromkeys(name for role in roles for name in password_names(site, role)))
    passwords = passwords_for(site, names)
    _refuse_database_passwords_urls_cannot_hold(site, names, passwords)
    # Every role's answers are checked together before the first file is written.
    answers = {role: role_answers(site, role, passwords) for role in roles}
    refuse_disagreeing(answer for role in roles for answer in answers[role])
    os.makedirs(output_dir, exist_ok=True)
    written = []
    for role in roles:
        path = Path(output_dir, f"{role}.preseed")
        _close_older_copy(path)
        text = render(role, answers[role])
        fileio.atomic_write(str(path), text.encode(), new_file_mode=0o600)
        written.append(path)
    return written


def _close_older_copy(path: Path) -> None:
    """Make an older copy of a preseed 0600 before it gets passwords (the rewrite keeps its mode).

    A link or a special file in its place is refused: passwords are never
    written through a path someone else may have pointed elsewhere.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    except OSError:
        fd = -1
    try:
        if fd < 0 or not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigFileError(
                str(path),
                "is a link or not a regular file: no preseed is written through it.",
                hint="remove it, or choose another --output-dir.",
            )
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        if fd >= 0:
            os.close(fd)


def _refuse_database_passwords_urls_cannot_hold(
    site: Site, names: Iterable[str], passwords: Mapping[str, str]
) -> None:
    """Refuse now, not at install time, a password its service cannot read in its URL.

    Keystone's migration (Debian 12) cannot read a connection URL with a
    ``%`` in it, so its profile refuses passwords that need percent-encoding.
    """
    for name in names:
        service = name.removesuffix("-db")
        if service != name and needs_encoding(passwords[name]) and not profile.load(service).percent_in_url:
            raise ConfigFileError(
                site.password_store,
                f"password {name!r} has characters that the database URL must percent-encode, "
                f"and {service}'s own tools cannot read a URL with a '%' in it.",
                hint="use only letters, digits and - . _ ~ in it, or remove it and set generate = true "
                "in [passwords] of the site file.",
            )


def parse_role(name: str) -> Role:
    """``name`` as a Role, or an InvalidValueError listing the roles."""
    try:
        return Role(name)
    except ValueError:
        raise InvalidValueError(
            f"Unknown role {name!r}.", hint=f"use one of: {', '.join(role.value for role in Role)}."
        ) from None
