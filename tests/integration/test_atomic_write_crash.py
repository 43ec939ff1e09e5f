"""Kill the writing process at random points: the file is never broken.

A child process rewrites a configuration file over and over through
``IniFile`` (alternating two large contents, so that each write takes a
while); the test kills it with SIGKILL after a random delay, 200 times, and
each time checks that the file holds exactly the old or the new content,
with its owner and mode unchanged.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KILLS = 200

WRITER = """
import sys
sys.path.insert(0, sys.argv[2])
from openstack_pkg_tools.inifile import IniFile
print("ready", flush=True)
round = 0
while True:
    round += 1
    with IniFile(sys.argv[1]) as conf:
        conf.set("database", "connection", "A" * 500000 if round % 2 else "B" * 500000)
"""


def content(letter: str) -> bytes:
    return f"[DEFAULT]\ndebug = true\n\n[database]\nconnection = {letter * 500000}\n".encode()


@pytest.mark.slow
def test_killed_writer_never_leaves_a_partial_file(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("this test changes file ownership: run it as root (make check does)")
    target = tmp_path / "nova.conf"
    target.write_bytes(content("A"))
    os.chown(target, 4242, 4343)
    os.chmod(target, 0o640)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    valid = {content("A"), content("B")}
    rng = random.Random(20261122)
    seen = set()
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, str(script), str(target), str(ROOT)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0, 0.03))
        child.send_signal(signal.SIGKILL)
        child.wait()
        data = target.read_bytes()
        assert data in valid, f"file broken after a kill: {len(data)} bytes"
        seen.add(data)
        info = target.stat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (4242, 4343, 0o640)
        for leftover in tmp_path.glob(".nova.conf.*.pkgos-tmp"):
            leftover.unlink()  # a SIGKILL cannot clean up; the next run must not care
    # The kills did land during writes of both contents, not only before them.
    assert seen == valid
