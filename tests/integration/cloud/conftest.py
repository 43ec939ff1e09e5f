"""The cloud tests boot a node; see tests/nodes/fixtures.py."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cloud: the all-in-one cloud in a node (root; make check-cloud)")
