"""One real Keystone for the whole session, bootstrapped by this project."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest

from openstack_pkg_tools.keystone import KeystoneClient
from tests.servers.keystone import KeystoneServer, keystone_server


@pytest.fixture(scope="session")
def keystone() -> Iterator[KeystoneServer]:
    """A Keystone on 127.0.0.1 (SQLite, uwsgi), stopped by PID at the end."""
    workdir = tempfile.mkdtemp(prefix="pkgos-test-keystone-")
    try:
        with keystone_server(workdir) as server:
            yield server
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def client(keystone: KeystoneServer) -> KeystoneClient:
    """A fresh admin client: its request counts start at zero."""
    return KeystoneClient(keystone.credentials())
