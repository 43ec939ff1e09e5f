"""A real schema migration (Glance's db_sync) through dbsync.py, on each engine."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import create_engine, inspect

from openstack_pkg_tools.db import AdminLogin, DatabaseSpec, Engine, backend_for
from openstack_pkg_tools.dbsync import DbSyncError, SyncPlan, sync
from openstack_pkg_tools.inifile import IniFile
from tests.servers import free_port
from tests.servers.mariadb import MariaDB
from tests.servers.postgresql import PostgreSQL

GLANCE_TABLES = 14
GLANCE_SYNC = ("/usr/bin/python3", "-m", "glance.cmd.manage", "--config-file")


def glance_conf(workdir: str, connection: str) -> str:
    path = os.path.join(workdir, "glance-api.conf")
    with IniFile(path, create=True) as conf:
        conf.set("database", "connection", connection)
    os.chmod(path, 0o644)
    return path


def migrate_and_count_tables(workdir: str, spec: DatabaseSpec, user: str) -> set[str]:
    backend_for(spec.engine).ensure(spec)
    conf = glance_conf(workdir, spec.url().render())
    log_dir = os.path.join(workdir, "log")
    sync(SyncPlan("glance", ((*GLANCE_SYNC, conf, "db_sync"),), user=user, log_dir=log_dir, timeout=300))
    assert os.path.getsize(os.path.join(log_dir, "dbsync.log")) > 0
    engine = create_engine(spec.url().render())
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    backend_for(spec.engine).drop(spec)
    return tables


@pytest.mark.slow
def test_glance_db_sync_on_mariadb(mariadb: MariaDB, glance_user: str, workdir: str) -> None:
    spec = DatabaseSpec(
        Engine.MYSQL,
        "pkgostest_glance",
        "pkgostest_glance",
        "g:l@n/c%e#",
        port=mariadb.port,
        admin=AdminLogin(socket=mariadb.socket),
    )
    tables = migrate_and_count_tables(workdir, spec, glance_user)
    assert len(tables) == GLANCE_TABLES and {"images", "image_locations", "alembic_version"} <= tables


@pytest.mark.slow
def test_glance_db_sync_on_postgresql(postgresql: PostgreSQL, glance_user: str, workdir: str) -> None:
    admin = AdminLogin("postgres", postgresql.admin_password, postgresql.host, postgresql.port)
    spec = DatabaseSpec(
        Engine.PGSQL, "pkgostest_glance", "pkgostest_glance", "g:l@n/c%e#", port=postgresql.port, admin=admin
    )
    tables = migrate_and_count_tables(workdir, spec, glance_user)
    assert len(tables) == GLANCE_TABLES and "images" in tables


@pytest.mark.slow
def test_glance_db_sync_on_sqlite(glance_user: str, workdir: str) -> None:
    spec = DatabaseSpec(Engine.SQLITE, "glance", glance_user, sqlite_dir=os.path.join(workdir, "lib"))
    tables = migrate_and_count_tables(workdir, spec, glance_user)
    assert len(tables) == GLANCE_TABLES and "images" in tables


def test_unreachable_server_is_retried_then_reported(glance_user: str, workdir: str) -> None:
    port = free_port()
    conf = glance_conf(workdir, f"mysql+pymysql://glance:secret@127.0.0.1:{port}/glance")
    with IniFile(conf) as settings:  # oslo.db's own retries (100 s by default) are not tested here
        settings.set("database", "max_retries", "0")
        settings.set("database", "retry_interval", "1")
    plan = SyncPlan(
        "glance",
        ((*GLANCE_SYNC, conf, "db_sync"),),
        user=glance_user,
        log_dir=os.path.join(workdir, "log"),
        attempts=2,
        retry_delay=0.1,
        timeout=120,
    )
    started = time.monotonic()
    with pytest.raises(DbSyncError) as error:
        sync(plan)
    message = str(error.value)
    assert f"glance.cmd.manage --config-file {conf} db_sync (as {glance_user}) exited with code 1" in message
    assert "Can't connect to MySQL server" in message
    with open(os.path.join(workdir, "log", "dbsync.log")) as handle:
        assert handle.read().count("Can't connect to MySQL server on") >= 2  # both attempts logged
    assert time.monotonic() - started < 60


def test_time_limit_stops_the_command(glance_user: str, workdir: str) -> None:
    plan = SyncPlan("glance", (("sleep", "30"),), user=glance_user, log_dir=workdir, timeout=1)
    started = time.monotonic()
    with pytest.raises(DbSyncError, match=r"sleep 30 \(as pkgostest-glance\) did not finish within 1 s"):
        sync(plan)
    assert time.monotonic() - started < 10


def test_commands_run_in_order_as_the_service_user(glance_user: str, workdir: str) -> None:
    out = os.path.join(workdir, "out")
    os.mkdir(out)
    os.chmod(out, 0o777)
    plan = SyncPlan(
        "glance",
        (("sh", "-c", f"id -un > {out}/first"), ("sh", "-c", f"cat {out}/first > {out}/second")),
        user=glance_user,
        log_dir=workdir,
    )
    sync(plan)
    with open(f"{out}/second") as handle:
        assert handle.read().strip() == glance_user
