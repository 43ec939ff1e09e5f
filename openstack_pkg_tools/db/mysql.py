"""MariaDB and MySQL, through pymysql (in-process: no password leaves it).

The administrator is root over the local unix socket by default (Debian's
server lets the system's root in without a password), or the login given
in ``AdminLogin``. Values travel as pymysql parameters; identifiers are
names that ``validate`` has restricted to letters, digits and underscores,
and are quoted with backticks anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .. import log
from ..errors import InvalidValueError
from ..urls import format_host
from . import AdminLogin, Change, DatabaseError, DatabaseSpec, Outcome, redact, validate

DEFAULT_SOCKET = "/run/mysqld/mysqld.sock"
CONNECT_TIMEOUT = 10
# pymysql's client-side error codes and the server's.
CANNOT_CONNECT = (2002, 2003, 2006, 2013)
ACCESS_DENIED = (1044, 1045, 1698)


def quote_name(name: str) -> str:
    """A MariaDB identifier in backticks."""
    return "`" + name.replace("`", "``") + "`"


def grant_pattern(database: str) -> str:
    """The database as a GRANT pattern: ``_`` and ``%`` are wildcards there.

    Without the escape, ``GRANT ... ON nova_api.*`` would also cover a
    database named ``novaXapi``.
    """
    return database.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")


def check_password(spec: DatabaseSpec) -> None:
    """Refuse a password pymysql cannot send (it encodes passwords in Latin-1)."""
    try:
        (spec.password or "").encode("latin-1")
    except UnicodeEncodeError:
        raise InvalidValueError(
            f"The password of database user {spec.user!r} has characters beyond Latin-1: "
            "pymysql, the driver OpenStack services use for MariaDB, cannot send them.",
            hint="choose a password of Latin-1 characters (ASCII is safest).",
        ) from None


class MysqlBackend:
    """Databases and accounts on a MariaDB or MySQL server."""

    def ensure(self, spec: DatabaseSpec) -> Outcome:
        """Create or update the database, accounts, password and grants; then log in."""
        validate(spec)
        check_password(spec)
        changes: list[Change] = []
        with _admin_cursor(spec) as cursor:
            if not _database_exists(cursor, spec.name):
                cursor.execute(
                    f"CREATE DATABASE IF NOT EXISTS {quote_name(spec.name)} "
                    "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
                )
                changes.append(Change.CREATED_DATABASE)
            for host in spec.client_hosts:
                changes += _ensure_account(cursor, spec, host)
                changes += _ensure_grant(cursor, spec, host)
        self.check(spec)
        return Outcome(tuple(dict.fromkeys(changes)))

    def drop(self, spec: DatabaseSpec) -> Outcome:
        """Drop the database and the user's accounts, if they exist."""
        validate(spec, password=False)
        changes = list(self.drop_database(spec).changes)
        with _admin_cursor(spec) as cursor:
            for host in spec.client_hosts:
                if _account_row(cursor, spec.user, host) is not None:
                    cursor.execute("DROP USER IF EXISTS %s@%s", (spec.user, host))
                    changes.append(Change.DROPPED_USER)
        return Outcome(tuple(dict.fromkeys(changes)))

    def drop_database(self, spec: DatabaseSpec) -> Outcome:
        """Drop the database; the accounts and their grants on it stay (MariaDB keeps them)."""
        validate(spec, password=False)
        with _admin_cursor(spec) as cursor:
            if not _database_exists(cursor, spec.name):
                return Outcome()
            cursor.execute(f"DROP DATABASE IF EXISTS {quote_name(spec.name)}")
        return Outcome((Change.DROPPED_DATABASE,))

    def check(self, spec: DatabaseSpec) -> None:
        """Log in as the service's user, over TCP as the service will, and use the database."""
        import pymysql  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415

        validate(spec)
        try:
            connection = pymysql.connect(
                host=spec.host,
                port=spec.port or 3306,
                user=spec.user,
                password=spec.password or "",
                database=spec.name,
                connect_timeout=CONNECT_TIMEOUT,
            )
        except pymysql.err.MySQLError as error:
            raise _error(error, spec, f"Database user {spec.user!r} cannot log in to {spec.where}") from None
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT 1")


@contextmanager
def _admin_cursor(spec: DatabaseSpec) -> Iterator[Any]:
    """A cursor of an administrator's connection (autocommit), closed at the end."""
    import pymysql  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415

    admin = spec.admin
    where = _admin_where(admin)
    try:
        connection = pymysql.connect(
            autocommit=True, connect_timeout=CONNECT_TIMEOUT, charset="utf8mb4", **_admin_options(admin)
        )
    except pymysql.err.MySQLError as error:
        raise _error(
            error,
            spec,
            f"Cannot set up database {spec.name!r}: no connection to the MariaDB server at {where} "
            f"as {admin.user or 'root'!r}",
        ) from None
    log.debug(f"connected to MariaDB at {where}")
    try:
        with connection, connection.cursor() as cursor:
            yield cursor
    except pymysql.err.MySQLError as error:
        raise _error(error, spec, f"Cannot set up database {spec.name!r} on {where}") from None


def _admin_options(admin: AdminLogin) -> dict[str, Any]:
    user = admin.user or "root"
    if admin.host is None:
        return {"unix_socket": admin.socket or DEFAULT_SOCKET, "user": user, "password": admin.password or ""}
    return {"host": admin.host, "port": admin.port or 3306, "user": user, "password": admin.password or ""}


def _admin_where(admin: AdminLogin) -> str:
    if admin.host is None:
        return admin.socket or DEFAULT_SOCKET
    return f"{format_host(admin.host)}:{admin.port or 3306}"


def _database_exists(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
    return cursor.fetchone() is not None


def _account_row(cursor: Any, user: str, host: str) -> tuple[str, str] | None:
    cursor.execute(
        "SELECT plugin, authentication_string FROM mysql.user WHERE User = %s AND Host = %s", (user, host)
    )
    row = cursor.fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def native_password_hash(password: str) -> str:
    """The ``mysql_native_password`` hash of ``password`` as pymysql sends it.

    pymysql (the driver of ``mysql+pymysql://`` URLs) sends a password as
    Latin-1 bytes, so the hash is computed from those bytes, here: the
    server never sees the password itself, not even in its query log.
    """
    stage1 = hashlib.sha1(password.encode("latin-1")).digest()  # noqa: S324 (MariaDB's format)
    return "*" + hashlib.sha1(stage1).hexdigest().upper()  # noqa: S324


def _ensure_account(cursor: Any, spec: DatabaseSpec, host: str) -> list[Change]:
    wanted = native_password_hash(spec.password or "")
    row = _account_row(cursor, spec.user, host)
    if row is None:
        cursor.execute(
            "CREATE USER %s@%s IDENTIFIED WITH mysql_native_password AS %s", (spec.user, host, wanted)
        )
        return [Change.CREATED_USER]
    if row == ("mysql_native_password", wanted):
        return []
    cursor.execute("ALTER USER %s@%s IDENTIFIED WITH mysql_native_password AS %s", (spec.user, host, wanted))
    return [Change.UPDATED_PASSWORD]


def _ensure_grant(cursor: Any, spec: DatabaseSpec, host: str) -> list[Change]:
    pattern = grant_pattern(spec.name)
    cursor.execute(
        "SELECT * FROM mysql.db WHERE Host = %s AND User = %s AND Db = %s", (host, spec.user, pattern)
    )
    row = cursor.fetchone()
    if row is not None:
        columns = [description[0] for description in cursor.description]
        granted = {name: value for name, value in zip(columns, row, strict=True) if name.endswith("_priv")}
        if all(value == "Y" for name, value in granted.items() if name != "Grant_priv"):
            return []
    cursor.execute(f"GRANT ALL PRIVILEGES ON {quote_name(pattern)}.* TO %s@%s", (spec.user, host))
    return [Change.GRANTED]


def _error(error: Exception, spec: DatabaseSpec, what: str) -> DatabaseError:
    """Our error for a pymysql error: the object, the server, the cause, a hint."""
    code = error.args[0] if error.args and isinstance(error.args[0], int) else None
    detail = redact(
        str(error.args[1]) if len(error.args) > 1 else str(error), spec.password, spec.admin.password
    )
    if code in CANNOT_CONNECT:
        return DatabaseError(
            f"{what}: the server does not answer ({detail}).",
            hint="start the database server, or check the host, port and socket.",
        )
    if code in ACCESS_DENIED:
        return DatabaseError(
            f"{what}: access denied ({detail}).",
            hint="check the administrator's user name and password, or run as root on the database host.",
        )
    return DatabaseError(f"{what}: error {code}: {detail}.")
