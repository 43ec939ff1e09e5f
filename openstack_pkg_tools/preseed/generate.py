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
import secrets
import stat
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .. import fileio, profile
from ..errors import ConfigFileError, InvalidValueError
from ..questions import LOCAL_HOSTS
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


class Role(StrEnum):
    """The node roles a preseed is generated for."""

    ALL_IN_ONE = "all-in-one"
    CONTROLLER = "controller"
    COMPUTE = "compute"


class Family(StrEnum):
    """The families of shared questions a service package asks."""

    DB = "db"
    RABBIT = "rabbit"
    KSAT = "ksat"
    ENDPOINT = "endpoint"
    KEYSTONE = "keystone"


@dataclass(frozen=True)
class ServiceAnswers:
    """Which question families a service's packages answer on one role."""

    prefix: str
    owner: str
    families: tuple[Family, ...]
    # Only the controller creates service users; compute nodes reuse them
    # and so never need the Keystone administrator's password.
    creates_service_user: bool = False


def _api_service(name: str, *, rabbit: bool = True) -> ServiceAnswers:
    families: tuple[Family, ...] = (Family.DB, Family.RABBIT, Family.KSAT, Family.ENDPOINT)
    if not rabbit:
        families = (Family.DB, Family.KSAT, Family.ENDPOINT)
    return ServiceAnswers(name, f"{name}-common", families, creates_service_user=True)


CONTROLLER_SERVICES = (
    ServiceAnswers("keystone", "keystone", (Family.DB, Family.KEYSTONE)),
    _api_service("glance"),
    _api_service("placement", rabbit=False),
    _api_service("nova"),
    _api_service("neutron"),
    _api_service("heat"),
    _api_service("aodh"),
)
COMPUTE_SERVICES = (
    ServiceAnswers("nova", "nova-common", (Family.RABBIT, Family.KSAT)),
    ServiceAnswers("neutron", "neutron-common", (Family.RABBIT, Family.KSAT)),
)
# An all-in-one node runs the controller's services, which already answer
# every question the compute node's packages ask.
ROLES: Mapping[Role, tuple[ServiceAnswers, ...]] = {
    Role.ALL_IN_ONE: CONTROLLER_SERVICES,
    Role.CONTROLLER: CONTROLLER_SERVICES,
    Role.COMPUTE: COMPUTE_SERVICES,
}

# The answers a role cannot do without, per family: the switches, where the
# servers are, and the passwords every node of the site must share.
REQUIRED = {
    Family.DB: ("configure_db", "db-type", "db-host"),
    Family.RABBIT: ("configure_rabbit", "rabbit-host", "rabbit-userid", "rabbit-password"),
    Family.KSAT: ("configure_ksat", "ksat-public-url", "ksat-region", "ksat-service-password"),
    Family.ENDPOINT: (
        "configure_api-endpoint",
        "api-keystone-address",
        "api-keystone-admin-password",
        "api-endpoint-address",
        "api-endpoint-region-name",
    ),
    Family.KEYSTONE: ("admin-password", "admin-password-confirm", "region-name"),
}
REQUIRED_SQLITE_DB = ("configure_db", "db-type")


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
    password_store: str
    generate_passwords: bool
    password_length: int
    given: frozenset[str] = field(default_factory=frozenset)


# (table, key) -> (Site attribute, default or None when required, choices)
SITE_KEYS: Mapping[tuple[str, str], tuple[str, str | None, tuple[str, ...]]] = {
    ("site", "region"): ("region", "regionOne", ()),
    ("database", "type"): ("db_type", "mysql", tuple(DB_TYPE_ANSWERS)),
    ("database", "host"): ("db_host", None, ()),
    ("database", "admin_user"): ("db_admin_user", "root", ()),
    ("rabbitmq", "host"): ("rabbit_host", None, ()),
    ("rabbitmq", "user"): ("rabbit_user", "openstack", ()),
    ("keystone", "address"): ("keystone_address", None, ()),
    ("keystone", "proto"): ("keystone_proto", "http", ("http", "https")),
    ("keystone", "admin_user"): ("keystone_admin_user", "admin", ()),
    ("keystone", "admin_project"): ("keystone_admin_project", "admin", ()),
    ("keystone", "admin_email"): ("keystone_admin_email", "root@localhost", ()),
    ("controller", "address"): ("controller_address", None, ()),
    ("controller", "proto"): ("controller_proto", "http", ("http", "https")),
    ("passwords", "store"): ("password_store", None, ()),
}
PASSWORD_KEYS = {"store", "generate", "length"}


def load_site(path: str) -> Site:
    """Read and check a site file; every problem raises ConfigFileError naming the key."""
    try:
        data = tomllib.loads(fileio.read_bytes(path).decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigFileError(path, f"is not valid TOML: {error}.") from None
    _refuse_unknown(path, data)
    values: dict[str, str] = {}
    given: set[str] = set()
    for (table, key), (attribute, default, choices) in SITE_KEYS.items():
        raw = _table(path, data, table).get(key)
        if raw is None and (table, key) == ("database", "host") and _uses_sqlite(data):
            values[attribute] = ""  # a file on each node: no server to name
            continue
        if raw is None:
            if default is None:
                raise ConfigFileError(
                    path, f"[{table}] {key} is missing.", hint="see preseed/example-site.toml."
                )
            values[attribute] = default
            continue
        if not isinstance(raw, str) or not raw.strip() or any(c.isspace() for c in raw):
            raise ConfigFileError(path, f"[{table}] {key} must be a non-empty string without spaces.")
        if choices and raw not in choices:
            raise ConfigFileError(path, f"[{table}] {key} is {raw!r}, not one of {', '.join(choices)}.")
        values[attribute] = raw
        given.add(f"{table}.{key}")
    passwords = _table(path, data, "passwords")
    generate = passwords.get("generate", False)
    length = passwords.get("length", PASSWORD_LENGTH)
    if not isinstance(generate, bool):
        raise ConfigFileError(path, "[passwords] generate must be true or false.")
    if not isinstance(length, int) or isinstance(length, bool) or length < MIN_PASSWORD_LENGTH:
        raise ConfigFileError(
            path, f"[passwords] length must be a whole number of at least {MIN_PASSWORD_LENGTH}."
        )
    store = os.path.join(os.path.dirname(os.path.abspath(path)), values.pop("password_store"))
    return Site(
        password_store=store,
        generate_passwords=generate,
        password_length=length,
        given=frozenset(given),
        **values,
    )


def _uses_sqlite(data: Mapping[str, object]) -> bool:
    database = data.get("database")
    return isinstance(database, dict) and database.get("type") == "sqlite"


def _table(path: str, data: Mapping[str, object], name: str) -> Mapping[str, object]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigFileError(path, f"[{name}] must be a table.")
    return table


def _refuse_unknown(path: str, data: Mapping[str, object]) -> None:
    known: dict[str, set[str]] = {"passwords": set(PASSWORD_KEYS)}
    for table, key in SITE_KEYS:
        known.setdefault(table, set()).add(key)
    for table, content in data.items():
        if table not in known:
            raise ConfigFileError(path, f"unknown table [{table}].", hint=f"use: {', '.join(sorted(known))}.")
        keys = content if isinstance(content, dict) else {}
        for key in keys:
            if key not in known[table]:
                raise ConfigFileError(
                    path,
                    f"unknown key {key!r} in [{table}].",
                    hint=f"use: {', '.join(sorted(known[table]))}; passwords go in the password store.",
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
        lines = [f"{self.owner} {self.question} {self.type} {self.value}"]
        if not self.seen:
            lines.append(f"{self.owner} {self.question} seen false")
        return lines


def password_names(site: Site, role: Role) -> list[str]:
    """The passwords a role's preseed holds, by name in the password store."""
    names: list[str] = []
    for service in ROLES[role]:
        for family in service.families:
            names.extend(_family_passwords(site, service, family))
    return list(dict.fromkeys(names))


def _family_passwords(site: Site, service: ServiceAnswers, family: Family) -> list[str]:
    if family is Family.DB:
        if site.db_type == "sqlite":
            return []
        admin = [] if site.db_host in LOCAL_HOSTS else ["database-admin"]
        return [f"{service.prefix}-db", *admin]
    if family is Family.RABBIT:
        return ["rabbitmq"]
    if family is Family.KSAT:
        admin = ["keystone-admin"] if service.creates_service_user else []
        return [f"{service.prefix}-keystone", *admin]
    return ["keystone-admin"]


def read_store(path: str) -> dict[str, str]:
    """The password store's passwords; refuse a store others can read."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return {}
    if stat.S_IMODE(mode) & 0o077:
        raise ConfigFileError(
            path,
            f"password store has mode {stat.S_IMODE(mode):04o}: others can read it.",
            hint=f"chmod 600 {path}",
        )
    try:
        data = tomllib.loads(fileio.read_bytes(path).decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        # The parser's message may quote a line of the file: keep it out.
        del error
        raise ConfigFileError(path, "password store is not valid TOML.") from None
    bad = sorted(name for name, value in data.items() if not isinstance(value, str) or not value)
    if bad:
        raise ConfigFileError(path, f"password {bad[0]!r} must be a non-empty string.")
    return {name: str(value) for name, value in data.items()}


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


def _write_store(path: str, passwords: Mapping[str, str]) -> None:
    header = "# Passwords of the OpenStack site, kept by pkgos preseed generate. Mode 0600.\n"
    body = "".join(f'{name} = "{value}"\n' for name, value in sorted(passwords.items()))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fileio.atomic_write(path, (header + body).encode(), new_file_mode=0o600)


def role_answers(site: Site, role: Role, passwords: Mapping[str, str]) -> list[Answer]:
    """Every answer of ``role``'s preseed, in a stable order."""
    answers: list[Answer] = []
    for service in ROLES[role]:
        for family in service.families:
            answers.extend(_FAMILY_ANSWERS[family](site, service, passwords))
    return answers


def _seen(site: Site, key: str) -> bool:
    return key in site.given


def _db_answers(site: Site, service: ServiceAnswers, passwords: Mapping[str, str]) -> list[Answer]:
    p, o = service.prefix, service.owner
    db_type = Answer(o, f"{p}/db-type", "select", DB_TYPE_ANSWERS[site.db_type], _seen(site, "database.type"))
    if site.db_type == "sqlite":
        # One file in /var/lib/<package>/: no server, user or password.
        return [Answer(o, f"{p}/configure_db", "boolean", "true"), db_type]
    answers = [
        Answer(o, f"{p}/configure_db", "boolean", "true"),
        db_type,
        Answer(o, f"{p}/db-host", "string", site.db_host),
        Answer(o, f"{p}/db-name", "string", p),
        Answer(o, f"{p}/db-user", "string", p),
        Answer(o, f"{p}/db-password", "password", passwords[f"{p}-db"]),
        Answer(o, f"{p}/db-admin-user", "string", site.db_admin_user, _seen(site, "database.admin_user")),
    ]
    if site.db_host not in LOCAL_HOSTS:
        answers.append(Answer(o, f"{p}/db-admin-password", "password", passwords["database-admin"]))
    return answers


def _rabbit_answers(site: Site, service: ServiceAnswers, passwords: Mapping[str, str]) -> list[Answer]:
    p, o = service.prefix, service.owner
    return [
        Answer(o, f"{p}/configure_rabbit", "boolean", "true"),
        Answer(o, f"{p}/rabbit-host", "string", site.rabbit_host),
        Answer(o, f"{p}/rabbit-userid", "string", site.rabbit_user, _seen(site, "rabbitmq.user")),
        Answer(o, f"{p}/rabbit-password", "password", passwords["rabbitmq"]),
    ]


def keystone_url(site: Site) -> str:
    """Keystone's public URL, with brackets around an IPv6 address."""
    return f"{site.keystone_proto}://{format_host(site.keystone_address)}:{KEYSTONE_PORT}"


def _ksat_answers(site: Site, service: ServiceAnswers, passwords: Mapping[str, str]) -> list[Answer]:
    p, o = service.prefix, service.owner
    create = service.creates_service_user
    answers = [
        Answer(o, f"{p}/configure_ksat", "boolean", "true"),
        Answer(o, f"{p}/ksat-public-url", "string", keystone_url(site)),
        Answer(o, f"{p}/ksat-region", "string", site.region, _seen(site, "site.region")),
        Answer(o, f"{p}/ksat-create-service-user", "boolean", "true" if create else "false"),
        Answer(o, f"{p}/ksat-service-username", "string", p),
        Answer(o, f"{p}/ksat-service-project-name", "string", "service"),
        Answer(o, f"{p}/ksat-service-password", "password", passwords[f"{p}-keystone"]),
    ]
    if create:
        answers[4:4] = [
            Answer(
                o,
                f"{p}/ksat-admin-username",
                "string",
                site.keystone_admin_user,
                _seen(site, "keystone.admin_user"),
            ),
            Answer(
                o,
                f"{p}/ksat-admin-project-name",
                "string",
                site.keystone_admin_project,
                _seen(site, "keystone.admin_project"),
            ),
            Answer(o, f"{p}/ksat-admin-password", "password", passwords["keystone-admin"]),
        ]
    return answers


def _endpoint_answers(site: Site, service: ServiceAnswers, passwords: Mapping[str, str]) -> list[Answer]:
    p, o = service.prefix, f"{service.prefix}-api"
    return [
        Answer(o, f"{p}/configure_api-endpoint", "boolean", "true"),
        Answer(o, f"{p}/api-keystone-address", "string", site.keystone_address),
        Answer(o, f"{p}/api-keystone-proto", "select", site.keystone_proto, _seen(site, "keystone.proto")),
        Answer(
            o,
            f"{p}/api-keystone-admin-username",
            "string",
            site.keystone_admin_user,
            _seen(site, "keystone.admin_user"),
        ),
        Answer(
            o,
            f"{p}/api-keystone-admin-project-name",
            "string",
            site.keystone_admin_project,
            _seen(site, "keystone.admin_project"),
        ),
        Answer(o, f"{p}/api-keystone-admin-password", "password", passwords["keystone-admin"]),
        Answer(o, f"{p}/api-endpoint-address", "string", site.controller_address),
        Answer(
            o, f"{p}/api-endpoint-proto", "select", site.controller_proto, _seen(site, "controller.proto")
        ),
        Answer(o, f"{p}/api-endpoint-region-name", "string", site.region, _seen(site, "site.region")),
    ]


def _keystone_answers(site: Site, service: ServiceAnswers, passwords: Mapping[str, str]) -> list[Answer]:
    p, o = service.prefix, service.owner
    admin = passwords["keystone-admin"]
    return [
        Answer(o, f"{p}/create-admin-tenant", "boolean", "true"),
        Answer(o, f"{p}/admin-user", "string", site.keystone_admin_user, _seen(site, "keystone.admin_user")),
        Answer(
            o, f"{p}/admin-email", "string", site.keystone_admin_email, _seen(site, "keystone.admin_email")
        ),
        Answer(o, f"{p}/admin-password", "password", admin),
        Answer(o, f"{p}/admin-password-confirm", "password", admin),
        Answer(o, f"{p}/admin-role-name", "string", "admin"),
        Answer(
            o,
            f"{p}/admin-tenant-name",
            "string",
            site.keystone_admin_project,
            _seen(site, "keystone.admin_project"),
        ),
        Answer(o, f"{p}/register-endpoint", "boolean", "true"),
        Answer(o, f"{p}/endpoint-ip", "string", site.keystone_address),
        Answer(o, f"{p}/endpoint-proto", "select", site.keystone_proto, _seen(site, "keystone.proto")),
        Answer(o, f"{p}/region-name", "string", site.region, _seen(site, "site.region")),
    ]


_FAMILY_ANSWERS = {
    Family.DB: _db_answers,
    Family.RABBIT: _rabbit_answers,
    Family.KSAT: _ksat_answers,
    Family.ENDPOINT: _endpoint_answers,
    Family.KEYSTONE: _keystone_answers,
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
    """The questions a preseed for ``role`` must answer.

    ``db_types`` maps a question prefix to its db-type answer: a service
    on SQLite needs no answer about a database server.
    """
    db_types = db_types or {}
    return list(
        dict.fromkeys(
            f"{service.prefix}/{name}"
            for service in ROLES[role]
            for family in service.families
            for name in _required_of(family, db_types.get(service.prefix))
        )
    )


def _required_of(family: Family, db_type: str | None) -> tuple[str, ...]:
    if family is Family.DB and db_type == "sqlite":
        return REQUIRED_SQLITE_DB
    return REQUIRED[family]


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
    os.makedirs(output_dir, exist_ok=True)
    written = []
    for role in roles:
        path = Path(output_dir, f"{role}.preseed")
        if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            # An older copy is readable by others: close it before it gets
            # passwords, since the rewrite keeps the file's mode.
            path.chmod(0o600)
        text = render(role, role_answers(site, role, passwords))
        fileio.atomic_write(str(path), text.encode(), new_file_mode=0o600)
        written.append(path)
    return written


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
