"""A real Keystone for tests, bootstrapped by this project's own code.

``keystone_server(workdir)`` writes a keystone.conf whose database is SQLite
and whose key repositories live in ``workdir``, runs the bootstrap steps of
``openstack_pkg_tools.keystone_bootstrap`` (db_sync, fernet and credential
keys, ``keystone-manage bootstrap``), serves Keystone with uwsgi on a free
port of 127.0.0.1, creates the service project and roles, and yields a
``KeystoneServer``. On exit uwsgi is stopped by its PID::

    from tests.servers.keystone import keystone_server

    with keystone_server(tmpdir) as keystone:
        keystone.auth_url            # http://127.0.0.1:PORT/v3
        keystone.admin_username      # admin (admin_password, admin_project too)
        keystone.region              # regionOne
        keystone.credentials()       # AdminCredentials for openstack_pkg_tools.keystone
        keystone.os_environ()        # OS_* variables for the openstack CLI or pkgos

Needs Debian's python3-keystone, uwsgi-core and uwsgi-plugin-python3 (the
Makefile installs them) and root (keystone-manage writes the keys as the
running user). Starting takes about 15 s: share one per test session.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import secrets
import signal
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from openstack_pkg_tools.keystone import AdminCredentials, Endpoints, KeystoneClient
from openstack_pkg_tools.keystone.model import DEFAULT_REGION
from openstack_pkg_tools.keystone_bootstrap import BootstrapSpec, bootstrap, ensure_service_project

from . import free_port

UWSGI = "/usr/bin/uwsgi_python3"
WSGI_SCRIPT = "/usr/bin/keystone-wsgi-public"
START_TIMEOUT = 90.0


@dataclass(frozen=True)
class KeystoneServer:
    """A running Keystone: where it listens and how to log in as admin."""

    auth_url: str
    admin_username: str
    admin_password: str = field(repr=False)
    admin_project: str
    region: str
    pid: int
    port: int
    config_file: str
    workdir: str

    def credentials(self) -> AdminCredentials:
        """The admin credentials, for ``openstack_pkg_tools.keystone``."""
        return AdminCredentials(self.auth_url, self.admin_username, self.admin_password, self.admin_project)

    def os_environ(self) -> dict[str, str]:
        """The admin credentials as ``OS_*`` variables."""
        return {
            "OS_AUTH_URL": self.auth_url,
            "OS_USERNAME": self.admin_username,
            "OS_PASSWORD": self.admin_password,
            "OS_PROJECT_NAME": self.admin_project,
            "OS_USER_DOMAIN_NAME": "Default",
            "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_REGION_NAME": self.region,
            "OS_IDENTITY_API_VERSION": "3",
            "OS_INTERFACE": "public",
        }


def write_config(workdir: str) -> str:
    """A keystone.conf for a throwaway instance in ``workdir``; return its path."""
    path = os.path.join(workdir, "keystone.conf")
    # Keystone leaves read transactions open between requests; in SQLite's
    # default journal mode they make every later write fail with "database
    # is locked". In WAL mode readers never block a writer.
    with contextlib.closing(sqlite3.connect(os.path.join(workdir, "keystone.db"))) as database:
        database.execute("PRAGMA journal_mode=WAL")
    # The key repositories exist, empty and the user's alone, as the keystone
    # profile's directories are: the bootstrap writes their keys itself.
    for repository in ("fernet-keys", "credential-keys"):
        os.mkdir(os.path.join(workdir, repository), mode=0o700)
    with open(path, "w", encoding="utf-8") as conf:
        conf.write(
            f"[DEFAULT]\nlog_file = {workdir}/keystone.log\n"
            f"[database]\nconnection = sqlite:///{workdir}/keystone.db\n"
            f"[fernet_tokens]\nkey_repository = {workdir}/fernet-keys/\n"
            f"[fernet_receipts]\nkey_repository = {workdir}/fernet-keys/\n"
            f"[credential]\nkey_repository = {workdir}/credential-keys/\n"
            "[token]\nprovider = fernet\n"
        )
    return path


def bootstrap_spec(config_file: str, url: str, region: str = DEFAULT_REGION) -> BootstrapSpec:
    """The bootstrap of a throwaway instance: keys owned by the running user."""
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    return BootstrapSpec(
        Endpoints.same(url), config_file=config_file, system_user=user, system_group=group, region=region
    )


def start_uwsgi(workdir: str, port: int) -> subprocess.Popen[bytes]:
    """Serve Keystone with uwsgi on 127.0.0.1:``port``; return the master process."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "OS_KEYSTONE_CONFIG_DIR": workdir,
        "OS_KEYSTONE_CONFIG_FILES": "keystone.conf",
    }
    argv = [
        UWSGI,
        "--http-socket",
        f"127.0.0.1:{port}",
        # keystoneauth1's second request on a kept-alive connection fails
        # with this uwsgi: one request per connection.
        "--add-header",
        "Connection: close",
        "--wsgi-file",
        WSGI_SCRIPT,
        "--master",
        "--processes",
        "1",
        # One thread: SQLite answers "database is locked" to concurrent writes.
        "--threads",
        "1",
        "--die-on-term",
        "--lazy-apps",
    ]
    log = open(os.path.join(workdir, "uwsgi.log"), "wb")  # noqa: SIM115 (the child keeps it)
    try:
        return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()


def wait_ready(url: str, process: subprocess.Popen[bytes], workdir: str) -> None:
    """Wait until Keystone answers GET ``url``; fail with uwsgi's log if it dies."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uwsgi exited with {process.returncode}:\n{_tail(workdir)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"Keystone did not answer on {url} within {START_TIMEOUT} s:\n{_tail(workdir)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop uwsgi by its PID (its master stops the workers), killing it if needed."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def _tail(workdir: str) -> str:
    try:
        with open(os.path.join(workdir, "uwsgi.log"), encoding="utf-8", errors="replace") as log:
            return "".join(log.readlines()[-30:])
    except OSError:
        return "(no uwsgi log)"


@contextmanager
def keystone_server(workdir: str, *, region: str = DEFAULT_REGION, port: int = 0) -> Iterator[KeystoneServer]:
    """Bootstrap and serve a throwaway Keystone in ``workdir``; stop it on exit.

    ``port`` 5000 puts it where a local Keystone listens (what maintainer
    scripts assume); by default it is a free port.
    """
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/v3"
    password = "Adm1n-" + secrets.token_urlsafe(12)
    config_file = write_config(workdir)
    bootstrap(bootstrap_spec(config_file, url, region), password)
    process = start_uwsgi(workdir, port)
    try:
        wait_ready(url, process, workdir)
        server = KeystoneServer(
            url, "admin", password, "admin", region, process.pid, port, config_file, workdir
        )
        ensure_service_project(KeystoneClient(server.credentials()))
        yield server
    finally:
        stop(process)
