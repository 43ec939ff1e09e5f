"""The multinode test boots three nodes; see tests/nodes/fixtures.py."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "multinode: a controller and two compute nodes (root; make check-multinode)"
    )
