"""Keystone and Glance installed in one node by apt-get, from the signed local archive and a preseed.

What the fault tests build on (see test_install_faults.py and
docs/operators.md, sections 5 and 6). On the
host: ``make archive`` (the toolkit's packages built from this tree, and
Debian's packages rewired), the Keystone and Glance consumer packages of
``demo/packages`` added to a copy of it and the copy signed again with
the archive's key, and an all-in-one preseed from ``pkgos preseed
generate``. In the node: MariaDB and RabbitMQ from Debian, then
``apt-get install`` of Keystone and Glance with
``DEBIAN_FRONTEND=noninteractive``, nothing asked; each service runs from
a systemd unit, so a test stops and starts it as an operator would.

Glance is the consumer package, which runs every step of the toolkit
(database, db sync, transport_url, [keystone_authtoken], service user,
catalog): Debian's glance-api, rewired, holds the catalog step alone,
and Debian's glance-common cannot be rewired yet. Keystone is the
consumer package too until Debian's keystone is rewired: then
``KEYSTONE = DEBIAN_KEYSTONE`` is the one line to change (its package
ships its own unit and is in ``make archive``'s archive).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo.consumers import Consumer, build
from tests.nodes import node
from tests.nodes.state import NodeState
from tests.nodes.system import NodeError

ROOT = Path(__file__).resolve().parents[3]
PKGOS = [sys.executable, "-m", "openstack_pkg_tools"]
NODE = "ft"
ARCHIVE = "/srv/pkgos-archive"
PROBE = "/root/pkgos-probe.py"
NONINTERACTIVE = {"DEBIAN_FRONTEND": "noninteractive"}
APT = ["apt-get", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600"]
# A uwsgi.ini of a consumer package, served by systemd as an operator's unit would.
UNIT = """[Unit]
Description={package} (uwsgi)
After=network.target mariadb.service

[Service]
ExecStart=/usr/bin/uwsgi_python3 --ini /etc/{package}/uwsgi.ini
KillSignal=SIGTERM
Restart=no

[Install]
WantedBy=multi-user.target
"""


@dataclass(frozen=True)
class Service:
    """One OpenStack package of the node and the unit that serves it."""

    package: str
    unit: str
    port: int
    consumer: str = ""  # the folder of demo/packages it is built from; empty: a package of the archive
    writes_unit: bool = False  # the package ships no unit: the test writes one

    @property
    def etc(self) -> str:
        return f"/etc/{self.package}"


DEMO_KEYSTONE = Service("pkgos-demo-keystone", "pkgos-demo-keystone", 5000, "keystone", writes_unit=True)
DEBIAN_KEYSTONE = Service("keystone", "keystone", 5000)
KEYSTONE = DEMO_KEYSTONE
GLANCE = Service("pkgos-demo-glance", "pkgos-demo-glance", 9292, "glance", writes_unit=True)
MARIADB_UNIT = "mariadb"
RABBITMQ_UNIT = "rabbitmq-server"
# The RabbitMQ user the generated preseed gives every service.
RABBIT_USER = "openstack"
# The question prefixes of the preseed lines the node gets.
PREFIXES = ("keystone", "glance")


@dataclass(frozen=True)
class Stack:
    """The node, its passwords (the site's store) and the state of its clean install."""

    node: NodeState
    passwords: dict[str, str]
    preseed: str  # Glance's lines of the generated preseed
    baseline: dict[str, Any]

    def glance_password(self, kind: str) -> str:
        """The store's ``glance-db`` or ``glance-keystone`` password."""
        return self.passwords[f"glance-{kind}"]

    @property
    def admin_password(self) -> str:
        return self.passwords["keystone-admin"]


def execute(
    state: NodeState, *argv: str, stdin: str = "", check: bool = True, timeout: float = 1200
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as root in the node, noninteractively; fail with its output unless ``check`` is off."""
    result = node.execute(
        state, list(argv), input=stdin, capture=True, environment=NONINTERACTIVE, timeout=timeout
    )
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr)[-6000:]
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode} in the node:\n{output}")
    return result


def probe(state: NodeState, request: dict[str, Any]) -> Any:
    """An answer of probe.py, run in the node (the request, secrets included, on its stdin)."""
    return json.loads(execute(state, "/usr/bin/python3", PROBE, stdin=json.dumps(request)).stdout)


def host(*argv: str, cwd: Path = ROOT) -> str:
    """Run ``argv`` on the host; its stdout, or a failure with its output."""
    result = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result.stdout


def archive(workdir: Path) -> Path:
    """``make archive``'s signed archive with the consumer packages added, signed again."""
    host("make", "archive")
    copy = workdir / "archive"
    shutil.copytree(ROOT / "build" / "archive", copy)
    for service in (KEYSTONE, GLANCE):
        if service.consumer:
            consumer = Consumer(service.consumer, service.package, "1.0")
            shutil.copy(build(consumer, workdir / "consumers", PKGOS, lambda argv: host(*argv)), copy)
    host(*PKGOS, "archive", str(copy), "--key-dir", str(ROOT / ".cache" / "archive-key"))
    return copy


def preseed(workdir: Path) -> tuple[str, dict[str, str]]:
    """The keystone and glance lines of the all-in-one preseed of a one-machine site, and its passwords."""
    site = workdir / "site"
    site.mkdir()
    text = (ROOT / "preseed" / "demo-site.toml").read_text()
    (site / "site.toml").write_text(text.replace('type = "sqlite"', 'type = "mysql"\nhost = "localhost"'))
    host(
        *PKGOS,
        "preseed",
        "generate",
        str(site / "site.toml"),
        "--role",
        "all-in-one",
        "--output-dir",
        str(site),
    )
    lines = (site / "all-in-one.preseed").read_text().splitlines()
    wanted = "".join(f"{line}\n" for line in lines if any(f" {prefix}/" in line for prefix in PREFIXES))
    return wanted, tomllib.loads((site / "secrets.toml").read_text())


def prefixed(text: str, prefix: str) -> str:
    """The lines of a preseed that answer questions of ``prefix``."""
    return "".join(f"{line}\n" for line in text.splitlines() if f" {prefix}/" in line)


def serve(state: NodeState, service: Service) -> None:
    """Start ``service``'s unit (written first for a package that ships none); wait until it answers."""
    if service.writes_unit:
        unit = f"/etc/systemd/system/{service.unit}.service"
        execute(state, "tee", unit, stdin=UNIT.format(package=service.package))
        execute(state, "systemctl", "daemon-reload")
    execute(state, "systemctl", "start", service.unit)
    wait_for_port(state, service.port)


def wait_for_port(state: NodeState, port: int, timeout: float = 180) -> None:
    """Wait until something answers HTTP on 127.0.0.1:``port`` in the node."""
    deadline = time.monotonic() + timeout
    script = (
        "import urllib.request, urllib.error\n"
        "try:\n"
        f"    urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=10).close()\n"
        "except urllib.error.HTTPError:\n"
        "    pass\n"
    )
    while execute(state, "/usr/bin/python3", "-c", script, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing answers on port {port} in the node after {timeout:.0f} s")
        time.sleep(1)


def stop(state: NodeState, unit: str) -> None:
    execute(state, "systemctl", "stop", unit)


def start(state: NodeState, unit: str) -> None:
    execute(state, "systemctl", "start", unit)


def install_node(workdir: Path) -> Stack:
    """Start the node and install the stack in it; return it with its clean install's snapshot."""
    repository = archive(workdir)
    answers, passwords = preseed(workdir)
    state = node.start(NODE)
    execute(state, "apt-get", "update", "-q")
    execute(state, *APT, "install", "mariadb-server", "rabbitmq-server")
    node.copy_in(state, str(repository), "/srv")
    execute(state, "mv", f"/srv/{repository.name}", ARCHIVE)
    node.copy_in(state, str(Path(__file__).with_name("probe.py")), "/root")
    execute(state, "mv", "/root/probe.py", PROBE)
    execute(
        state,
        "tee",
        "/etc/apt/sources.list.d/pkgos.list",
        stdin=f"deb [signed-by={ARCHIVE}/archive-key.pgp] file:{ARCHIVE} ./\n",
    )
    execute(state, "apt-get", "update", "-q")
    execute(state, "debconf-set-selections", stdin=answers)
    execute(state, *APT, "install", KEYSTONE.package)
    serve(state, KEYSTONE)
    execute(state, *APT, "install", GLANCE.package)
    serve(state, GLANCE)
    ensure_rabbit_account(state, passwords)
    stack = Stack(state, passwords, prefixed(answers, "glance"), {})
    return Stack(state, passwords, stack.preseed, snapshot(stack))


def ensure_rabbit_account(state: NodeState, passwords: dict[str, str], check: bool = True) -> Any:
    """The operator's step after the install: Glance's RabbitMQ account on the local broker."""
    return execute(
        state,
        "pkgos",
        "rabbit",
        "ensure",
        "--config",
        f"{GLANCE.etc}/glance-api.conf",
        "--host",
        "127.0.0.1",
        "--user",
        RABBIT_USER,
        "--password-stdin",
        "--create-user",
        stdin=passwords["rabbitmq"] + "\n",
        check=check,
    )


def snapshot(stack: Stack) -> Any:
    """What an install leaves that matters: config files, databases, RabbitMQ users, Keystone's state."""
    request = {"action": "snapshot", "admin_password": stack.admin_password, "configs": [GLANCE.etc]}
    return probe(stack.node, request)


def remove() -> None:
    """Remove the node, if it exists."""
    try:
        node.remove(NODE)
    except NodeError as error:
        if "no node named" not in str(error):
            raise
