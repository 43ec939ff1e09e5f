"""Concurrent writers, killed writers, a full disk: no update lost, nothing half-written or left behind."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from openstack_pkg_tools.fileio import STALE_AFTER, TEMP_SUFFIX
from openstack_pkg_tools.inifile import IniFile
from tests.cli import ROOT, pkgos

WRITERS = 20


def test_concurrent_ini_set_loses_no_update(tmp_path: Path) -> None:
    path = tmp_path / "nova.conf"
    for _round in range(3):
        path.write_text("[DEFAULT]\n# a comment\n")
        argv = [sys.executable, "-m", "openstack_pkg_tools", "ini", "set", str(path), "DEFAULT"]
        processes = [
            subprocess.Popen([*argv, f"key{n}", f"value{n}"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
            for n in range(WRITERS)
        ]
        errors = [process.communicate(timeout=120)[1] for process in processes]
        assert [process.returncode for process in processes] == [0] * WRITERS, errors
        conf = IniFile(str(path))
        assert {conf.get("DEFAULT", f"key{n}") for n in range(WRITERS)} == {
            f"value{n}" for n in range(WRITERS)
        }
        assert sorted(p.name for p in tmp_path.iterdir()) == ["nova.conf"]


def test_stale_temporary_files_of_a_killed_run_are_removed_fresh_ones_kept(tmp_path: Path) -> None:
    path = tmp_path / "glance-api.conf"
    path.write_text("[DEFAULT]\n")
    stale = tmp_path / f".glance-api.conf.{'a' * 12}{TEMP_SUFFIX}"
    fresh = tmp_path / f".glance-api.conf.{'b' * 12}{TEMP_SUFFIX}"
    other = tmp_path / f".other.conf.{'c' * 12}{TEMP_SUFFIX}"
    for leftover in (stale, fresh, other):
        leftover.write_text("half a file")
    old = time.time() - STALE_AFTER - 10
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    result = pkgos("ini", "set", str(path), "DEFAULT", "debug", "true")
    assert result.returncode == 0, result.stderr
    assert (stale.exists(), fresh.exists(), other.exists()) == (False, True, True)
    assert pkgos("ini", "get", str(path), "DEFAULT", "debug").stdout == "true\n"


def big_file(letter: str) -> bytes:
    return b"[DEFAULT]\n" + b"".join(b"#option%d = %s\n" % (n, letter.encode() * 60) for n in range(200_000))


@pytest.mark.slow
def test_a_terminated_writer_leaves_the_file_whole_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "nova.conf"
    path.write_bytes(big_file("a"))
    rng = random.Random(16)
    for n in range(12):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openstack_pkg_tools",
                "ini",
                "set",
                str(path),
                "DEFAULT",
                "round",
                str(n),
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(rng.uniform(0.05, 0.6))
        process.send_signal(signal.SIGTERM)
        stderr = process.communicate(timeout=60)[1]
        assert "Traceback" not in stderr, stderr
        assert process.returncode in (0, 128 + signal.SIGTERM, -signal.SIGTERM), stderr
        value = IniFile(str(path)).get("DEFAULT", "round")
        assert value in (None, *map(str, range(n + 1)))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["nova.conf"], stderr


@pytest.fixture
def full_disk() -> Iterator[Path]:
    """A 256 KiB tmpfs, mounted for this test only."""
    mountpoint = Path(tempfile.mkdtemp(prefix="pkgos-enospc-"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "pkgos-enospc", str(mountpoint)], check=True
    )
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)
        mountpoint.rmdir()


def test_a_full_disk_is_one_error_and_the_file_stays_whole(full_disk: Path) -> None:
    path = full_disk / "keystone.conf"
    path.write_text("[DEFAULT]\ndebug = false\n" + "#\n" * 75_000)  # 150 KiB: no room for a second copy
    before = path.read_bytes()
    result = pkgos("ini", "set", str(path), "DEFAULT", "debug", "true")
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("pkgos: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "No space left on device" in result.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in full_disk.iterdir()) == ["keystone.conf"]


def test_many_writers_of_many_files_in_one_directory(tmp_path: Path) -> None:
    names = [f"s{n}.conf" for n in range(4)]
    for name in names:
        (tmp_path / name).write_text("[DEFAULT]\n")

    def edit(job: tuple[str, int]) -> int:
        name, n = job
        return pkgos("ini", "set", str(tmp_path / name), "DEFAULT", f"k{n}", "v").returncode

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(edit, [(name, n) for name in names for n in range(6)]))
    assert codes == [0] * len(codes)
    for name in names:
        assert sorted(IniFile(str(tmp_path / name)).keys("DEFAULT")) == [f"k{n}" for n in range(6)]
