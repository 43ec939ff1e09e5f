"""PostgreSQL: real cluster, adversarial passwords and names, idempotency, faults."""

from __future__ import annotations

from collections.abc import Callable

import psycopg2
import pytest

from openstack_pkg_tools.db import AdminLogin, Change, DatabaseError, DatabaseSpec, Engine, backend_for
from openstack_pkg_tools.errors import InvalidValueError
from tests.servers import free_port
from tests.servers.postgresql import PostgreSQL

from .corpus import PASSWORDS, WIDE_PASSWORDS, user_for
from .helpers import login, url_through_config

BACKEND = backend_for(Engine.PGSQL)
CORPUS = PASSWORDS + WIDE_PASSWORDS


def admin_login(server: PostgreSQL) -> AdminLogin:
    """As ``postgres`` with a password over TCP (psycopg2, in-process)."""
    return AdminLogin("postgres", server.admin_password, server.host, server.port)


def local_postgres(server: PostgreSQL) -> AdminLogin:
    """As the system user ``postgres`` over the socket (runuser + psql)."""
    return AdminLogin(socket=server.socket_dir, port=server.port)


def spec_on(server: PostgreSQL, admin: AdminLogin, name: str, user: str, password: str) -> DatabaseSpec:
    return DatabaseSpec(Engine.PGSQL, name, user, password, port=server.port, admin=admin)


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_any_password_and_user_name_logs_in_from_the_url_read_back(
    postgresql: PostgreSQL, workdir: str, index: int
) -> None:
    password = CORPUS[index]
    spec = spec_on(postgresql, admin_login(postgresql), f"pkgostest_c{index}", user_for(index), password)
    assert set(BACKEND.ensure(spec).changes) == {Change.CREATED_DATABASE, Change.CREATED_USER}
    url = url_through_config(workdir, spec.url())
    assert (url.user, url.password) == (spec.user, password)
    rows = login(
        url,
        "SELECT current_user, current_database(), pg_encoding_to_char(encoding) "
        "FROM pg_database WHERE datname = current_database()",
    )
    assert rows == [(spec.user, spec.name, "UTF8")]
    assert BACKEND.ensure(spec).changes == ()
    assert BACKEND.drop(spec).changes == (Change.DROPPED_DATABASE, Change.DROPPED_USER)


def test_local_runuser_psql_is_idempotent_and_updates_passwords(postgresql: PostgreSQL, workdir: str) -> None:
    local = local_postgres(postgresql)
    spec = spec_on(postgresql, local, "pkgostest_idem", "pkgostest idem'\"", "first ' password")
    assert set(BACKEND.ensure(spec).changes) == {Change.CREATED_DATABASE, Change.CREATED_USER}
    assert BACKEND.ensure(spec).changes == ()
    changed = spec_on(postgresql, local, "pkgostest_idem", spec.user, "second:p@ss/%41")
    assert BACKEND.ensure(changed).changes == (Change.UPDATED_PASSWORD,)
    assert BACKEND.ensure(changed).changes == ()
    assert login(url_through_config(workdir, changed.url()), "SELECT 1") == [(1,)]
    with pytest.raises(DatabaseError, match=r"cannot log in.*password authentication failed"):
        BACKEND.check(spec)
    assert BACKEND.drop(changed).changed
    assert BACKEND.drop(changed).changes == ()


def test_the_role_gets_a_scram_verifier_never_the_password(postgresql: PostgreSQL) -> None:
    password = "plain-text-never-stored"
    spec = spec_on(postgresql, admin_login(postgresql), "pkgostest_scram", "pkgostest_scram", password)
    BACKEND.ensure(spec)
    admin = postgresql.admin_connect()
    cursor = admin.cursor()
    cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'pkgostest_scram'")
    (stored,) = cursor.fetchone()
    admin.close()
    assert stored.startswith("SCRAM-SHA-256$4096:")
    assert password not in stored
    BACKEND.drop(spec)


def test_an_existing_database_gets_the_service_as_owner(postgresql: PostgreSQL) -> None:
    admin = postgresql.admin_connect()
    admin.cursor().execute("CREATE DATABASE pkgostest_owned")
    admin.close()
    spec = spec_on(postgresql, admin_login(postgresql), "pkgostest_owned", "pkgostest_owner", "pw")
    assert BACKEND.ensure(spec).changes == (Change.CREATED_USER, Change.CHANGED_OWNER)
    service = psycopg2.connect(
        host=spec.host, port=spec.port, user=spec.user, password="pw", dbname=spec.name
    )
    with service, service.cursor() as cursor:
        cursor.execute("CREATE TABLE t (i int)")  # the owner may create tables in public
    service.close()
    BACKEND.drop(spec)


def test_server_down_names_host_and_port() -> None:
    port = free_port()
    admin = AdminLogin("postgres", "admin-secret", "127.0.0.1", port)
    spec = DatabaseSpec(Engine.PGSQL, "pkgostest_down", "u", "secret-pw", admin=admin)
    with pytest.raises(DatabaseError, match=f"127.0.0.1:{port}") as error:
        BACKEND.ensure(spec)
    assert "start the PostgreSQL server" in str(error.value)
    assert "secret" not in str(error.value)


def test_wrong_admin_password_is_refused(postgresql: PostgreSQL) -> None:
    admin = AdminLogin("postgres", "wrong-admin-pw", postgresql.host, postgresql.port)
    spec = spec_on(postgresql, admin, "pkgostest_adm", "pkgostest_adm", "pw")
    with pytest.raises(DatabaseError, match="password authentication failed") as error:
        BACKEND.ensure(spec)
    assert "wrong-admin-pw" not in str(error.value)


@pytest.mark.parametrize(
    ("name", "user", "problem"),
    [
        ("x" * 64, "u", "longer than 63"),
        ("nova-api", "u", "only letters"),
        ('x"; DROP DATABASE postgres; --', "u", "only letters"),
        ("pkgostest_ok", "u" * 64, "1 to 63 bytes"),
        ("pkgostest_ok", "é" * 32, "1 to 63 bytes"),
    ],
)
def test_bad_names_are_refused_before_any_sql(name: str, user: str, problem: str) -> None:
    admin = AdminLogin("postgres", "pw", "127.0.0.1", free_port())
    with pytest.raises(InvalidValueError, match=problem):
        BACKEND.ensure(DatabaseSpec(Engine.PGSQL, name, user, "pw", admin=admin))


def test_our_verifiers_agree_with_the_servers_own(postgresql: PostgreSQL) -> None:
    """The server hashes these passwords itself; our SCRAM + SASLprep must recognise each."""
    from openstack_pkg_tools.db import scram
    from openstack_pkg_tools.db.pgsql import literal

    admin = postgresql.admin_connect()
    cursor = admin.cursor()
    cursor.execute("CREATE ROLE pkgostest_verify LOGIN")
    try:
        for password in [*WIDE_PASSWORDS, "I\u00adX", "\u00aa", "a\u00a0b", "\u0007bell", PASSWORDS[0]]:
            cursor.execute(f"ALTER ROLE pkgostest_verify PASSWORD {literal(password)}")
            cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'pkgostest_verify'")
            (stored,) = cursor.fetchone()
            assert scram.matches(stored, password), password
            assert not scram.matches(stored, password + "x")
    finally:
        cursor.execute("DROP ROLE pkgostest_verify")
        admin.close()


def test_local_server_down_names_the_socket_and_port(workdir: str) -> None:
    port = free_port()
    spec = DatabaseSpec(
        Engine.PGSQL, "pkgostest_down", "u", "secret-pw", admin=AdminLogin(socket=workdir, port=port)
    )
    with pytest.raises(DatabaseError, match=rf"as PostgreSQL user 'postgres' on {workdir}:{port}") as error:
        BACKEND.ensure(spec)
    assert "Hint: start the PostgreSQL server" in str(error.value) and "secret-pw" not in str(error.value)


@pytest.mark.parametrize("admin", [admin_login, local_postgres], ids=["psycopg2", "psql"])
def test_drop_database_keeps_the_role(
    postgresql: PostgreSQL, admin: Callable[[PostgreSQL], AdminLogin]
) -> None:
    spec = spec_on(postgresql, admin(postgresql), "pkgostest_keep", "pkgostest_keep", "pw")
    BACKEND.ensure(spec)
    assert BACKEND.drop_database(spec).changes == (Change.DROPPED_DATABASE,)
    assert BACKEND.drop_database(spec).changes == ()
    assert BACKEND.ensure(spec).changes == (Change.CREATED_DATABASE,)  # the role was kept
    BACKEND.drop(spec)
