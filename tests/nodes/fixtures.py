"""pytest fixtures: a started node for a test, removed afterwards even when the test fails.

Use them from a conftest.py::

    from tests.nodes.fixtures import node_factory, started_node  # noqa: F401

    def test_x(started_node: NodeState) -> None: ...

They never skip: on a machine that cannot run nodes they fail and say what
is missing (root, systemd-container, mmdebstrap).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from . import node, state
from .state import NodeState
from .system import NodeError


def require_nodes() -> None:
    """Fail the test, saying what is missing, when this machine cannot run nodes."""
    missing = node.requirements()
    if missing:
        pytest.fail(
            "nodes need "
            + "; ".join(missing)
            + " (as root, make check-nodes installs the packages nodes need)",
            pytrace=False,
        )


@pytest.fixture
def node_factory(request: pytest.FixtureRequest) -> Iterator[Callable[[], NodeState]]:
    """Start nodes named after the test (pkgos-t<pid>-<n>); every one is removed at the end."""
    require_nodes()
    names: list[str] = []

    def start() -> NodeState:
        name = f"pkgos-t{os.getpid()}-{len(names)}"
        names.append(name)
        started = node.start(name)
        print(f"{request.node.name}: {started.name} booted in {started.boot_seconds} s")
        return started

    try:
        yield start
    finally:
        errors = []
        for name in names:
            try:
                node.remove(name)
            except NodeError as error:
                if "no node named" not in str(error):
                    errors.append(str(error))
        if errors:
            pytest.fail("removing nodes failed: " + "; ".join(errors), pytrace=False)


@pytest.fixture
def started_node(node_factory: Callable[[], NodeState]) -> NodeState:
    """One started node."""
    return node_factory()


def project_things() -> dict[str, set[str]]:
    """What of the project exists on the host: network namespaces, links, mounts, state files."""
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    return {
        "netns": {name for name in os.listdir("/run/netns") if "pkgos" in name}
        if os.path.isdir("/run/netns")
        else set(),
        "links": {line.split(": ")[1].split("@")[0] for line in links.splitlines() if "pkgos" in line},
        "mounts": {line.split()[4] for line in mounts if "pkgos" in line},
        "nodes": {recorded.name for recorded in state.all_nodes()},
    }


def processes_in(namespace: str) -> list[int]:
    """The PIDs of the processes in the PID namespace ``namespace`` (a /proc/PID/ns/pid link)."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.readlink(f"/proc/{entry}/ns/pid") == namespace:
                pids.append(int(entry))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return pids
