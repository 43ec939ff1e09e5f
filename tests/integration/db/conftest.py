"""Servers for the database and message-queue tests: started once per session."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from tests.servers.mariadb import MariaDB
from tests.servers.postgresql import PostgreSQL
from tests.servers.rabbitmq import RabbitMQ

GLANCE_USER = "pkgostest-glance"


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    with MariaDB(general_log=True) as server:
        yield server


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgreSQL]:
    with PostgreSQL() as server:
        yield server


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMQ]:
    with RabbitMQ() as server:
        yield server


@pytest.fixture(scope="session")
def glance_user() -> str:
    """A system user for migrations run as a service user (kept for other tests)."""
    try:
        pwd.getpwnam(GLANCE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", GLANCE_USER],
            check=True,
        )
    return GLANCE_USER


@pytest.fixture
def workdir() -> Iterator[str]:
    """A temp dir every user can traverse (service users read files in it)."""
    path = tempfile.mkdtemp(prefix="pkgostest-db-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
