"""PostgreSQL, through psql run as ``postgres`` or an administrator's psycopg2 login.

On the database host, root reaches the server as ``postgres`` with
``runuser -u postgres -- psql``, the statements on psql's stdin (peer
authentication: no password needed). With an administrator's password
(``AdminLogin``), psycopg2 connects in-process, to a remote server too.
Either way the service's password never travels itself: the role gets a
SCRAM-SHA-256 verifier computed here, so not even the server's statement
log can show the password. Literals and identifiers are quoted here, the
SQL way (standard_conforming_strings is on since PostgreSQL 9.1).
"""

from __future__ import annotations

from typing import Any, Protocol

from .. import log
from ..errors import CommandError
from ..run import run
from . import Change, DatabaseError, DatabaseSpec, Outcome, redact, scram, validate

DEFAULT_SOCKET_DIR = "/var/run/postgresql"
CONNECT_TIMEOUT = 10


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A SQL identifier in double quotes (its case is kept)."""
    return '"' + name.replace('"', '""') + '"'


class _Session(Protocol):
    def values(self, sql: str) -> list[str]:
        """The first column of each row ``sql`` returns."""

    def execute(self, sql: str) -> None:
        """Run one statement."""


class _Psql:
    """``runuser -u postgres -- psql``, one run per call, SQL on stdin."""

    def __init__(self, spec: DatabaseSpec) -> None:
        admin = spec.admin
        self.spec = spec
        self.user = admin.user or "postgres"
        self.where = f"{admin.socket or DEFAULT_SOCKET_DIR}:{admin.port or 5432}"
        self.argv = ["runuser", "-u", self.user, "--", "psql", "-X", "-q", "-A", "-t"]
        self.argv += ["-v", "ON_ERROR_STOP=1", "-h", admin.socket or DEFAULT_SOCKET_DIR]
        self.argv += ["-p", str(admin.port or 5432), "-d", "postgres"]

    def values(self, sql: str) -> list[str]:
        return [line for line in self._run(sql).splitlines() if line]

    def execute(self, sql: str) -> None:
        self._run(sql)

    def _run(self, sql: str) -> str:
        try:
            return run(self.argv, stdin=sql + ";\n", timeout=60).stdout
        except CommandError as error:
            detail = redact(error.stderr.strip(), self.spec.password)
            raise DatabaseError(
                f"Cannot set up database {self.spec.name!r} as PostgreSQL user "
                f"{self.user!r} on {self.where}: {detail or error.message}",
                hint="start the PostgreSQL server, or give an administrator's login with --admin-user.",
            ) from None


class _Psycopg:
    """An administrator's psycopg2 connection (autocommit)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def values(self, sql: str) -> list[str]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            return [str(row[0]) for row in cursor.fetchall()]

    def execute(self, sql: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)


class PgsqlBackend:
    """Databases and roles on a PostgreSQL server."""

    def ensure(self, spec: DatabaseSpec) -> Outcome:
        """Create or update the role, its password and the database it owns; then log in."""
        validate(spec)
        session, close = _admin_session(spec)
        try:
            changes = _ensure_role(session, spec) + _ensure_database(session, spec)
        finally:
            close()
        self.check(spec)
        return Outcome(tuple(changes))

    def drop(self, spec: DatabaseSpec) -> Outcome:
        """Drop the database and the role, if they exist."""
        validate(spec, password=False)
        session, close = _admin_session(spec)
        changes: list[Change] = []
        try:
            changes += _drop_database(session, spec)
            if session.values(f"SELECT 1 FROM pg_roles WHERE rolname = {literal(spec.user)}"):  # noqa: S608 (literal() quotes)
                session.execute(f"DROP ROLE IF EXISTS {identifier(spec.user)}")
                changes.append(Change.DROPPED_USER)
        finally:
            close()
        return Outcome(tuple(changes))

    def drop_database(self, spec: DatabaseSpec) -> Outcome:
        """Drop the database; the role stays."""
        validate(spec, password=False)
        session, close = _admin_session(spec)
        try:
            return Outcome(tuple(_drop_database(session, spec)))
        finally:
            close()

    def check(self, spec: DatabaseSpec) -> None:
        """Log in as the service's role over TCP, as the service will."""
        import psycopg2  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415

        validate(spec)
        try:
            connection = psycopg2.connect(
                host=spec.host,
                port=spec.port or 5432,
                user=spec.user,
                password=spec.password,
                dbname=spec.name,
                connect_timeout=CONNECT_TIMEOUT,
            )
        except psycopg2.Error as error:
            raise _error(error, spec, f"Database user {spec.user!r} cannot log in to {spec.where}") from None
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            connection.close()


def _admin_session(spec: DatabaseSpec) -> tuple[_Session, Any]:
    """A session as administrator and the function that ends it."""
    admin = spec.admin
    if admin.password is None and admin.host is None:
        return _Psql(spec), lambda: None
    import psycopg2  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415

    host = admin.host or admin.socket or DEFAULT_SOCKET_DIR
    where = f"{host}:{admin.port or 5432}"
    try:
        connection = psycopg2.connect(
            host=host,
            port=admin.port or 5432,
            user=admin.user or "postgres",
            password=admin.password,
            dbname="postgres",
            connect_timeout=CONNECT_TIMEOUT,
        )
    except psycopg2.Error as error:
        raise _error(
            error, spec, f"Cannot connect to the PostgreSQL server at {where} as {admin.user or 'postgres'!r}"
        ) from None
    connection.autocommit = True
    log.debug(f"connected to PostgreSQL at {where}")
    return _Psycopg(connection), connection.close


def _ensure_role(session: _Session, spec: DatabaseSpec) -> list[Change]:
    password = spec.password or ""
    role = identifier(spec.user)
    stored = session.values(
        f"SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = {literal(spec.user)}"  # noqa: S608 (literal() quotes)
    )
    if not stored:
        session.execute(f"CREATE ROLE {role} LOGIN PASSWORD {literal(scram.verifier(password))}")
        return [Change.CREATED_USER]
    if scram.matches(stored[0], password):
        return []
    session.execute(f"ALTER ROLE {role} LOGIN PASSWORD {literal(scram.verifier(password))}")
    return [Change.UPDATED_PASSWORD]


def _ensure_database(session: _Session, spec: DatabaseSpec) -> list[Change]:
    owner = session.values(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = " + literal(spec.name)  # noqa: S608 (literal() quotes)
    )
    if not owner:
        session.execute(
            f"CREATE DATABASE {identifier(spec.name)} OWNER {identifier(spec.user)} "
            "ENCODING 'UTF8' TEMPLATE template0"
        )
        return [Change.CREATED_DATABASE]
    if owner[0] != spec.user:
        session.execute(f"ALTER DATABASE {identifier(spec.name)} OWNER TO {identifier(spec.user)}")
        return [Change.CHANGED_OWNER]
    return []


def _error(error: Exception, spec: DatabaseSpec, what: str) -> DatabaseError:
    """Our error for a psycopg2 error: the object, the server, the cause, a hint."""
    detail = redact(str(error).strip().replace("\n", " "), spec.password, spec.admin.password)
    if "password authentication failed" in detail or "no password supplied" in detail:
        hint = "check the user name and password."
    elif "Connection refused" in detail or "could not connect" in detail or "timeout expired" in detail:
        hint = "start the PostgreSQL server, or check the host and port."
    else:
        hint = "check the server's log for the cause."
    return DatabaseError(f"{what}: {detail}.", hint=hint)


def _drop_database(session: _Session, spec: DatabaseSpec) -> list[Change]:
    if not session.values(f"SELECT 1 FROM pg_database WHERE datname = {literal(spec.name)}"):  # noqa: S608 (literal() quotes)
        return []
    session.execute(f"DROP DATABASE IF EXISTS {identifier(spec.name)}")
    return [Change.DROPPED_DATABASE]
