"""Servers the dpkg tests share, one each per test session.

Maintainer scripts look for them where a local server would be: MariaDB
on Debian's socket and port 3306, Keystone on 127.0.0.1:5000.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest

from tests.servers.keystone import KeystoneServer, keystone_server
from tests.servers.mariadb import MariaDB


@pytest.fixture(scope="session")
def local_mariadb() -> Iterator[MariaDB]:
    """A MariaDB where Debian's own listens: what a local database server looks like."""
    with MariaDB(socket="/run/mysqld/mysqld.sock", port=3306) as server:
        yield server


@pytest.fixture(scope="session")
def local_keystone() -> Iterator[KeystoneServer]:
    """A real Keystone on 127.0.0.1:5000, where the endpoint questions expect one."""
    directory = tempfile.mkdtemp(prefix="pkgostest-keystone.")
    try:
        with keystone_server(directory, port=5000) as server:
            yield server
    finally:
        shutil.rmtree(directory)
