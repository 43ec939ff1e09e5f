"""A first migration killed half-way: the next run starts it again on an empty database.

MariaDB commits each CREATE TABLE at once, so a migration killed after its
first table leaves that table and the next run stops on "table already
exists". The migration here is a small program that makes two tables, as
the service user, reading its URL from the config file as a service does;
with a flag file present it kills itself (SIGKILL) between the two.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from openstack_pkg_tools import unmigrated
from openstack_pkg_tools.db import AdminLogin, DatabaseSpec, Engine, backend_for
from openstack_pkg_tools.dbsync import DbSyncError
from openstack_pkg_tools.errors import ConfigFileError
from openstack_pkg_tools.maintscript import apply
from openstack_pkg_tools.profile import ServiceProfile
from tests.integration.db.cloud import PASSWORD, empty_configs, relocated
from tests.integration.db.helpers import tables
from tests.servers.mariadb import MariaDB

# Made a table, then dies (SIGKILL) while the flag file (its third argument) exists, then another.
MIGRATION = """
import configparser, os, signal, sys
import sqlalchemy
conf = configparser.ConfigParser(interpolation=None)
conf.read(sys.argv[1])
engine = sqlalchemy.create_engine(conf[sys.argv[2]]["connection"])
with engine.begin() as connection:
    connection.execute(sqlalchemy.text("CREATE TABLE first_table (id INT)"))
if os.path.exists(sys.argv[3]):
    os.kill(os.getpid(), signal.SIGKILL)
with engine.begin() as connection:
    connection.execute(sqlalchemy.text("CREATE TABLE second_table (id INT)"))
"""


@pytest.fixture
def state_dir(workdir: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The toolkit's record of unfinished first migrations, in the test's directory."""
    path = os.path.join(workdir, "state", "unmigrated")
    monkeypatch.setattr(unmigrated, "STATE_DIR", path)
    return path


@pytest.fixture
def placement(workdir: str, glance_user: str) -> Iterator[ServiceProfile]:
    """placement's profile with the migration above; its log directory removed after."""
    shipped = relocated("placement", os.path.join(workdir, "etc"), glance_user, config_arg=True)
    database = shipped.databases[0]
    flag = os.path.join(workdir, "kill-the-migration")
    sync = (("/usr/bin/python3", "-c", MIGRATION, database.config, database.section, flag),)
    profile = dataclasses.replace(shipped, databases=(dataclasses.replace(database, sync=sync),))
    empty_configs(profile)
    yield profile
    shutil.rmtree(f"/var/log/{profile.name}", ignore_errors=True)


@pytest.fixture
def spec(mariadb: MariaDB, placement: ServiceProfile) -> Iterator[DatabaseSpec]:
    spec = DatabaseSpec(
        Engine.MYSQL,
        "pkgostest_unmigrated",
        "pkgostest_unmigr",
        PASSWORD,
        port=mariadb.port,
        admin=AdminLogin(socket=mariadb.socket),
    )
    yield spec
    backend_for(spec.engine).drop(spec)


def kill_the_migration(profile: ServiceProfile, on: bool) -> None:
    flag = profile.databases[0].sync[0][-1]
    if on:
        open(flag, "w").close()
    elif os.path.exists(flag):
        os.unlink(flag)


@pytest.mark.usefixtures("state_dir")
def test_a_killed_first_migration_starts_again_on_an_empty_database(
    placement: ServiceProfile, spec: DatabaseSpec
) -> None:
    databases = placement.databases
    kill_the_migration(placement, on=True)
    with pytest.raises(DbSyncError, match="exited with code 137"):
        apply.ensure_and_migrate(placement, databases, [spec])
    assert tables(spec) == {"first_table"}
    assert unmigrated.pending(spec)

    kill_the_migration(placement, on=False)
    done = apply.ensure_and_migrate(placement, databases, [spec])
    assert any("dropped the half-made schema" in line for line in done), done
    assert tables(spec) == {"first_table", "second_table"}
    assert not unmigrated.pending(spec)

    # Migrated once: nothing is dropped any more, rows stay (the migration here is not idempotent).
    engine = create_engine(spec.url().render())
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO second_table VALUES (7)"))
    with pytest.raises(DbSyncError, match="already exists"):
        apply.ensure_and_migrate(placement, databases, [spec])
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM second_table")).scalars().all() == [7]
    engine.dispose()


@pytest.mark.usefixtures("state_dir")
def test_a_database_the_toolkit_did_not_create_is_never_dropped(
    placement: ServiceProfile, spec: DatabaseSpec
) -> None:
    backend_for(spec.engine).ensure(spec)  # made before, by someone else
    kill_the_migration(placement, on=True)
    with pytest.raises(DbSyncError, match="exited with code 137"):
        apply.ensure_and_migrate(placement, placement.databases, [spec])
    kill_the_migration(placement, on=False)
    with pytest.raises(DbSyncError, match="already exists"):
        apply.ensure_and_migrate(placement, placement.databases, [spec])
    assert tables(spec) == {"first_table"}


def test_purge_forgets_the_database(state_dir: str, spec: DatabaseSpec) -> None:
    unmigrated.begin(spec)
    assert stat.S_IMODE(os.stat(state_dir).st_mode) == 0o700
    unmigrated.finish(spec)
    assert not unmigrated.pending(spec) and os.listdir(state_dir) == []
    unmigrated.finish(spec)  # twice: nothing to do


def test_a_link_planted_at_an_entry_is_not_a_record(state_dir: str, spec: DatabaseSpec, workdir: str) -> None:
    unmigrated.begin(spec)
    (entry,) = os.listdir(state_dir)
    os.unlink(os.path.join(state_dir, entry))
    os.symlink(os.path.join(workdir, "elsewhere"), os.path.join(state_dir, entry))
    assert not unmigrated.pending(spec)


def test_a_state_directory_others_can_write_is_refused(state_dir: str, spec: DatabaseSpec) -> None:
    unmigrated.begin(spec)
    os.chmod(state_dir, 0o777)
    with pytest.raises(ConfigFileError, match="users other than root"):
        unmigrated.pending(spec)


def test_drop_database_keeps_the_user_and_its_grants(mariadb: MariaDB, spec: DatabaseSpec) -> None:
    backend = backend_for(spec.engine)
    backend.ensure(spec)
    assert backend.drop_database(spec).changed
    assert not backend.drop_database(spec).changed
    # ensure creates the database again and changes nothing else: the account and grant were kept.
    assert [str(change) for change in backend.ensure(spec).changes] == ["created database"]
