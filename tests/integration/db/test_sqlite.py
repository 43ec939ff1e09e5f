"""SQLite: the file's place, owner and mode, idempotency."""

from __future__ import annotations

import contextlib
import os
import pwd
import sqlite3

import pytest

from openstack_pkg_tools.db import Change, DatabaseError, DatabaseSpec, Engine, backend_for
from openstack_pkg_tools.errors import InvalidValueError

from .helpers import login, url_through_config

BACKEND = backend_for(Engine.SQLITE)


def test_file_is_created_owned_by_the_service_with_mode_0640(glance_user: str, workdir: str) -> None:
    directory = os.path.join(workdir, "lib", "glance")
    spec = DatabaseSpec(Engine.SQLITE, "glance", glance_user, sqlite_dir=directory)
    assert BACKEND.ensure(spec).changes == (Change.CREATED_DATABASE, Change.CHANGED_OWNER)
    status = os.stat(spec.sqlite_path)
    owner = pwd.getpwnam(glance_user)
    assert (status.st_uid, status.st_gid, status.st_mode & 0o7777) == (owner.pw_uid, owner.pw_gid, 0o640)
    assert os.stat(directory).st_mode & 0o7777 == 0o750
    assert os.stat(directory).st_uid == owner.pw_uid
    assert BACKEND.ensure(spec).changes == ()
    os.chmod(spec.sqlite_path, 0o644)
    assert BACKEND.ensure(spec).changes == (Change.CHANGED_MODE,)
    url = url_through_config(workdir, spec.url())
    assert url.render() == f"sqlite:///{spec.sqlite_path}"
    assert login(url, "SELECT 1") == [(1,)]
    assert BACKEND.drop(spec).changes == (Change.DROPPED_DATABASE,)
    assert not os.path.exists(spec.sqlite_path)
    assert BACKEND.drop(spec).changes == ()


def test_a_reader_never_locks_out_a_writer(glance_user: str, workdir: str) -> None:
    spec = DatabaseSpec(Engine.SQLITE, "keystone", glance_user, sqlite_dir=workdir)
    BACKEND.ensure(spec)
    assert sorted(os.listdir(workdir)) == ["keystone.sqlite"]
    with contextlib.closing(sqlite3.connect(spec.sqlite_path, timeout=0.1)) as writer:
        writer.execute("CREATE TABLE token (id TEXT)")
        writer.commit()
        # What a service does: a read transaction left open between requests.
        with contextlib.closing(sqlite3.connect(spec.sqlite_path, timeout=0.1)) as reader:
            reader.execute("BEGIN")
            reader.execute("SELECT * FROM token").fetchall()
            writer.execute("INSERT INTO token VALUES ('a')")
            writer.commit()
        assert writer.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        # While it is open, the log files are there; drop removes them too.
        assert BACKEND.drop(spec).changes == (Change.DROPPED_DATABASE,)
    assert os.listdir(workdir) == []


def test_default_place_is_var_lib_service() -> None:
    assert DatabaseSpec(Engine.SQLITE, "glance", "glance").sqlite_path == "/var/lib/glance/glance.sqlite"


def test_missing_owner_and_bad_file_are_reported(workdir: str) -> None:
    with pytest.raises(DatabaseError, match=r"pkgostest-nobody.*does not exist"):
        BACKEND.ensure(DatabaseSpec(Engine.SQLITE, "glance", "pkgostest-nobody", sqlite_dir=workdir))
    with open(os.path.join(workdir, "broken.sqlite"), "w") as handle:
        handle.write("not a database" * 100)
    with pytest.raises(DatabaseError, match=r"broken\.sqlite"):
        BACKEND.check(DatabaseSpec(Engine.SQLITE, "broken", "root", sqlite_dir=workdir))
    with pytest.raises(InvalidValueError, match="system user"):
        BACKEND.ensure(DatabaseSpec(Engine.SQLITE, "glance", "Bad User", sqlite_dir=workdir))
