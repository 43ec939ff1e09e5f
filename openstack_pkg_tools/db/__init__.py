"""Databases for OpenStack services: one backend per engine, one protocol.

``ensure(spec)`` makes the database, its user, the user's password and its
grants match ``spec`` and then logs in as that user to prove it works;
``drop(spec)`` removes what ``ensure`` created; ``check(spec)`` only logs
in. Each step is idempotent: a second ``ensure`` changes nothing and says
so. Every name is checked before the first statement runs, identifiers and
passwords are quoted by the backend (never pasted into SQL as they are),
and passwords stay in this process or on a child's stdin.

Usage::

    spec = DatabaseSpec(Engine.MYSQL, "glance", "glance", password)
    outcome = backend_for(spec.engine).ensure(spec)
    spec.url()   # the URL to write into [database] connection
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import InvalidValueError, PkgosError, redact
from ..urls import DatabaseUrl, Engine, check_host, check_port, format_host

__all__ = [
    "AdminLogin",
    "Backend",
    "Change",
    "DatabaseError",
    "DatabaseSpec",
    "Engine",
    "Outcome",
    "backend_for",
    "redact",
    "validate",
]

# Longest names each engine accepts (MariaDB: 64 characters for a database
# and 128 for a user; PostgreSQL: 63 bytes for any identifier).
NAME_LIMITS = {Engine.MYSQL: 64, Engine.PGSQL: 63, Engine.SQLITE: 64}
USER_LIMITS = {Engine.MYSQL: 128, Engine.PGSQL: 63, Engine.SQLITE: 32}
DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SYSTEM_USER = re.compile(r"[a-z_][a-z0-9_-]*")
# The servers' own databases and accounts: 'db drop --name mysql' must not
# drop MariaDB's grant tables, nor 'db ensure --user root' reset root's password.
RESERVED_DATABASES = frozenset(
    {"mysql", "information_schema", "performance_schema", "sys", "postgres", "template0", "template1"}
)
RESERVED_USERS = frozenset({"root", "mysql", "mariadb.sys", "postgres", "public", "debian-sys-maint"})


class DatabaseError(PkgosError):
    """A database server refused, failed or could not be reached."""


class Change(enum.StrEnum):
    """What ``ensure`` or ``drop`` changed."""

    CREATED_DATABASE = "created database"
    CREATED_USER = "created user"
    UPDATED_PASSWORD = "updated password"  # noqa: S105 (a label, not a secret)
    GRANTED = "granted privileges"
    CHANGED_OWNER = "changed owner"
    CHANGED_MODE = "changed mode"
    DROPPED_DATABASE = "dropped database"
    DROPPED_USER = "dropped user"


@dataclass(frozen=True)
class AdminLogin:
    """How to log in as a database administrator.

    Left empty, each backend uses the local server's default: root over the
    unix socket for MariaDB, ``runuser -u postgres psql`` for PostgreSQL.
    ``socket`` is the unix socket (MariaDB) or its directory (PostgreSQL).
    """

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int | None = None
    socket: str | None = None


@dataclass(frozen=True)
class DatabaseSpec:
    """The database one service needs.

    ``host``/``port`` are where the service connects (they go into the URL);
    ``client_hosts`` are the hosts MariaDB accounts are created for;
    ``admin`` says how to reach the server to create things. For SQLite,
    ``user`` is the system user that owns the file, stored in
    ``sqlite_dir`` (default ``/var/lib/<name>``) as ``<name>.sqlite``.
    """

    engine: Engine
    name: str
    user: str
    password: str | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int | None = None
    client_hosts: tuple[str, ...] = ("localhost", "%")
    admin: AdminLogin = AdminLogin()
    sqlite_dir: str | None = None

    @property
    def sqlite_path(self) -> str:
        """The SQLite file: ``/var/lib/<name>/<name>.sqlite`` unless told otherwise."""
        directory = self.sqlite_dir or f"/var/lib/{self.name}"
        return f"{directory.rstrip('/')}/{self.name}.sqlite"

    @property
    def where(self) -> str:
        """The server as a message names it: ``127.0.0.1:3306``."""
        if self.engine is Engine.SQLITE:
            return self.sqlite_path
        return f"{format_host(self.host)}:{self.port or self.engine.default_port}"

    def url(self) -> DatabaseUrl:
        """The connection URL the service uses."""
        if self.engine is Engine.SQLITE:
            return DatabaseUrl(Engine.SQLITE, self.sqlite_path)
        return DatabaseUrl.for_engine(
            self.engine, self.name, user=self.user, password=self.password, host=self.host, port=self.port
        )


@dataclass(frozen=True)
class Outcome:
    """What one ``ensure`` or ``drop`` did."""

    changes: tuple[Change, ...] = ()

    @property
    def changed(self) -> bool:
        """True when anything was created, updated or removed."""
        return bool(self.changes)


class Backend(Protocol):
    """What every engine's backend does."""

    def ensure(self, spec: DatabaseSpec) -> Outcome:
        """Create or update the database, user, password and grants; then log in."""

    def drop(self, spec: DatabaseSpec) -> Outcome:
        """Remove the database and its user (what ``ensure`` created)."""

    def drop_database(self, spec: DatabaseSpec) -> Outcome:
        """Remove the database alone: its user, and the user's grants, stay."""

    def check(self, spec: DatabaseSpec) -> None:
        """Log in as the service's user; raise DatabaseError if that fails."""


def backend_for(engine: Engine) -> Backend:
    """The backend of ``engine`` (its driver is imported only now)."""
    if engine is Engine.MYSQL:
        from .mysql import MysqlBackend  # noqa: PLC0415 (the driver loads only when needed)

        return MysqlBackend()
    if engine is Engine.PGSQL:
        from .pgsql import PgsqlBackend  # noqa: PLC0415 (the driver loads only when needed)

        return PgsqlBackend()
    from .sqlite import SqliteBackend  # noqa: PLC0415 (the driver loads only when needed)

    return SqliteBackend()


def validate(spec: DatabaseSpec, *, password: bool = True) -> None:
    """Refuse a spec no engine could use, before any statement runs.

    ``password=False`` skips the password (dropping needs none).
    """
    engine = spec.engine
    if not DATABASE_NAME.fullmatch(spec.name):
        raise InvalidValueError(
            f"Invalid database name {spec.name!r}: only letters, digits and underscores are allowed, "
            "starting with a letter or an underscore.",
            hint="use the service's name, e.g. glance or nova_api.",
        )
    if len(spec.name.encode()) > NAME_LIMITS[engine]:
        raise InvalidValueError(
            f"Database name {spec.name!r} is longer than {NAME_LIMITS[engine]} characters, "
            f"the limit of {engine}.",
            hint="choose a shorter name.",
        )
    if engine is not Engine.SQLITE and spec.name.lower() in RESERVED_DATABASES:
        raise InvalidValueError(
            f"Refusing the database name {spec.name!r}: it is the database server's own.",
            hint="use the service's name, e.g. glance or nova_api.",
        )
    _validate_user(spec)
    _validate_servers(spec)
    if engine is not Engine.SQLITE:
        if password:
            _validate_password(spec)
        for host in spec.client_hosts:
            if not host or len(host) > 255 or _has_control(host):
                raise InvalidValueError(
                    f"Invalid client host {host!r} for database user {spec.user!r}.",
                    hint="give a host name, an IP address, or % for any host.",
                )


def _validate_servers(spec: DatabaseSpec) -> None:
    """The hosts and ports the service and the administrator connect to; SQLite's directory."""
    if spec.engine is Engine.SQLITE:
        directory = spec.sqlite_dir
        if directory is not None and (not directory.startswith("/") or not directory.isprintable()):
            # The path goes into [database] connection, which holds no line break.
            raise InvalidValueError(
                f"Invalid SQLite directory {directory!r}: it must be an absolute path without "
                "control characters.",
                hint="e.g. /var/lib/glance.",
            )
        return
    check_host(spec.host, "database")
    check_port(spec.port, "database")
    if spec.admin.host is not None:
        check_host(spec.admin.host, "database administration")
    check_port(spec.admin.port, "database administration")


def _validate_user(spec: DatabaseSpec) -> None:
    limit = USER_LIMITS[spec.engine]
    size = len(spec.user.encode()) if spec.engine is Engine.PGSQL else len(spec.user)
    if not spec.user or size > limit or _has_control(spec.user):
        raise InvalidValueError(
            f"Invalid database user name {spec.user!r} for {spec.engine}: it must be 1 to {limit} "
            f"{'bytes' if spec.engine is Engine.PGSQL else 'characters'} without control characters.",
            hint="choose a shorter user name, e.g. the service's name.",
        )
    if spec.engine is not Engine.SQLITE and (
        spec.user.lower() in RESERVED_USERS or spec.user.lower().startswith("pg_")
    ):
        raise InvalidValueError(
            f"Refusing the database user name {spec.user!r}: it is the database server's own account.",
            hint="use the service's name, e.g. glance.",
        )
    if spec.engine is Engine.MYSQL and any(ord(char) > 0xFFFF for char in spec.user):
        # MariaDB keeps user names in utf8mb3, which has no 4-byte characters.
        raise InvalidValueError(
            f"Invalid database user name {spec.user!r}: MariaDB cannot store characters beyond U+FFFF "
            "(such as emoji) in a user name.",
            hint="choose a user name without them.",
        )
    if spec.engine is Engine.SQLITE and not SYSTEM_USER.fullmatch(spec.user):
        raise InvalidValueError(
            f"Invalid system user {spec.user!r} to own the SQLite file.",
            hint="give the service's system user, e.g. glance.",
        )


def _validate_password(spec: DatabaseSpec) -> None:
    if not spec.password:
        raise InvalidValueError(
            f"No password given for database user {spec.user!r}.",
            hint="pass the password on stdin or in a 0600 file.",
        )
    if "\0" in spec.password:
        raise InvalidValueError(
            f"The password of database user {spec.user!r} contains a NUL character.",
            hint="choose a password without NUL.",
        )


def _has_control(text: str) -> bool:
    return any(ord(char) < 32 or ord(char) == 127 for char in text)
