"""The fault-injection tests: a node with Keystone and Glance (root; make check-faults)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: an install in a node, with faults (root; make check-faults)")
