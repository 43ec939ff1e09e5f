"""ServiceProfile: what one OpenStack service needs, declared once in TOML.

A profile says which system user the service runs as, which directories,
configuration files, group memberships, fixed settings and files of older
releases (moved aside or purged) each package of the service brings,
which databases it keeps in which config directive (and which cells),
whether it talks to the message queue and to Keystone, and what it
registers in the Keystone catalog. It is data: the maintainer
scripts turn it and the debconf answers into actions.

Profiles are validated when loaded; every problem names the file and the
key (``glance.toml: database[1].section: expected a string``), so a broken
profile fails the package build, not the user's install.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

from . import fileio, tomltable
from .errors import ConfigFileError
from .inifile import normalize_section
from .tomltable import REQUIRED, Table

NAME_RE = re.compile(r"[a-z][a-z0-9-]*")
# Debian's policy for package names, which debconf prefixes follow.
PACKAGE_RE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
# A file below /usr/share/<package>/, or a pattern of files (``*`` in its last part).
SOURCE_RE = re.compile(r"([A-Za-z0-9_.-]+/)*[A-Za-z0-9_.*-]+")
# A section or a key of an oslo.config file, as a setting names them.
SECTION_RE = re.compile(r"[A-Za-z0-9_:.-]+")
KEY_RE = re.compile(r"[A-Za-z0-9_.-]+")
# A Keystone role name: what Debian's and the services' policies use.
ROLE_RE = re.compile(r"[A-Za-z0-9_.:-]+")
# Directories a purge may delete: below these, and never one of them.
PURGEABLE_ROOTS = ("/var/lib", "/var/log", "/var/cache", "/etc")


class ProfileError(ConfigFileError):
    """A profile is missing, not TOML, or does not say what a service needs."""


PROFILE_HINT = "fix the profile (see docs/packaging.md)."


@dataclass(frozen=True)
class SystemUser:
    """The system account the service runs as (with a group of the same name)."""

    name: str
    home: str
    uid: int | None = None
    gid: int | None = None
    shell: str = "/usr/sbin/nologin"


@dataclass(frozen=True)
class Membership:
    """The service user joins ``group`` when ``package`` is configured.

    The group comes with what that package depends on (``libvirt`` from
    libvirt-daemon-system for nova-compute-qemu), so only its postinst can
    count on it.
    """

    group: str
    package: str


@dataclass(frozen=True)
class Leaving:
    """What the controller keeps of this host once ``package`` is purged, and what its operator runs.

    The purge prints ``text`` with ``{host}`` replaced by this host's name
    (the one nova and neutron know it by): the records are in the
    controller's databases, which a compute node has no credential for.
    """

    package: str
    text: str


@dataclass(frozen=True)
class Directory:
    """A directory of the service; ``purge`` removes it with its content on purge.

    ``package`` is the package whose postinst creates it and whose purge
    removes it; None for /etc, /var/lib and /var/log of the service, which
    every package of the service creates (as Debian's packages do) and the
    profile's own package purges.
    """

    path: str
    mode: int
    owner: str
    group: str
    purge: bool = False
    enforce_mode: bool = False
    package: str | None = None


@dataclass(frozen=True)
class ConfigFile:
    """A default configuration file ``package`` installs once from ``/usr/share/<package>/``.

    ``group`` None is the service's group. A ``source`` whose last part is
    a pattern (``metadefs/*.json``) stands for every file the package ships
    there that matches it: each is installed once into the directory
    ``target`` under its own name (Debian's glance-common loop over its
    metadata definitions), and the purge removes the files of ``target``
    that match.
    """

    source: str
    target: str
    package: str
    mode: int = 0o640
    owner: str = "root"
    group: str | None = None

    @property
    def is_pattern(self) -> bool:
        """Whether ``source`` names many files (``target`` is then their directory)."""
        return "*" in self.source

    @property
    def pattern(self) -> str:
        """The last part of ``source``: a file name, or the pattern the installed names match."""
        return posixpath.basename(self.source)


@dataclass(frozen=True)
class Setting:
    """A directive a profile fixes: ``package``'s postinst writes it in ``config``.

    The value is escaped for oslo.config (``$`` doubled) unless ``raw``,
    which keeps a ``$name`` reference one. With ``enforce`` the value is
    written on every configure, as Debian's scripts do (``flavor =
    keystone``); without it only when the directive is not set yet, so an
    administrator's value stays. A value the administrator is asked for is
    not a setting: it belongs to a debconf question.
    """

    package: str
    config: str
    section: str
    key: str
    value: str
    raw: bool = False
    enforce: bool = True


@dataclass(frozen=True)
class StateFile:
    """An empty file ``package``'s postinst makes exist, owned by ``owner``:``group``.

    For a log a command writes when the administrator runs it as root
    (``/var/log/nova/nova-manage.log``): made the service user's first, it
    stays writable by the service's own runs. An existing file gets the
    owner and mode on every configure, as Debian's ``chown`` does. The
    purge of ``package`` removes it.
    """

    path: str
    package: str
    owner: str
    group: str
    mode: int = 0o640


class LeftoverAction(StrEnum):
    """What configure does with a file an older version left."""

    KEEP = "keep"  # only the purge removes it
    REMOVE = "remove"
    RENAME = "rename"  # moved aside to rename_to, so the service no longer reads it


@dataclass(frozen=True)
class Leftover:
    """A file (or directory) of an older version of ``package`` that the package no longer ships.

    On configure it is kept, removed, or renamed to ``rename_to`` (nova's
    ``policy.json``, which oslo.policy would still read); the purge of
    ``package`` removes it and its renamed copy.
    """

    path: str
    package: str
    action: LeftoverAction = LeftoverAction.KEEP
    rename_to: str = ""


@dataclass(frozen=True)
class Cells:
    """The cells a multi-cell service (nova) keeps besides cell0, made after its migrations.

    Each cell takes its database and message-queue URLs from ``config``
    (``[database] connection``, ``[DEFAULT] transport_url``), so no password
    goes on a command line; ``command`` is the management program
    (``nova-manage``) with any arguments that come before ``cell_v2``.
    """

    names: tuple[str, ...]
    config: str
    command: tuple[str, ...]


@dataclass(frozen=True)
class Database:
    """One database of the service and where its connection URL goes.

    ``section``/``directive`` are empty for a database the service finds
    by itself (nova's cell0, recorded by nova-manage). ``percent_in_url``
    is False for a service whose tools cannot read a connection URL with a
    ``%`` in it (Debian 12's keystone-manage db_sync): its database user
    name and password must then need no percent-encoding.
    """

    name: str
    config: str
    section: str
    directive: str
    sync: tuple[tuple[str, ...], ...] = ()
    percent_in_url: bool = True


@dataclass(frozen=True)
class Messaging:
    """Config files that get ``[DEFAULT] transport_url``."""

    configs: tuple[str, ...]


@dataclass(frozen=True)
class Authtoken:
    """Config files that get a ``[keystone_authtoken]`` section."""

    configs: tuple[str, ...]
    section: str = "keystone_authtoken"
    # The service user's roles in its project (see docs/packaging.md for
    # why nova's, neutron's and placement's need admin under Debian 12's policies).
    roles: tuple[str, ...] = ("service",)


@dataclass(frozen=True)
class CatalogEntry:
    """A service in the Keystone catalog, registered by the ``package`` (an ``*-api``).

    ``prefix`` is the prefix of that package's debconf questions: the
    profile's, unless Debian gives the package its own (``heat-api-cfn``).
    """

    package: str
    prefix: str
    name: str
    type: str
    port: int
    path: str
    description: str


@dataclass(frozen=True)
class KeystoneBootstrap:
    """Keystone's own bootstrap, done by the keystone package's postinst.

    The admin account, region and identity endpoints come from the
    package's debconf answers (``keystone-manage bootstrap``). Then, once
    Keystone serves, the ``project`` service users live in and the
    ``roles`` every other service's postinst counts on are made; ``start``
    is the init script started, as Debian's postinst does. Where nothing
    serves Keystone yet, those steps go to a private Keystone loaded once
    from the ``wsgi-file`` of the service's ``uwsgi`` file, and ``start``
    comes after them (``keystone_private`` says why).
    """

    config: str
    project: str
    roles: tuple[str, ...]
    start: str
    uwsgi: str


# The roles Debian's keystone creates: its postinst's list, less the legacy
# KeystoneAdmin and KeystoneServiceAdmin, and Member, which differs only in
# case from bootstrap's member (MariaDB's default collation would clash them).
DEBIAN_KEYSTONE_ROLES = (
    "admin",
    "member",
    "reader",
    "service",
    "heat_stack_owner",
    "heat_stack_user",
    "ResellerAdmin",
    "rating",
    "owner",
    "k8s_admin",
    "k8s_developer",
    "k8s_viewer",
    "load-balancer_admin",
    "load-balancer_member",
)


@dataclass(frozen=True)
class Service:
    """An init script (and systemd unit) ``package``'s postinst enables and starts on every configure.

    For a package whose own logic does it rather than debhelper's blocks:
    Debian's keystone postinst runs ``systemctl enable``, ``update-rc.d
    defaults`` and ``invoke-rc.d start`` itself, after its keys are made.
    The shell-style generated postinst enables it before the ``pkgos`` line
    (invoke-rc.d starts no disabled service) and starts it after
    (``build/maintscripts.SERVICE_ENABLE``, ``SERVICE_START``).
    """

    name: str
    package: str


@dataclass(frozen=True)
class Asks:
    """``package`` asks the question family ``family`` under ``prefix`` and writes its answers
    (an asked-settings family of ``questions.ASKED_SETTINGS``) into ``config``."""

    family: str
    package: str
    config: str
    prefix: str


@dataclass(frozen=True)
class ServiceProfile:
    """Everything the maintainer scripts of one service need to know."""

    source: str
    name: str
    package: str
    prefix: str
    user: SystemUser
    directories: tuple[Directory, ...]
    configs: tuple[ConfigFile, ...]
    databases: tuple[Database, ...]
    messaging: Messaging | None
    authtoken: Authtoken | None
    catalog: tuple[CatalogEntry, ...]
    memberships: tuple[Membership, ...] = ()
    settings: tuple[Setting, ...] = ()
    cells: Cells | None = None
    bootstrap: KeystoneBootstrap | None = None
    asks: tuple[Asks, ...] = ()
    services: tuple[Service, ...] = ()
    files: tuple[StateFile, ...] = ()
    leftovers: tuple[Leftover, ...] = ()
    leavings: tuple[Leaving, ...] = ()

    def files_for(self, package: str) -> tuple[StateFile, ...]:
        """The state files ``package``'s postinst makes exist."""
        return tuple(entry for entry in self.files if entry.package == package)

    def leftovers_for(self, package: str) -> tuple[Leftover, ...]:
        """The leftovers of older versions ``package`` handles on configure and purge."""
        return tuple(entry for entry in self.leftovers if entry.package == package)

    def leavings_for(self, package: str) -> tuple[Leaving, ...]:
        """What ``package``'s purge tells the controller's operator."""
        return tuple(entry for entry in self.leavings if entry.package == package)

    def asks_for(self, package: str) -> tuple[Asks, ...]:
        """The asked-settings families ``package`` asks, in profile order."""
        return tuple(entry for entry in self.asks if entry.package == package)

    def catalog_for(self, package: str) -> tuple[CatalogEntry, ...]:
        """The catalog entries that ``package``'s scripts register."""
        return tuple(entry for entry in self.catalog if entry.package == package)

    def directories_for(self, package: str) -> tuple[Directory, ...]:
        """The directories ``package``'s postinst creates: the service's own and its package's."""
        return tuple(d for d in self.directories if d.package in (None, package))

    def purged_by(self, package: str) -> tuple[Directory, ...]:
        """The directories ``package``'s purge removes (or removes once empty)."""
        return tuple(d for d in self.directories if (d.package or self.package) == package)

    def configs_for(self, package: str) -> tuple[ConfigFile, ...]:
        """The default config files ``package`` installs."""
        return tuple(config for config in self.configs if config.package == package)

    def memberships_for(self, package: str) -> tuple[Membership, ...]:
        """The groups the service user joins when ``package`` is configured."""
        return tuple(m for m in self.memberships if m.package == package)

    def services_for(self, package: str) -> tuple[Service, ...]:
        """The services ``package``'s postinst enables and starts."""
        return tuple(service for service in self.services if service.package == package)

    def settings_for(self, package: str) -> tuple[Setting, ...]:
        """The settings ``package``'s postinst writes, in profile order."""
        return tuple(setting for setting in self.settings if setting.package == package)

    @property
    def packages(self) -> tuple[str, ...]:
        """Every package the profile names, the profile's own first."""
        named = [
            self.package,
            *(entry.package for entry in self.catalog),
            *(d.package for d in self.directories if d.package),
            *(config.package for config in self.configs),
            *(m.package for m in self.memberships),
            *(setting.package for setting in self.settings),
            *(entry.package for entry in self.asks),
            *(service.package for service in self.services),
            *(entry.package for entry in self.files),
            *(entry.package for entry in self.leftovers),
            *(entry.package for entry in self.leavings),
        ]
        return tuple(dict.fromkeys(named))

    @property
    def percent_in_url(self) -> bool:
        """False when a user name or password the URL would percent-encode must be refused."""
        return all(database.percent_in_url for database in self.databases)


def _user(top: Table, name: str) -> SystemUser:
    table = top.table("user") or Table(top.source, "user", {}, ProfileError, PROFILE_HINT)
    user = SystemUser(
        name=table.string("name", name, NAME_RE),
        home=table.path("home", f"/var/lib/{name}"),
        uid=table.integer("uid", 100, 65535, None),
        gid=table.integer("gid", 100, 65535, None),
        shell=table.path("shell", "/usr/sbin/nologin"),
    )
    table.done()
    return user


def _package(table: Table, default: str) -> str:
    return table.string("package", default, PACKAGE_RE)


def _memberships(top: Table, package: str) -> tuple[Membership, ...]:
    memberships = []
    for table in top.tables("membership"):
        memberships.append(Membership(table.string("group", pattern=NAME_RE), _package(table, package)))
        table.done()
    return tuple(memberships)


def _default_directories(name: str, user: str) -> list[Directory]:
    return [
        Directory(f"/etc/{name}", 0o750, "root", user),
        Directory(f"/var/lib/{name}", 0o750, user, user, purge=True),
        Directory(f"/var/log/{name}", 0o750, user, "adm", purge=True),
    ]


def _directories(top: Table, name: str, user: str, package: str) -> tuple[Directory, ...]:
    by_path = {directory.path: directory for directory in _default_directories(name, user)}
    for table in top.tables("directory"):
        path = table.path("path")
        default = by_path.get(path, Directory(path, 0o750, user, user, package=package))
        directory = Directory(
            path=path,
            mode=table.mode("mode", default.mode),
            owner=table.string("owner", default.owner, NAME_RE),
            group=table.string("group", default.group, NAME_RE),
            purge=table.boolean("purge", default.purge),
            enforce_mode=table.boolean("enforce_mode", False),
            package=_package(table, default.package) if default.package else None,
        )
        if directory.purge and not is_purgeable(path):
            raise table.fail("purge", f"{path} is not below one of {', '.join(PURGEABLE_ROOTS)}.")
        table.done()
        by_path[path] = directory
    return tuple(by_path.values())


def is_purgeable(path: str) -> bool:
    """True when ``path`` is strictly below a root a purge may delete from."""
    normal = posixpath.normpath(path)
    return normal == path and any(
        normal.startswith(root + "/") and len(normal) > len(root) + 1 for root in PURGEABLE_ROOTS
    )


def _configs(top: Table, name: str, package: str) -> tuple[ConfigFile, ...]:
    configs: list[ConfigFile] = []
    for table in top.tables("config"):
        source = table.string("source", pattern=SOURCE_RE)
        if any(part in (".", "..") for part in source.split("/")):
            raise table.fail("source", f"{source!r} leaves /usr/share/<package>/.")
        # A pattern's files go into a directory: /etc/<svc>/ and the pattern's folder.
        default = posixpath.dirname(f"/etc/{name}/{source}") if "*" in source else f"/etc/{name}/{source}"
        config = ConfigFile(
            source=source,
            target=table.path("target", default),
            package=_package(table, package),
            mode=table.mode("mode", 0o640),
            owner=table.string("owner", "root", NAME_RE),
            group=table.string("group", None, NAME_RE),
        )
        if any(other.target == config.target for other in configs):
            raise table.fail("target", f"{config.target} is installed twice.")
        table.done()
        configs.append(config)
    return tuple(configs)


def _single_files(configs: tuple[ConfigFile, ...]) -> tuple[ConfigFile, ...]:
    """The configs that are one file each (not a pattern of files)."""
    return tuple(config for config in configs if not config.is_pattern)


def _files(top: Table, user: str, package: str) -> tuple[StateFile, ...]:
    files = []
    for table in top.tables("file"):
        entry = StateFile(
            path=table.path("path"),
            package=_package(table, package),
            owner=table.string("owner", user, NAME_RE),
            group=table.string("group", user, NAME_RE),
            mode=table.mode("mode", 0o640),
        )
        if not is_purgeable(entry.path):
            raise table.fail("path", f"{entry.path} is not below one of {', '.join(PURGEABLE_ROOTS)}.")
        table.done()
        files.append(entry)
    return tuple(files)


def _leftovers(top: Table, package: str) -> tuple[Leftover, ...]:
    leftovers: list[Leftover] = []
    actions = ", ".join(action.value for action in LeftoverAction)
    for table in top.tables("leftover"):
        action = table.string("action", LeftoverAction.KEEP.value)
        if action not in {item.value for item in LeftoverAction}:
            raise table.fail("action", f"{action!r} is not one of {actions}.")
        entry = Leftover(
            path=table.path("path"),
            package=_package(table, package),
            action=LeftoverAction(action),
            rename_to=table.string("rename_to", ""),
        )
        if (entry.action is LeftoverAction.RENAME) != bool(entry.rename_to):
            raise table.fail("rename_to", 'is given with action = "rename", and only then.')
        for path in (entry.path, entry.rename_to):
            if path and not is_purgeable(path):
                raise table.fail("path", f"{path} is not below one of {', '.join(PURGEABLE_ROOTS)}.")
        if any(other.path == entry.path for other in leftovers):
            raise table.fail("path", f"{entry.path} is named twice.")
        table.done()
        leftovers.append(entry)
    return tuple(leftovers)


def _leavings(top: Table, package: str) -> tuple[Leaving, ...]:
    leavings = []
    for table in top.tables("leaving"):
        text = table.string("text")
        try:
            text.format(host="host")
        except (KeyError, IndexError, ValueError):
            raise table.fail(
                "text", "may name {host} and no other {field}; write {{ and }} for braces."
            ) from None
        # The same records whichever alternative package runs the service.
        for name in table.strings("packages", (_package(table, package),), PACKAGE_RE):
            leavings.append(Leaving(name, text))
        table.done()
    return tuple(leavings)


def _settings(top: Table, package: str, configs: tuple[ConfigFile, ...]) -> tuple[Setting, ...]:
    settings: list[Setting] = []
    default_config = configs[0].target if configs else REQUIRED
    for table in top.tables("setting"):
        setting = Setting(
            package=_package(table, package),
            config=table.path("config", default_config),
            section=table.string("section", pattern=SECTION_RE),
            key=table.string("key", pattern=KEY_RE),
            value=table.string("value"),
            raw=table.boolean("raw", False),
            enforce=table.boolean("enforce", True),
        )
        if "\n" in setting.value or "\r" in setting.value:
            raise table.fail("value", "contains a line break, which an oslo.config file cannot hold.")
        table.done()
        where = (setting.config, normalize_section(setting.section), setting.key)
        if any((s.config, normalize_section(s.section), s.key) == where for s in settings):
            raise table.fail("key", f"[{setting.section}] {setting.key} in {setting.config} is set twice.")
        settings.append(setting)
    return tuple(settings)


def _cells(top: Table, configs: tuple[ConfigFile, ...]) -> Cells | None:
    table = top.table("cells")
    if table is None:
        return None
    names = table.strings("names", pattern=re.compile(r"[A-Za-z0-9_-]{1,64}"))
    if not names:
        raise table.fail("names", "names no cell.")
    if "cell0" in names:
        raise table.fail("names", "cell0 is made by map_cell0 (a database of the profile), not here.")
    command = table.strings("command")
    if not command:
        raise table.fail("command", "is empty.")
    cells = Cells(names, table.path("config", configs[0].target if configs else REQUIRED), command)
    table.done()
    return cells


def _section_key(table: Table, key: str, default: str) -> str:
    return table.string(key, default, re.compile(r"[A-Za-z0-9_:.-]*"))


def _databases(top: Table, name: str, configs: tuple[ConfigFile, ...]) -> tuple[Database, ...]:
    databases = []
    default_config = configs[0].target if configs else ""
    for table in top.tables("database"):
        database = Database(
            name=table.string("name", name.replace("-", "_"), re.compile(r"[A-Za-z0-9_]{1,64}")),
            config=table.path("config", default_config or REQUIRED),
            section=_section_key(table, "section", "database"),
            directive=_section_key(table, "directive", "connection"),
            sync=_commands(table),
            percent_in_url=table.boolean("percent_in_url", True),
        )
        if bool(database.section) != bool(database.directive):
            raise table.fail("directive", "section and directive are both set or both empty.")
        table.done()
        databases.append(database)
    return tuple(databases)


def _commands(table: Table) -> tuple[tuple[str, ...], ...]:
    value: list[Any] = table.get("sync", list, "a list of commands", [])
    commands = []
    for index, command in enumerate(value, start=1):
        if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
            raise table.fail(f"sync[{index}]", f"expected a command as a list of strings, got {command!r}.")
        commands.append(tuple(command))
    return tuple(commands)


def _config_list(
    top: Table, key: str, configs: tuple[ConfigFile, ...]
) -> tuple[Table | None, tuple[str, ...]]:
    table = top.table(key)
    if table is None:
        return None, ()
    files = table.strings("configs", [config.target for config in configs])
    if not files:
        raise table.fail("configs", "names no config file.")
    for index, path in enumerate(files, start=1):
        if not path.startswith("/"):
            raise table.fail(f"configs[{index}]", f"{path!r} is not an absolute path.")
    return table, files


def _messaging(top: Table, configs: tuple[ConfigFile, ...]) -> Messaging | None:
    table, files = _config_list(top, "messaging", configs)
    if table is None:
        return None
    table.done()
    return Messaging(files)


def _authtoken(top: Table, configs: tuple[ConfigFile, ...]) -> Authtoken | None:
    table, files = _config_list(top, "keystone_authtoken", configs)
    if table is None:
        return None
    roles = table.strings("roles", ["service"], ROLE_RE)
    if not roles:
        raise table.fail("roles", "names no role; the service user needs one (service).")
    authtoken = Authtoken(files, _section_key(table, "section", "keystone_authtoken"), roles)
    table.done()
    return authtoken


def _catalog(top: Table, name: str, package: str, prefix: str) -> tuple[CatalogEntry, ...]:
    entries: list[CatalogEntry] = []
    for table in top.tables("catalog"):
        path = table.string("path", "")
        if path and not path.startswith("/"):
            raise table.fail("path", f"{path!r} must be empty or start with /.")
        entry_package = table.string("package", f"{name}-api", PACKAGE_RE)
        entry_prefix = table.string("prefix", prefix, PACKAGE_RE)
        # One package asks its questions under one prefix.
        others = {e.prefix for e in entries if e.package == entry_package}
        if (others and entry_prefix not in others) or (entry_package == package and entry_prefix != prefix):
            raise table.fail("prefix", f"{entry_package} would ask its questions under two prefixes.")
        entries.append(
            CatalogEntry(
                package=entry_package,
                prefix=entry_prefix,
                name=table.string("name", name, NAME_RE),
                type=table.string("type", pattern=re.compile(r"[a-z][a-z0-9-]*")),
                port=table.integer("port", 1, 65535) or 0,
                path=path,
                description=table.string("description"),
            )
        )
        table.done()
    return tuple(entries)


def _bootstrap(top: Table, configs: tuple[ConfigFile, ...]) -> KeystoneBootstrap | None:
    table = top.table("keystone_bootstrap")
    if table is None:
        return None
    bootstrap = KeystoneBootstrap(
        config=table.path("config", configs[0].target if configs else REQUIRED),
        project=table.string("project", "service", re.compile(r"[A-Za-z0-9_.-]{1,64}")),
        roles=table.strings("roles", list(DEBIAN_KEYSTONE_ROLES), pattern=ROLE_RE),
        start=table.string("start", "", re.compile(r"[a-z0-9][a-z0-9+.@-]*|")),
        uwsgi=table.path("uwsgi") if table.has("uwsgi") else "",
    )
    folded = [role.casefold() for role in bootstrap.roles]
    for index, role in enumerate(folded, start=1):
        # MariaDB's default collation compares role names without case: Member clashes with member.
        if folded.index(role) != index - 1:
            raise table.fail(
                f"roles[{index}]", f"{bootstrap.roles[index - 1]!r} is named twice (case aside)."
            )
    table.done()
    return bootstrap


def _services(top: Table, package: str) -> tuple[Service, ...]:
    services = []
    for table in top.tables("service"):
        services.append(Service(table.string("name", pattern=NAME_RE), _package(table, package)))
        table.done()
    return tuple(services)


def _asks(top: Table, profile: ServiceProfile) -> tuple[Asks, ...]:
    """The profile's [[asks]], checked against the rest of ``profile``."""
    # questions reads profiles: importing it at the top would be a cycle.
    from .questions import ASKED_SETTINGS, Family, directives_of, of_family  # noqa: PLC0415

    package, prefix, catalog = profile.package, profile.prefix, profile.catalog
    configs = _single_files(profile.configs)
    asks: list[Asks] = []
    for table in top.tables("asks"):
        family = table.string("family", choices=tuple(str(family) for family in ASKED_SETTINGS))
        asker = _package(table, package)
        own = [config.target for config in configs if config.package == asker]
        # One package asks under one prefix: its catalog entry's, the profile's for
        # the profile's own package, or the first [[asks]] of the package.
        fixed = [entry.prefix for entry in catalog if entry.package == asker]
        fixed += [prefix] if asker == package else [e.prefix for e in asks if e.package == asker]
        entry = Asks(
            family=family,
            package=asker,
            config=table.path("config", (own or [c.target for c in configs] or [REQUIRED])[0]),
            prefix=table.string("prefix", fixed[0] if fixed else prefix, PACKAGE_RE),
        )
        if fixed and entry.prefix != fixed[0]:
            raise table.fail("prefix", f"{asker} would ask its questions under two prefixes.")
        if any((e.package, e.family) == (asker, family) for e in asks):
            raise table.fail("family", f"{asker} asks {family} twice.")
        # Keystone's URL and region come from the ksat answers of the same package.
        derived = {d.family for d in ASKED_SETTINGS[Family(family)].derived}
        if Family.KSAT in derived and (asker != package or profile.authtoken is None):
            raise table.fail(
                "package",
                f"{family} takes Keystone's URL from the ksat questions, which {asker} does not ask.",
            )
        # Answers are read by name: two families of one package must not share one.
        names = {q.name for e in asks if e.package == asker for q in of_family(Family(e.family))}
        shared = sorted(names & {q.name for q in of_family(Family(family))})
        if shared:
            raise table.fail("family", f"{asker} would ask {entry.prefix}/{shared[0]} twice.")
        # A directive has one writer: a fixed setting and an answer would undo each other.
        written = {
            (entry.config, normalize_section(section), key) for section, key in directives_of(Family(family))
        }
        for setting in profile.settings:
            if (setting.config, normalize_section(setting.section), setting.key) in written:
                where = f"[{setting.section}] {setting.key} in {entry.config}"
                raise table.fail("family", f"{family} writes {where}, a [[setting]] too.")
        table.done()
        asks.append(entry)
    return tuple(asks)


def parse(text: str, source: str) -> ServiceProfile:
    """The profile in TOML ``text``; ``source`` names it in errors."""
    top = tomltable.parse(text, source, ProfileError, PROFILE_HINT)
    name = top.string("name", pattern=NAME_RE)
    user = _user(top, name)
    package = top.string("package", f"{name}-common", PACKAGE_RE)
    configs = _configs(top, name, package)
    # A file's directives go in a file: the defaults below are single config files.
    files = _single_files(configs)
    prefix = top.string("prefix", name, PACKAGE_RE)
    profile = ServiceProfile(
        source=source,
        name=name,
        package=package,
        prefix=prefix,
        user=user,
        directories=_directories(top, name, user.name, package),
        configs=configs,
        databases=_databases(top, name, files),
        messaging=_messaging(top, files),
        authtoken=_authtoken(top, files),
        catalog=_catalog(top, name, package, prefix),
        memberships=_memberships(top, package),
        settings=_settings(top, package, files),
        cells=_cells(top, files),
        bootstrap=_bootstrap(top, files),
        services=_services(top, package),
        files=_files(top, user.name, package),
        leftovers=_leftovers(top, package),
        leavings=_leavings(top, package),
    )
    profile = dataclasses.replace(profile, asks=_asks(top, profile))
    top.done()
    return profile


def shipped_profiles() -> list[str]:
    """The names of the profiles that come with the toolkit."""
    folder = resources.files(__package__).joinpath("profiles")
    return sorted(
        entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml")
    )


def load(name_or_path: str) -> ServiceProfile:
    """Load a shipped profile by name (``glance``) or any profile file by path."""
    return load_with_text(name_or_path)[0]


def load_with_text(name_or_path: str) -> tuple[ServiceProfile, str | None]:
    """``load()``, and the text of a profile file (None for a shipped profile), read once."""
    if "/" in name_or_path or name_or_path.endswith(".toml"):
        path = os.path.abspath(name_or_path)
        # A regular file only (a FIFO would hang the build), read the one way files are read.
        try:
            text = fileio.read_bytes(path).decode("utf-8")
        except UnicodeDecodeError:
            raise ProfileError(path, "is not UTF-8 text.", hint="check the path.") from None
        except ConfigFileError as error:
            problem = error.message.removeprefix(f"{path}: ")
            raise ProfileError(path, f"cannot be read: {problem}", hint=error.hint) from None
        return parse(text, path), text
    if name_or_path not in shipped_profiles():
        raise ProfileError(
            f"profiles/{name_or_path!r}.toml"
            if not NAME_RE.fullmatch(name_or_path)
            else f"profiles/{name_or_path}.toml",
            "no such shipped profile.",
            hint=f"use one of {', '.join(shipped_profiles())}, or give a profile file's path.",
        )
    resource = resources.files(__package__).joinpath("profiles", f"{name_or_path}.toml")
    return parse(resource.read_text(encoding="utf-8"), f"profiles/{name_or_path}.toml"), None
