"""What the dpkg tests share: running dpkg, apt-get and debconf's tools on this machine.

Maintainer scripts run under /usr/bin/python3 and find the toolkit under
test through PYTHONPATH; apt-get runs dpkg with the PATH given as
``DPkg::Path``, so that the scripts find the ``pkgos`` under test too.
Other test suites on this machine install packages at the same time: every
command waits for dpkg's and debconf's locks rather than fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from demo.consumers import Consumer, build
from openstack_pkg_tools.keystone.client import password_session
from openstack_pkg_tools.keystone.model import AdminCredentials
from tests.servers.keystone import KeystoneServer
from tests.servers.mariadb import MariaDB

ROOT = Path(__file__).resolve().parents[2]
PATH = f"{ROOT / '.venv' / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin"
LOCK_WAIT = 900
# Debian's own packages, downloaded by the tests that compare with them (never committed).
CACHE = ROOT / ".cache" / "debs"


def run(
    *argv: str, stdin: str = "", check: bool = True, env: dict[str, str] | None = None, cwd: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command the way dpkg would run our scripts; raise with its output on failure.

    ``env`` replaces the environment that finds the toolkit under test.
    """
    env = env or {
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
        result = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, env=env, cwd=cwd, check=False
        )
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


def debian_deb(package: str) -> Path:
    """Debian 12's ``package``, downloaded with ``apt-get download`` into the cache once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob(f"{package}_*.deb"))
    if not found:
        run("apt-get", "download", package, cwd=str(CACHE))
        found = sorted(CACHE.glob(f"{package}_*.deb"))
    assert len(found) == 1, found
    return found[0]


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
    return password_session(AdminCredentials(auth_url, username, password, project))


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


# A site where everything is on this machine: the database through the
# local socket, Keystone and the API endpoints on 127.0.0.1.
SITE = """\
[site]
region = "{region}"

[database]
host = "localhost"
type = "mysql"

[rabbitmq]
host = "127.0.0.1"

[keystone]
address = "127.0.0.1"

[controller]
address = "127.0.0.1"

[network]
provider_interface = "eth1"

[passwords]
store = "secrets.toml"
generate = true
"""


def generated_preseed(workdir: Path, prefix: str, region: str, passwords: dict[str, str]) -> str:
    """The ``prefix/`` lines of the controller preseed that ``pkgos preseed generate`` writes.

    ``passwords`` go into the site's 0600 password store (by store name,
    e.g. ``glance-db``); the others are generated.
    """
    site = workdir / "site"
    site.mkdir()
    (site / "site.toml").write_text(SITE.format(region=region))
    store = site / "secrets.toml"
    store.write_text("".join(f'{name} = "{value}"\n' for name, value in passwords.items()))
    store.chmod(0o600)
    pkgos("preseed", "generate", str(site / "site.toml"), "--output-dir", str(site), "--role", "controller")
    lines = (site / "controller.preseed").read_text().splitlines()
    return "".join(f"{line}\n" for line in lines if f" {prefix}/" in line)


def forget_questions(*owners: str) -> None:
    """Remove the questions preseeded for packages never installed here."""
    for owner in owners:
        run("debconf-communicate", owner, stdin="PURGE\n", check=False)


@contextmanager
def package_workdir(prefix: str, cleanup: Callable[[], None]) -> Iterator[Path]:
    """A temporary directory for a test package, with ``cleanup()`` before and after."""
    if os.geteuid() != 0:
        raise AssertionError("the dpkg tests install packages: run them as root (make check does)")
    path = Path(tempfile.mkdtemp(prefix=prefix))
    cleanup()
    try:
        yield path
    finally:
        cleanup()
        shutil.rmtree(path)


def tables(server: MariaDB, database: str) -> set[str]:
    """The tables of ``database`` on ``server``."""
    with server.admin_connect() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (database,)
        )
        return {row[0] for row in cursor.fetchall()}


class ArgvWatch:
    """Scans every process's argv (/proc/*/cmdline) in the background for secrets."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = [secret.encode() for secret in secrets]
        self.found: list[str] = []
        self.scans = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                        argv = handle.read()
                except OSError:
                    continue  # the process ended
                if any(secret in argv for secret in self.secrets):
                    self.found.append(argv.replace(b"\0", b" ").decode(errors="replace"))
            self.scans += 1
            self._stop.wait(0.01)

    def __enter__(self) -> ArgvWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def build_consumer(workdir: Path, service: str, package: str, version: str) -> Path:
    """The consumer package of ``demo/packages/<service>`` that ``make demo-short`` installs.

    Under the test's own ``package`` name, built with the ``pkgos`` under
    test, and without the dependency on the toolkit's own package: the
    maintainer scripts find the toolkit in the source tree.
    """
    consumer = Consumer(service, package, version, depends_on_toolkit=False)
    return build(consumer, workdir, [str(ROOT / ".venv" / "bin" / "pkgos")], lambda argv: run(*argv).stdout)
