"""A real Glance for tests: Debian's python3-glance, served by uwsgi on 127.0.0.1.

``glance_server(workdir, keystone)`` writes glance-api.conf (SQLite
database and file store in ``workdir``, [keystone_authtoken] against the
given Keystone) and a minimal paste pipeline, runs Glance's db_sync,
serves the API with uwsgi on a free port, registers the image service and
its public endpoint in Keystone's catalog, and yields a ``GlanceServer``.
On exit uwsgi is stopped by its PID::

    with keystone_server(tmp) as keystone, glance_server(tmp2, keystone) as glance:
        glance.url  # http://127.0.0.1:PORT

Needs python3-glance (``--no-install-recommends``: no glance-api package,
so no paste ini and no glance-manage), uwsgi-core and uwsgi-plugin-python3.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import free_port

UWSGI = "/usr/bin/uwsgi_python3"
START_TIMEOUT = 90.0

# The paste pipeline and WSGI script of the demo's Glance package.
DEMO_GLANCE = Path(__file__).resolve().parents[2] / "demo" / "packages" / "glance"
PASTE_INI = (DEMO_GLANCE / "glance-api-paste.ini").read_text()
WSGI_APP = (DEMO_GLANCE / "glance-wsgi-api").read_text()


@dataclass(frozen=True)
class GlanceServer:
    """A running Glance API."""

    url: str
    pid: int
    store_dir: str
    workdir: str


def write_config(workdir: str, port: int, keystone: Any) -> str:
    store = os.path.join(workdir, "images")
    os.makedirs(store, exist_ok=True)
    for name in ("staging", "tasks"):
        os.makedirs(os.path.join(workdir, name), exist_ok=True)
    conf = f"""\
[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
enabled_backends = fs:file
log_file = {workdir}/glance-api.log

[database]
connection = sqlite:///{workdir}/glance.sqlite

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = {store}

[os_glance_staging_store]
filesystem_store_datadir = {workdir}/staging

[os_glance_tasks_store]
filesystem_store_datadir = {workdir}/tasks

[paste_deploy]
flavor = keystone

[keystone_authtoken]
www_authenticate_uri = {keystone.auth_url}
auth_url = {keystone.auth_url}
auth_type = password
username = {keystone.admin_username}
password = {keystone.admin_password}
project_name = {keystone.admin_project}
user_domain_name = Default
project_domain_name = Default
region_name = {keystone.region}
"""
    path = os.path.join(workdir, "glance-api.conf")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(conf)
    with open(os.path.join(workdir, "glance-api-paste.ini"), "w") as handle:
        handle.write(PASTE_INI)
    with open(os.path.join(workdir, "app.py"), "w") as handle:
        handle.write(WSGI_APP)
    return path


def db_sync(config_file: str, workdir: str) -> None:
    result = subprocess.run(
        ["/usr/bin/python3", "-m", "glance.cmd.manage", "--config-file", config_file, "db_sync"],
        capture_output=True,
        text=True,
        check=False,
        cwd=workdir,
    )
    assert result.returncode == 0, f"glance db_sync failed:\n{result.stderr[-3000:]}"


def admin_session(keystone: Any) -> Any:
    """A keystoneauth1 session logged in as Keystone's admin."""
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    auth = v3.Password(
        auth_url=keystone.auth_url,
        username=keystone.admin_username,
        password=keystone.admin_password,
        project_name=keystone.admin_project,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    return session.Session(auth=auth)


def register(keystone: Any, url: str) -> None:
    """The image service and its public endpoint in Keystone's catalog (admin session)."""
    admin = admin_session(keystone)
    identity = {"service_type": "identity", "interface": "public"}
    service = admin.post(
        "/services", json={"service": {"type": "image", "name": "glance"}}, endpoint_filter=identity
    ).json()["service"]
    admin.post(
        "/endpoints",
        json={
            "endpoint": {
                "service_id": service["id"],
                "interface": "public",
                "url": url,
                "region_id": keystone.region,
            }
        },
        endpoint_filter=identity,
    )


def start_uwsgi(workdir: str, port: int) -> subprocess.Popen[bytes]:
    log = open(os.path.join(workdir, "uwsgi.log"), "wb")  # noqa: SIM115 (the child keeps it)
    env = {**os.environ, "OS_GLANCE_CONFIG_DIR": workdir}
    return subprocess.Popen(
        [UWSGI, "--http-socket", f"127.0.0.1:{port}", "--add-header", "Connection: close",
         "--wsgi-file", os.path.join(workdir, "app.py"), "--master", "--processes", "1",
         "--threads", "2", "--die-on-term", "--lazy-apps", "--buffer-size", "65535"],
        stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=env,
    )  # fmt: skip


def wait_ready(url: str, process: subprocess.Popen[bytes], workdir: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, "glance's uwsgi died:\n" + _tail(workdir)
        try:
            with urllib.request.urlopen(url + "/versions", timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.5)
    raise AssertionError("glance did not answer in time:\n" + _tail(workdir))


def _tail(workdir: str) -> str:
    parts = []
    for name in ("uwsgi.log", "glance-api.log"):
        try:
            with open(os.path.join(workdir, name), errors="replace") as handle:
                parts.append(handle.read()[-3000:])
        except OSError:
            pass
    return "\n".join(parts)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def glance_server(workdir: str, keystone: Any) -> Iterator[GlanceServer]:
    """Serve a throwaway Glance in ``workdir`` against ``keystone``; stop it on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config_file = write_config(workdir, port, keystone)
    db_sync(config_file, workdir)
    process = start_uwsgi(workdir, port)
    try:
        wait_ready(url, process, workdir)
        register(keystone, url)
        yield GlanceServer(url, process.pid, os.path.join(workdir, "images"), workdir)
    finally:
        stop(process)
