"""MariaDB: real server, adversarial passwords and names, idempotency, faults."""

from __future__ import annotations

import pytest

from openstack_pkg_tools.db import AdminLogin, Change, DatabaseError, DatabaseSpec, Engine, backend_for
from openstack_pkg_tools.errors import InvalidValueError
from tests.servers import free_port
from tests.servers.mariadb import MariaDB

from .corpus import PASSWORDS, WIDE_PASSWORDS, user_for
from .helpers import login, url_through_config

BACKEND = backend_for(Engine.MYSQL)


def spec_on(server: MariaDB, name: str, user: str, password: str, **options: object) -> DatabaseSpec:
    return DatabaseSpec(
        Engine.MYSQL,
        name,
        user,
        password,
        port=server.port,
        admin=AdminLogin(socket=server.socket),
        **options,
    )  # type: ignore[arg-type]


def test_corpus_has_at_least_60_entries() -> None:
    assert len(PASSWORDS) >= 60


@pytest.mark.parametrize("index", range(len(PASSWORDS)))
def test_any_password_and_user_name_logs_in_from_the_url_read_back(
    mariadb: MariaDB, workdir: str, index: int
) -> None:
    password = PASSWORDS[index]
    spec = spec_on(mariadb, f"pkgostest_c{index}", user_for(index), password)
    outcome = BACKEND.ensure(spec)
    assert set(outcome.changes) == {Change.CREATED_DATABASE, Change.CREATED_USER, Change.GRANTED}
    url = url_through_config(workdir, spec.url())
    assert url.password == password
    assert url.user == spec.user
    rows = login(url, "SELECT CURRENT_USER(), DATABASE(), @@character_set_database")
    assert rows == [(f"{spec.user}@%", spec.name, "utf8mb4")]
    assert BACKEND.drop(spec).changes == (Change.DROPPED_DATABASE, Change.DROPPED_USER)


def test_no_password_reaches_the_server(mariadb: MariaDB) -> None:
    password = "N0t-In-The-Log-" + "q" * 20
    spec = spec_on(mariadb, "pkgostest_leak", "pkgostest_leak", password)
    BACKEND.ensure(spec)
    BACKEND.drop(spec)
    with open(mariadb.general_log_file, encoding="utf-8", errors="replace") as handle:
        statements = handle.read()
    assert "pkgostest_leak" in statements  # the log does record our statements
    assert password not in statements


@pytest.mark.parametrize("password", WIDE_PASSWORDS)
def test_a_password_pymysql_cannot_send_is_refused_before_any_sql(password: str) -> None:
    nowhere = AdminLogin(host="127.0.0.1", port=free_port())
    spec = DatabaseSpec(Engine.MYSQL, "pkgostest_wide", "pkgostest_wide", password, admin=nowhere)
    with pytest.raises(InvalidValueError, match="beyond Latin-1"):
        BACKEND.ensure(spec)


def test_ensure_twice_changes_nothing_and_a_new_password_is_applied(mariadb: MariaDB, workdir: str) -> None:
    spec = spec_on(mariadb, "pkgostest_idem", "pkgostest_idem", "first password")
    assert BACKEND.ensure(spec).changed
    assert BACKEND.ensure(spec).changes == ()
    changed = spec_on(mariadb, "pkgostest_idem", "pkgostest_idem", "second:p@ss")
    assert BACKEND.ensure(changed).changes == (Change.UPDATED_PASSWORD,)
    assert BACKEND.ensure(changed).changes == ()
    assert login(url_through_config(workdir, changed.url()), "SELECT 1") == [(1,)]
    with pytest.raises(DatabaseError, match="cannot log in"):
        BACKEND.check(spec)
    BACKEND.drop(spec)
    assert BACKEND.drop(spec).changes == ()


def test_grants_cover_that_database_only(mariadb: MariaDB) -> None:
    spec = spec_on(mariadb, "pkgostest_a_b", "pkgostest_grant", "pw")
    BACKEND.ensure(spec)
    with mariadb.admin_connect() as admin, admin.cursor() as cursor:
        cursor.execute("CREATE DATABASE IF NOT EXISTS pkgostestXaXb")
        cursor.execute("SHOW GRANTS FOR 'pkgostest_grant'@'%'")
        grants = [row[0] for row in cursor.fetchall()]
    assert "GRANT ALL PRIVILEGES ON `pkgostest\\_a\\_b`.* TO `pkgostest_grant`@`%`" in grants
    import pymysql

    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(
            host="127.0.0.1",
            port=mariadb.port,
            user="pkgostest_grant",
            password="pw",
            database="pkgostestXaXb",
        )
    with mariadb.admin_connect() as admin, admin.cursor() as cursor:
        cursor.execute("DROP DATABASE pkgostestXaXb")
    BACKEND.drop(spec)


def test_only_the_given_client_hosts_get_accounts(mariadb: MariaDB) -> None:
    spec = spec_on(mariadb, "pkgostest_hosts", "pkgostest_hosts", "pw", client_hosts=("127.0.0.1",))
    BACKEND.ensure(spec)
    with mariadb.admin_connect() as admin, admin.cursor() as cursor:
        cursor.execute("SELECT Host FROM mysql.user WHERE User = 'pkgostest_hosts'")
        assert cursor.fetchall() == (("127.0.0.1",),)
    BACKEND.drop(spec)


def test_server_down_names_host_and_port() -> None:
    port = free_port()
    spec = DatabaseSpec(
        Engine.MYSQL, "pkgostest_down", "u", "secret-pw", admin=AdminLogin(host="127.0.0.1", port=port)
    )
    with pytest.raises(DatabaseError, match=f"127.0.0.1:{port}.*does not answer") as error:
        BACKEND.ensure(spec)
    assert "secret-pw" not in str(error.value)


def test_wrong_admin_password_is_access_denied(mariadb: MariaDB) -> None:
    with mariadb.admin_connect() as admin, admin.cursor() as cursor:
        cursor.execute("CREATE USER IF NOT EXISTS 'pkgostest_admin'@'%' IDENTIFIED BY 'right'")
        cursor.execute("GRANT ALL ON *.* TO 'pkgostest_admin'@'%' WITH GRANT OPTION")
    wrong = AdminLogin("pkgostest_admin", "wrong-admin-pw", "127.0.0.1", mariadb.port)
    spec = DatabaseSpec(Engine.MYSQL, "pkgostest_adm", "pkgostest_adm", "pw", port=mariadb.port, admin=wrong)
    with pytest.raises(DatabaseError, match="access denied") as error:
        BACKEND.ensure(spec)
    assert "wrong-admin-pw" not in str(error.value)
    right = AdminLogin("pkgostest_admin", "right", "127.0.0.1", mariadb.port)
    remote = DatabaseSpec(
        Engine.MYSQL, "pkgostest_adm", "pkgostest_adm", "pw", port=mariadb.port, admin=right
    )
    assert BACKEND.ensure(remote).changed
    BACKEND.drop(remote)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("x" * 65, "longer than 64"),
        ("glance-api", "only letters"),
        ("glance`; DROP DATABASE mysql; --", "only letters"),
        ("1glance", "only letters"),
        ("", "only letters"),
    ],
)
def test_bad_database_names_are_refused_before_any_sql(name: str, problem: str) -> None:
    nowhere = AdminLogin(host="127.0.0.1", port=free_port())
    spec = DatabaseSpec(Engine.MYSQL, name, "u", "pw", admin=nowhere)
    with pytest.raises(InvalidValueError, match=problem):
        BACKEND.ensure(spec)


def test_user_names_mariadb_cannot_store_are_refused() -> None:
    nowhere = AdminLogin(host="127.0.0.1", port=free_port())
    for user in ("u" * 129, "key🔑", "tab\tuser"):
        with pytest.raises(InvalidValueError, match="user name"):
            BACKEND.ensure(DatabaseSpec(Engine.MYSQL, "pkgostest_u", user, "pw", admin=nowhere))
