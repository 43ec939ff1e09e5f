"""dbsync.py's retry decisions, at the run() seam (exact argv asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openstack_pkg_tools import dbsync
from openstack_pkg_tools.dbsync import DbSyncError, SyncPlan
from openstack_pkg_tools.errors import InvalidValueError
from openstack_pkg_tools.run import Completed

EXPECTED_ARGV = [
    "runuser",
    "-u",
    "nobody",
    "--",
    "timeout",
    "--kill-after=10",
    "60",
    "glance-manage",
    "db_sync",
]


def plan_in(tmp_path: Path, attempts: int = 3) -> SyncPlan:
    return SyncPlan(
        "glance",
        (("glance-manage", "db_sync"),),
        user="nobody",
        log_dir=str(tmp_path),
        timeout=60,
        attempts=attempts,
        retry_delay=0,
    )


def fake_run(results: list[tuple[int, str]], calls: list[list[str]]):  # type: ignore[no-untyped-def]
    def run(argv, **options):  # type: ignore[no-untyped-def]
        calls.append(list(argv))
        assert options["output_log"].endswith("/dbsync.log")
        code, stderr = results.pop(0)
        return Completed(tuple(argv), code, "", stderr)

    return run


def test_unreachable_server_is_retried_until_it_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    refused = (1, "sqlalchemy.exc.OperationalError: (2003, \"Can't connect to MySQL server on 'db'\")")
    monkeypatch.setattr(dbsync, "run", fake_run([refused, refused, (0, "")], calls))
    dbsync.sync(plan_in(tmp_path))
    assert calls == [EXPECTED_ARGV] * 3


def test_other_failures_are_not_retried_and_report_the_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    output = "\n".join(f"line {n}" for n in range(40)) + "\nalembic.util.exc.CommandError: bad revision"
    monkeypatch.setattr(dbsync, "run", fake_run([(1, output)], calls))
    with pytest.raises(DbSyncError) as error:
        dbsync.sync(plan_in(tmp_path))
    assert calls == [EXPECTED_ARGV]
    message = str(error.value)
    assert "glance-manage db_sync (as nobody) exited with code 1" in message
    assert "bad revision" in message and "line 21" in message and "line 20\n" not in message
    assert f"{tmp_path}/dbsync.log" in message


def test_retries_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    refused = (1, 'psycopg2.OperationalError: connection to server at "db" failed: Connection refused')
    monkeypatch.setattr(dbsync, "run", fake_run([refused] * 2, calls))
    with pytest.raises(DbSyncError, match="Connection refused"):
        dbsync.sync(plan_in(tmp_path, attempts=2))
    assert len(calls) == 2


def test_a_plan_needs_a_command_and_sane_limits() -> None:
    with pytest.raises(InvalidValueError, match="pkgos dbsync glance -- glance-manage db_sync"):
        SyncPlan("glance", ())
    with pytest.raises(InvalidValueError, match="attempts"):
        SyncPlan("glance", (("x",),), attempts=0)
    assert SyncPlan("glance", (("x",),)).log_path == "/var/log/glance/dbsync.log"
