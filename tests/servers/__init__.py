"""Throwaway database and message-queue servers for tests.

Each starter runs a private instance on 127.0.0.1, on a free port, with all
its files in a fresh temporary directory, and stops it by PID::

    from tests.servers.mariadb import MariaDB

    with MariaDB() as server:
        server.port, server.socket      # TCP port on 127.0.0.1, unix socket
        server.admin_connect()          # pymysql connection as root

They are meant for session-scoped pytest fixtures: start once, share.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(ready: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``ready`` until it returns True, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become ready within {timeout} s")
        time.sleep(0.05)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_pid(pid: int, timeout: float = 20.0) -> None:
    """Stop the process ``pid`` with SIGTERM, then SIGKILL, and wait for it."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def make_tempdir(prefix: str, owner: str | None = None) -> str:
    """A fresh temporary directory (world-traversable, owned by ``owner`` if given)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    if owner is not None:
        shutil.chown(path, owner, owner)
    return path


def run_quiet(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a setup command; fail with its output if it fails."""
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise RuntimeError(f"{argv} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result  # type: ignore[no-any-return]
