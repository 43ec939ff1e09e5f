"""Watch every process a command starts, and look for secrets in them.

``ProcessWatch`` polls ``/proc`` while a command runs and records, for the
command and each of its descendants, every argv (``/proc/PID/cmdline``) and
environment (``/proc/PID/environ``) it shows: a forked child shows its
parent's until it calls exec, so each process is read on every poll.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from types import TracebackType


@dataclass
class Seen:
    """One process as the watch saw it: every argv and environment entry it showed."""

    pid: int
    cmdlines: list[list[bytes]] = field(default_factory=list)
    environ: set[bytes] = field(default_factory=set)

    def record(self) -> None:
        """Read the process's argv and environment now."""
        cmdline = [item for item in _read(f"/proc/{self.pid}/cmdline").split(b"\0") if item]
        if cmdline and cmdline not in self.cmdlines:
            self.cmdlines.append(cmdline)
        self.environ.update(item for item in _read(f"/proc/{self.pid}/environ").split(b"\0") if item)

    def ran(self, *words: bytes) -> bool:
        """True when one of its argvs holds every one of ``words`` (or a path ending in it)."""
        return any(all(_holds(argv, word) for word in words) for argv in self.cmdlines)


def _holds(argv: list[bytes], word: bytes) -> bool:
    return any(item == word or item.endswith(b"/" + word) for item in argv)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def _parent(pid: str) -> int:
    stat = _read(f"/proc/{pid}/stat").decode(errors="replace")
    # The command name in parentheses may hold spaces: split after it.
    fields = stat.rpartition(")")[2].split()
    return int(fields[1]) if len(fields) > 1 else -1


@dataclass
class ProcessWatch:
    """Records ``root`` and every descendant while the ``with`` block runs."""

    root: int
    seen: dict[int, Seen] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> ProcessWatch:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.scan()
            self._stop.wait(0.002)

    def scan(self) -> None:
        """Look at /proc once."""
        family = set(self.seen) | {self.root}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if pid not in self.seen and (pid == self.root or _parent(name) in family):
                self.seen[pid] = Seen(pid)
                family.add(pid)
            if pid in self.seen:
                self.seen[pid].record()

    def children(self) -> list[Seen]:
        """Every descendant of the root seen."""
        return [seen for pid, seen in self.seen.items() if pid != self.root]

    def holding(self, secret: str) -> list[tuple[int, str, bytes]]:
        """(pid, "argv" or "env", the item) for every place ``secret`` was seen."""
        needle = secret.encode()
        found = []
        for seen in self.seen.values():
            found += [(seen.pid, "argv", item) for argv in seen.cmdlines for item in argv if needle in item]
            found += [(seen.pid, "env", item) for item in seen.environ if needle in item]
        return found
