"""What the dpkg tests share: running dpkg, apt-get and debconf's tools on this machine.

Maintainer scripts run under /usr/bin/python3 and find the toolkit under
test through PYTHONPATH; apt-get runs dpkg with the PATH given as
``DPkg::Path``, so that the scripts find the ``pkgos`` under test too.
Other test suites on this machine install packages at the same time: every
command waits for dpkg's and debconf's locks rather than fail.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.servers.keystone import KeystoneServer

ROOT = Path(__file__).resolve().parents[2]
PATH = f"{ROOT / '.venv' / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin"
LOCK_WAIT = 900


def run(*argv: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command the way dpkg would run our scripts; raise with its output on failure."""
    env = {
        "PATH": PATH,
        "LANG": "C.UTF-8",
        "DEBIAN_FRONTEND": "noninteractive",
        # The maintainer scripts run under /usr/bin/python3: this makes the
        # toolkit under test importable there without installing it.
        "PYTHONPATH": str(ROOT),
        "HOME": "/root",
    }
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, check=False)
        if "locked by another process" not in result.stderr or time.monotonic() > deadline:
            break
        time.sleep(2)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def pkgos(*args: str) -> subprocess.CompletedProcess[str]:
    """The ``pkgos`` under test."""
    return run(str(ROOT / ".venv" / "bin" / "pkgos"), *args)


def purge(package: str) -> None:
    """``dpkg --purge``, whether or not the package is installed."""
    run("dpkg", "--purge", package, check=False)


def forget_everything(package: str, user: str | None = None) -> None:
    """Purge, and remove the system user and group that Debian's policy makes purge keep."""
    purge(package)
    run("deluser", "--system", "--quiet", user or package, check=False)
    run("delgroup", "--system", "--quiet", user or package, check=False)


def selections(package: str) -> dict[str, str]:
    """A package's debconf answers, by question name without the package's prefix."""
    return _answers(lambda owner, _name: owner == package, package)


def answers(prefix: str) -> dict[str, str]:
    """The debconf answers of the questions named ``prefix/...``, whoever owns them."""
    return _answers(lambda _owner, name: name.startswith(f"{prefix}/"), prefix)


def _answers(wanted: Callable[[str, str], bool], prefix: str) -> dict[str, str]:
    found = {}
    for line in run("debconf-get-selections").stdout.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and wanted(fields[0], fields[1]):
            found[fields[1].removeprefix(f"{prefix}/")] = fields[3] if len(fields) > 3 else ""
    return found


def apt_install(deb: Path) -> subprocess.CompletedProcess[str]:
    """``apt-get install ./x.deb``: preconfigures (config runs twice), then installs."""
    return run(
        "apt-get",
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "-o",
        f"DPkg::Path={PATH}",
        "-o",
        f"DPkg::Lock::Timeout={LOCK_WAIT}",
        str(deb),
    )


def dpkg_install(deb: Path) -> subprocess.CompletedProcess[str]:
    """``dpkg -i``."""
    return run("dpkg", "-i", str(deb))


def keystone_session(auth_url: str, username: str, password: str, project: str) -> Any:
    """A keystoneauth1 session that logs in to ``project`` (Default domain)."""
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    auth = v3.Password(
        auth_url=auth_url,
        username=username,
        password=password,
        project_name=project,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    return session.Session(auth=auth)


def catalog(keystone: KeystoneServer, service_type: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The names of the services of ``service_type``, and the first one's (interface, URL), sorted."""
    admin = keystone_session(
        keystone.auth_url, keystone.admin_username, keystone.admin_password, keystone.admin_project
    )
    services = admin.get(f"{keystone.auth_url}/services?type={service_type}").json()["services"]
    if not services:
        return [], []
    endpoints = admin.get(f"{keystone.auth_url}/endpoints?service_id={services[0]['id']}").json()
    return [service["name"] for service in services], sorted(
        (endpoint["interface"], endpoint["url"]) for endpoint in endpoints["endpoints"]
    )
