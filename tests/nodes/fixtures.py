"""pytest fixtures: a started node for a test, removed afterwards even when the test fails.

Use them from a conftest.py::

    from tests.nodes.fixtures import node_factory, started_node  # noqa: F401

    def test_x(started_node: NodeState) -> None: ...

They never skip: on a machine that cannot run nodes they fail and say what
is missing (root, systemd-container, mmdebstrap).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from . import node
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
