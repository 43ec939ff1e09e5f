"""Small host-side helpers: commands that must succeed, processes known by PID and start time."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


class NodeError(RuntimeError):
    """A node operation failed; the message says what to do."""


def command(*argv: str, hint: str = "") -> str:
    """Run ``argv`` on the host and return its output; raise NodeError with its stderr if it fails."""
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}"
        raise NodeError(f"{message}\n{hint}" if hint else message)
    return result.stdout


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when there is no such process.

    Recorded beside a PID so that a later removal never signals another
    process that happens to reuse the number.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(") ", 1)[1].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def alive(pid: int, started: int) -> bool:
    """True when ``pid`` still runs and is the process that started at ``started``."""
    # Our own child (a node started by this process) is reaped here.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return start_time(pid) == started


def wait_gone(pid: int, started: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the process to end; True when it did."""
    deadline = time.monotonic() + timeout
    while alive(pid, started):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def signal_recorded(pid: int, started: int, signum: signal.Signals) -> None:
    """Send ``signum`` to the recorded process, if it is still that process."""
    if alive(pid, started):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def stop_recorded(pid: int, started: int, timeout: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds, and wait for the end."""
    signal_recorded(pid, started, signal.SIGTERM)
    if not wait_gone(pid, started, timeout):
        signal_recorded(pid, started, signal.SIGKILL)
        if not wait_gone(pid, started, 10):
            raise NodeError(f"process {pid} survived SIGKILL")
