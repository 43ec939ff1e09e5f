"""An attacker's directory: owned by an unprivileged user, who plants links and FIFOs there.

The attacker's side runs as ``nobody`` (``runuser -u nobody``), the
toolkit's side as root, as a maintainer script does in a service user's
``/var/lib/<svc>`` or ``/var/log/<svc>``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ATTACKER = "nobody"


@dataclass(frozen=True)
class Attacker:
    """The unprivileged user and the directory it owns (``home``), beside a root-only one (``safe``)."""

    name: str
    uid: int
    gid: int
    home: Path
    safe: Path

    def run(self, *argv: str) -> None:
        """Run ``argv`` as the attacker; fail the test if it fails."""
        subprocess.run(["runuser", "-u", self.name, "--", *argv], check=True, timeout=60)

    def plant_link(self, name: str, target: Path | str) -> Path:
        """A symbolic link ``name`` in the attacker's directory, made by the attacker."""
        link = self.home / name
        self.run("ln", "-s", str(target), str(link))
        return link

    def plant_fifo(self, name: str) -> Path:
        """A FIFO ``name`` in the attacker's directory, made by the attacker."""
        fifo = self.home / name
        self.run("mkfifo", str(fifo))
        return fifo


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    """A directory of the attacker's in a fresh root directory that everyone can traverse."""
    if os.geteuid() != 0:
        pytest.fail("the hostile tests play root against an unprivileged user: run them as root")
    entry = pwd.getpwnam(ATTACKER)
    top = Path(tempfile.mkdtemp(prefix="pkgos-hostile-"))
    try:
        top.chmod(0o755)
        home = top / "attacker"
        home.mkdir(mode=0o755)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        safe = top / "root"
        safe.mkdir(mode=0o700)
        yield Attacker(ATTACKER, entry.pw_uid, entry.pw_gid, home, safe)
    finally:
        shutil.rmtree(top)


@pytest.fixture
def victim(attacker: Attacker) -> Path:
    """A root file the attacker wants: 0600, known content."""
    path = attacker.safe / "victim"
    path.write_bytes(b"root's secret\n")
    path.chmod(0o600)
    return path


def untouched(path: Path) -> tuple[bytes, int, int, int]:
    """What must not change about the victim: content, owner, group, mode."""
    info = path.stat()
    return path.read_bytes(), info.st_uid, info.st_gid, info.st_mode & 0o7777
