"""``make check-fresh``: ``make check`` of a fresh clone of HEAD, as root, in a fresh node.

The node starts from the bare cached tree (nothing of this machine's
packages), so an install step that ``make check`` forgets fails there
instead of on a user's machine. What a user does first is done first:
``apt-get update``, ``apt-get install git make`` (the README's clone and
``make`` need them), ``git clone`` into /root (mode 0700, as a root
user's clone would be). The clone comes from a bundle of the committed
HEAD: uncommitted changes are not part of it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import config, node, state
from .system import NodeError, command

NAME = "pkgos-fresh"
CLONE = "/root/openstack-pkg-tools"
BUNDLE_DIR = "/root/bundle"
PREREQUISITES = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y git make"


def _stream(argv: list[str], log: Path) -> int:
    """Run ``argv``, its output both to this terminal and appended to ``log``; return its exit code."""
    with open(log, "ab") as sink:
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert child.stdout is not None
        while chunk := os.read(child.stdout.fileno(), 65536):
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            sink.write(chunk)
        return child.wait()


def _say(log: Path, line: str) -> None:
    print(f"check-fresh: {line}", flush=True)
    with open(log, "a") as sink:
        sink.write(f"check-fresh: {line}\n")


def check_fresh(repo: Path, log: Path, target: str = "check", clone: str = CLONE) -> int:
    """Run ``make TARGET`` in a fresh clone (at ``clone``) of ``repo``'s HEAD in a new node.

    Returns the exit code of the first failing step (0 when all pass). The
    node is removed at the end, whatever happened.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    head = command("git", "-C", str(repo), "rev-parse", "HEAD").strip()
    _say(log, f"make {target} of {head} in a fresh node; log in {log}")
    began = time.monotonic()
    if state.load_node(NAME) is not None:
        raise NodeError(f"{NAME} exists (an earlier run was interrupted): python3 -m tests.nodes rm {NAME}")
    with tempfile.TemporaryDirectory(prefix="pkgos-fresh.") as scratch:
        bundle = Path(scratch, "openstack-pkg-tools.bundle")
        command("git", "-C", str(repo), "bundle", "create", str(bundle), "HEAD")
        fresh = node.start(NAME)
        try:
            _say(log, f"node {fresh.name} at {fresh.address} up in {fresh.boot_seconds} s")
            node.copy_in(fresh, str(bundle), BUNDLE_DIR)
            steps = [
                ("prerequisites", ["sh", "-c", PREREQUISITES]),
                ("clone", ["git", "clone", f"{BUNDLE_DIR}/{bundle.name}", clone]),
                (f"make {target}", ["make", "-C", clone, target]),
            ]
            status = 0
            for what, argv in steps:
                step_began = time.monotonic()
                status = _stream(node.enter_argv(fresh, argv), log)
                _say(log, f"{what}: exit {status} after {time.monotonic() - step_began:.0f} s")
                if status != 0:
                    break
            _say(log, f"node memory at the end: {node.memory(fresh) / 2**20:.0f} MiB")
        finally:
            node.remove(NAME)
    _say(log, f"{'passed' if status == 0 else 'FAILED'} (exit {status}) in {time.monotonic() - began:.0f} s")
    return status


def default_log() -> Path:
    """Where the run's output goes unless told otherwise."""
    return config.REPO / "build" / "check-fresh.log"
