"""The maintainer script phases of a service, driven by its profile.

A package's scripts are one call each (see docs/packaging.md)::

    #!/usr/bin/python3
    from openstack_pkg_tools.maintscript import main
    main("glance")

``config`` asks the debconf questions of the families the running package
needs (db, rabbit, ksat for the ``-common`` package, endpoint for the
``*-api`` one), seeded from the current config files so that
``dpkg-reconfigure`` shows what is in effect. ``postinst configure`` checks
every answer first (plans), then creates the user, directories and default
config files and applies the plans whose ``configure_*`` answer is yes;
admin passwords are forgotten afterwards. ``postrm purge`` drops the
database if the administrator agreed, and removes config files and the
service's state and log directories.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from . import log, system
from .debconf import Debconf, Priority, ensure_frontend
from .errors import InvalidValueError, PkgosError
from .inifile import IniFile
from .profile import CatalogEntry, Database, ServiceProfile, load


class Phase(StrEnum):
    """The maintainer scripts a profile drives."""

    CONFIG = "config"
    POSTINST = "postinst"
    PRERM = "prerm"
    POSTRM = "postrm"


class Family(StrEnum):
    """The shared template families (see ``pkgos merge-templates``)."""

    DB = "db"
    RABBIT = "rabbit"
    KSAT = "ksat"
    ENDPOINT = "endpoint"


@dataclass(frozen=True)
class Question:
    """One question of a family: its name after ``<prefix>/``, its priority, and when it applies."""

    name: str
    priority: Priority = Priority.MEDIUM
    only_if: Condition | None = None


class Condition(StrEnum):
    """Earlier answers a question depends on."""

    REMOTE_DB = "remote-db"  # the database server is not this machine
    CREATES_USER = "creates-user"  # postinst creates the service user in Keystone


LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")


def holds(condition: Condition, answer: Callable[[str], str]) -> bool:
    """Whether ``condition`` holds, given the answers so far (by name without prefix)."""
    if condition is Condition.REMOTE_DB:
        return answer("db-type") != "sqlite" and answer("db-host").strip() not in LOCAL_HOSTS
    return answer("ksat-create-service-user") == "true"


# The yes/no question that opens each family; the others are asked only after a yes.
SWITCHES = {
    Family.DB: "configure_db",
    Family.RABBIT: "configure_rabbit",
    Family.KSAT: "configure_ksat",
    Family.ENDPOINT: "configure_api-endpoint",
}

DETAILS: Mapping[Family, tuple[Question, ...]] = {
    Family.DB: (
        Question("db-type", Priority.HIGH),
        Question("db-host", Priority.HIGH),
        Question("db-name"),
        Question("db-user"),
        Question("db-password", Priority.HIGH),
        Question("db-admin-user", Priority.MEDIUM, Condition.REMOTE_DB),
        Question("db-admin-password", Priority.HIGH, Condition.REMOTE_DB),
    ),
    Family.RABBIT: (
        Question("rabbit-host", Priority.HIGH),
        Question("rabbit-userid", Priority.HIGH),
        Question("rabbit-password", Priority.HIGH),
    ),
    Family.KSAT: (
        Question("ksat-public-url", Priority.HIGH),
        Question("ksat-region"),
        Question("ksat-service-username"),
        Question("ksat-service-project-name"),
        Question("ksat-service-password", Priority.HIGH),
        Question("ksat-create-service-user"),
        Question("ksat-admin-username", Priority.MEDIUM, Condition.CREATES_USER),
        Question("ksat-admin-project-name", Priority.MEDIUM, Condition.CREATES_USER),
        Question("ksat-admin-password", Priority.HIGH, Condition.CREATES_USER),
    ),
    Family.ENDPOINT: (
        Question("api-keystone-address", Priority.HIGH),
        Question("api-keystone-proto"),
        Question("api-keystone-admin-username", Priority.LOW),
        Question("api-keystone-admin-project-name", Priority.LOW),
        Question("api-keystone-admin-password", Priority.HIGH),
        Question("api-endpoint-address", Priority.HIGH),
        Question("api-endpoint-proto"),
        Question("api-endpoint-region-name"),
        Question("api-endpoint-public-url", Priority.LOW),
        Question("api-endpoint-internal-url", Priority.LOW),
        Question("api-endpoint-admin-url", Priority.LOW),
    ),
}

# Used once by postinst, then wiped from the debconf database.
VOLATILE_SECRETS = ("db-admin-password", "ksat-admin-password", "api-keystone-admin-password")
PURGE_DB = "purge-db"
REGION_RE = re.compile(r"^[_a-zA-Z0-9][_.a-zA-Z0-9-]*[_.a-zA-Z0-9]$")
PROTOCOLS = ("http", "https")
DB_ENGINES = ("mysql", "pgsql", "sqlite")  # the values of urls.Engine
# SQLAlchemy dialects as config files spell them, to the db-type answer.
ENGINE_OF_DIALECT = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgresql": "pgsql",
    "postgres": "pgsql",
    "sqlite": "sqlite",
}


def families(profile: ServiceProfile, package: str) -> tuple[Family, ...]:
    """The question families ``package``'s scripts handle."""
    common = package == profile.package
    wanted = [
        (Family.DB, common and bool(profile.databases)),
        (Family.RABBIT, common and profile.messaging is not None),
        (Family.KSAT, common and profile.authtoken is not None),
        (Family.ENDPOINT, bool(profile.catalog_for(package))),
    ]
    return tuple(family for family, needed in wanted if needed)


# -- seeding the questions from the current config ---------------------------

Reader = Callable[[str, str, str], str | None]


def read_config(path: str, section: str, key: str) -> str | None:
    """A directive's value, or None when the file or the directive is absent."""
    if not os.path.exists(path):
        return None
    return IniFile(path).get(section, key)


def _url_seeds(url: str, host: str, user: str, password: str) -> dict[str, str]:
    parts = urlsplit(url)
    seeds = {
        host: parts.hostname or "",
        user: unquote(parts.username or ""),
        password: unquote(parts.password or ""),
    }
    return {key: value for key, value in seeds.items() if value}


def _db_seeds(profile: ServiceProfile, read: Reader) -> dict[str, str]:
    database = profile.databases[0]
    url = read(database.config, database.section, database.directive) if database.section else None
    if not url or "://" not in url:
        return {}
    engine = ENGINE_OF_DIALECT.get(url.split(":", 1)[0].split("+", 1)[0])
    if engine is None:
        return {}
    seeds = {"db-type": engine}
    if engine == "sqlite":
        return seeds
    seeds |= _url_seeds(url, "db-host", "db-user", "db-password")
    name = urlsplit(url).path.lstrip("/")
    if name:
        seeds["db-name"] = unquote(name)
    return seeds


def _rabbit_seeds(profile: ServiceProfile, read: Reader) -> dict[str, str]:
    assert profile.messaging is not None
    url = read(profile.messaging.configs[0], "DEFAULT", "transport_url")
    if not url or not url.startswith("rabbit://"):
        return {}
    # Several brokers are comma-separated: the first one is what we ask about.
    first = url.split(",", 1)[0]
    return _url_seeds(first, "rabbit-host", "rabbit-userid", "rabbit-password")


# Current directive first, then the legacy names the reference wrote.
KSAT_SEEDS = {
    "ksat-public-url": ("www_authenticate_uri", "auth_uri", "auth_url"),
    "ksat-region": ("region_name",),
    "ksat-service-username": ("username", "admin_user"),
    "ksat-service-project-name": ("project_name", "admin_tenant_name"),
    "ksat-service-password": ("password", "admin_password"),
}


def _ksat_seeds(profile: ServiceProfile, read: Reader) -> dict[str, str]:
    assert profile.authtoken is not None
    path, section = profile.authtoken.configs[0], profile.authtoken.section
    seeds = {}
    for question, keys in KSAT_SEEDS.items():
        value = next((v for v in (read(path, section, key) for key in keys) if v), None)
        if value:
            seeds[question] = value
    return seeds


def seeds(profile: ServiceProfile, package: str, read: Reader = read_config) -> dict[str, str]:
    """Answers taken from the current config files, by question name (no prefix)."""
    found: dict[str, str] = {}
    wanted = families(profile, package)
    if Family.DB in wanted:
        found |= _db_seeds(profile, read)
    if Family.RABBIT in wanted:
        found |= _rabbit_seeds(profile, read)
    if Family.KSAT in wanted:
        found |= _ksat_seeds(profile, read)
    return found


# -- config --------------------------------------------------------------------


def config(conf: Debconf, profile: ServiceProfile, package: str, read: Reader = read_config) -> None:
    """Ask the questions; safe to run twice (apt-utils preconfigures, then postinst runs it again)."""
    prefix = profile.prefix
    for name, value in seeds(profile, package, read).items():
        if conf.get(f"{prefix}/{name}") != value:
            conf.set(f"{prefix}/{name}", value)
    for family in families(profile, package):
        switch = f"{prefix}/{SWITCHES[family]}"
        conf.ask(switch, Priority.HIGH)
        conf.go()
        if conf.get_bool(switch):
            _ask_details(conf, prefix, DETAILS[family])


def _ask_details(conf: Debconf, prefix: str, questions: Sequence[Question]) -> None:
    """Ask a family's questions; one that depends on earlier answers waits for them."""
    for question in questions:
        if question.only_if is not None:
            conf.go()
            if not holds(question.only_if, lambda name: conf.get(f"{prefix}/{name}")):
                continue
        conf.ask(f"{prefix}/{question.name}", question.priority)
    conf.go()


# -- postinst: plans -------------------------------------------------------------

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
class EndpointURLs:
    """One URL per catalog interface."""

    public: str
    internal: str
    admin: str


@dataclass(frozen=True)
class CatalogPlan:
    """Services and endpoints to register in Keystone."""

    keystone_url: str
    admin_username: str
    admin_project_name: str
    admin_password: str
    region: str
    services: tuple[tuple[CatalogEntry, EndpointURLs], ...]


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
    databases = (Database(name, first.config, first.section, first.directive, first.sync), *others)
    remote = engine != "sqlite"
    return DatabasePlan(
        engine=engine,
        host=_required(answers, "db-host", prefix) if remote else "",
        user=_required(answers, "db-user", prefix) if remote else "",
        password=answers.get("db-password", ""),
        admin_user=answers.get("db-admin-user", "") or "root",
        admin_password=answers.get("db-admin-password", ""),
        databases=databases,
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
    value = _required(answers, question, prefix)
    if urlsplit(value).scheme not in PROTOCOLS or not urlsplit(value).hostname:
        raise InvalidValueError(
            f"{prefix}/{question} is {value!r}, not an http:// or https:// URL.",
            hint=f"answer it again: debconf-set-selections {prefix}/{question}.",
        )
    return value


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
    if not REGION_RE.match(value):
        raise InvalidValueError(
            f"{prefix}/{question} is {value!r}, not a region name.",
            hint="use letters, digits, _ . and -, not starting or ending with -.",
        )
    return value


def url_host(address: str) -> str:
    """``address`` as the host part of a URL (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def default_route_address() -> str:
    """This machine's address on the default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing decision only
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def endpoint_urls(entry: CatalogEntry, answers: Answers, address: str, prefix: str) -> EndpointURLs:
    """The three endpoint URLs: answered ones win, the rest built from address and port."""
    proto = _choice(answers, "api-endpoint-proto", PROTOCOLS, prefix)
    built = f"{proto}://{url_host(address)}:{entry.port}{entry.path}"
    public = answers.get("api-endpoint-public-url", "") or built
    return EndpointURLs(
        public=public,
        internal=answers.get("api-endpoint-internal-url", "") or public,
        admin=answers.get("api-endpoint-admin-url", "") or public,
    )


def catalog_plan(profile: ServiceProfile, package: str, answers: Answers) -> CatalogPlan:
    """What to register in Keystone for ``package`` from the endpoint answers."""
    prefix = profile.prefix
    proto = _choice(answers, "api-keystone-proto", PROTOCOLS, prefix)
    keystone = url_host(_required(answers, "api-keystone-address", prefix))
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


def answers(conf: Debconf, profile: ServiceProfile, package: str) -> dict[str, str]:
    """The current answers of ``package``'s families, by question name without prefix."""
    names = []
    for family in families(profile, package):
        names.append(SWITCHES[family])
        names.extend(question.name for question in DETAILS[family])
    return {name: conf.get(f"{profile.prefix}/{name}") for name in names}


# -- postinst: apply ---------------------------------------------------------------


def install_files(profile: ServiceProfile, package: str) -> list[str]:
    """User, group, directories and default configs; what was done, for the summary."""
    done = []
    if system.ensure_user(profile.user):
        done.append(f"created system user {profile.user.name}")
    for directory in profile.directories:
        if system.ensure_directory(directory):
            done.append(
                f"created {directory.path} ({directory.mode:04o} {directory.owner}:{directory.group})"
            )
    if package == profile.package:
        for config in profile.configs:
            if system.install_config(config, package, profile.user.name):
                done.append(f"installed {config.target}")
    return done


def apply_plans(planned: Plans) -> list[str]:
    """Apply the database, message queue, authtoken and catalog plans.

    These steps belong to the database and Keystone layers; they are
    reported, not applied, until those layers are part of the toolkit.
    """
    pending = [
        ("database", planned.database),
        ("transport_url", planned.transport),
        ("keystone_authtoken", planned.authtoken),
        ("Keystone catalog", planned.catalog),
    ]
    for what, plan in pending:
        if plan is not None:
            log.warning(f"{what}: configuration requested but not applied by this version.")
    return []


def forget_secrets(conf: Debconf, profile: ServiceProfile) -> None:
    """Wipe the admin passwords and turn the one-shot switches off."""
    for question in VOLATILE_SECRETS:
        conf.forget(f"{profile.prefix}/{question}")
    for switch in SWITCHES.values():
        conf.set_bool(f"{profile.prefix}/{switch}", False)


def postinst(conf: Debconf, profile: ServiceProfile, package: str) -> list[str]:
    """Configure the service; return the summary of what was done."""
    try:
        planned = plans(profile, package, answers(conf, profile, package))
        done = install_files(profile, package)
        done += apply_plans(planned)
    finally:
        forget_secrets(conf, profile)
    return done


# -- postrm ------------------------------------------------------------------------


def purge(conf: Debconf | None, profile: ServiceProfile, package: str) -> list[str]:
    """Remove what postinst created (the system user stays, as Debian's policy asks)."""
    done = []
    if conf is not None and package == profile.package and profile.databases:
        question = f"{profile.prefix}/{PURGE_DB}"
        conf.ask(question, Priority.HIGH)
        conf.go()
        if conf.get_bool(question):
            log.warning("database: removal requested but not applied by this version.")
    if package == profile.package:
        for config in profile.configs:
            if system.remove_file(config.target):
                done.append(f"removed {config.target}")
    for directory in profile.directories:
        # A directory that is not purged whole (/etc/<svc>) goes only once empty.
        removed = (
            system.remove_tree(directory.path)
            if directory.purge
            else package == profile.package and system.remove_empty_directory(directory.path)
        )
        if removed:
            done.append(f"removed {directory.path}")
    return done


# -- entry point -------------------------------------------------------------------


# debconf's preconfigure step runs a copy of config named
# /var/cache/debconf/tmp.ci/<package>.config.XXXXXX; multi-arch packages add :<arch>.
SCRIPT_NAME_RE = re.compile(
    r"^(?P<package>[a-z0-9][a-z0-9+.-]+?)(?::[a-z0-9-]+)?\.(?P<phase>config|postinst|prerm|postrm)(?:\.\w+)?$"
)


def script_identity(script: str) -> tuple[str, Phase]:
    """The package and phase of a maintainer script, from its file name (dpkg's environment first)."""
    match = SCRIPT_NAME_RE.match(os.path.basename(script))
    if match is None:
        raise InvalidValueError(
            f"Cannot tell the package and phase of maintainer script {script}.",
            hint="name it <package>.<config|postinst|prerm|postrm>, or pass the phase explicitly.",
        )
    package = os.environ.get("DPKG_MAINTSCRIPT_PACKAGE") or match.group("package")
    return package, Phase(match.group("phase"))


def talks_to_debconf(phase: Phase, args: Sequence[str]) -> bool:
    """True for the phases and dpkg actions that do something (config, postinst configure, postrm purge)."""
    action = args[0] if args else ""
    return (
        phase is Phase.CONFIG
        or (phase is Phase.POSTINST and action == "configure")
        or (phase is Phase.POSTRM and action == "purge")
    )


def run_phase(conf: Debconf, phase: Phase, profile: ServiceProfile, package: str) -> list[str]:
    """Run one phase that talks to debconf; return the summary of what was done."""
    if phase is Phase.CONFIG:
        config(conf, profile, package)
        return []
    if phase is Phase.POSTINST:
        return postinst(conf, profile, package)
    done = purge(conf, profile, package)
    conf.purge()
    return done


def main(
    profile: str, phase: str | None = None, argv: Sequence[str] | None = None, script: str | None = None
) -> None:
    """Entry point of a maintainer script: return on success, exit 1 with one message on error.

    The package and, unless given, the phase come from the script's name
    (``glance-common.postinst``); ``argv`` defaults to ``sys.argv``.
    """
    argv = list(sys.argv if argv is None else argv)
    script = script or argv[0]
    try:
        package, named_phase = script_identity(script)
        chosen = Phase(phase) if phase else named_phase
        loaded = load(profile)
        if not talks_to_debconf(chosen, argv[1:]):
            return
        ensure_frontend(argv, script)
        conf = Debconf.open()
        try:
            done = run_phase(conf, chosen, loaded, package)
        finally:
            conf.stop()
    except PkgosError as error:
        log.info(f"error: {error}")
        sys.exit(1)
    for line in done:
        log.info(line)
    if chosen is Phase.POSTINST and not done:
        log.info("already set up: nothing changed.")
