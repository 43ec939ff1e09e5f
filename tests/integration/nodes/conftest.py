"""Nodes for the node tests; see tests/nodes/fixtures.py."""

from __future__ import annotations

import pytest

from tests.nodes.fixtures import node_factory, started_node

__all__ = ["node_factory", "started_node"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "nodes: boots Debian nodes as containers (root; make check-nodes)")
