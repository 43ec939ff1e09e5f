"""make demo: a whole OpenStack cloud from ``apt-get install`` and one preseed, and a VM on it.

Run from the repository's top directory, as root, on Debian 12:
``python3 -m demo.cloud up`` (``make demo``) and ``python3 -m demo.cloud
clean`` (``make demo-clean``). The phases, each timed:

1. **node**: a Debian 12 node ``pkgos-aio`` (tests/nodes: systemd as PID 1,
   its own network namespace on the project's bridge), given what a real
   machine has and a container lacks: a default route (to the host, which
   forwards nothing) and a second interface ``eth1`` for the provider
   network (a veth pair inside the node).
2. **archive**: ``build/archive`` (``make archive``: Debian's packages
   rewired to the toolkit, the toolkit's packages, the meta-packages) copied
   into the node and named in its APT sources with ``signed-by``; bookworm,
   -updates and -security for everything else.
3. **preseed**: ``pkgos preseed generate`` of ``preseed/cloud-site.toml``
   (the node's address put in), checked, loaded with
   ``debconf-set-selections``; for Debian's stock packages, dbconfig-common's
   names of the same database answers.
4. **operator**: MariaDB's max_connections; then **install**:
   ``DEBIAN_FRONTEND=noninteractive apt-get install -y
   --no-install-recommends openstack-toaster nova-compute-qemu``.
5. **rabbit-account**, **settings**: the RabbitMQ account (no package makes
   it); every profile setting of the installed packages checked, and the
   ones their scripts left out written (each reported). **node-fixes**:
   what only a container needs (libvirt's cgroup controllers).
   **after-install**: what the operator of a small cloud does too (see
   docs/cloud.md).
6. **check**: every unit active; Keystone, Glance, Placement, Nova and
   Neutron answer with a token, Nova's metadata API answers; MariaDB and
   RabbitMQ up.
7. **vm**: ``pkgos build-image`` (cached), ``pkgos image-upload``, a
   provider network and subnet, a flavor, a key pair, ``openstack server
   create``; the server ACTIVE, its console log showing Neutron's DHCP
   lease and the metadata service's instance-id and user-data; then it is
   deleted.
8. **tempest**: Debian's tempest in the node, configured for the cloud;
   identity, image, network and compute tests (demo/tempest.py).

The summary (``build/cloud/summary.txt``) says what was installed (each
package rewired or Debian's stock one), the console's proof, the time of
each phase and the node's memory. The node is left running for a look
(``python3 -m tests.nodes exec aio -- openstack --os-cloud aio server
list``) until ``make demo-clean`` removes it.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.nodes import config, node, state
from tests.nodes.system import NodeError

REPO = config.REPO
# A run's defaults (make demo's): see Target.
NODE = "aio"
BUILD = REPO / "build" / "cloud"
ARCHIVE = REPO / "build" / "archive"
SITE_TEMPLATE = REPO / "preseed" / "cloud-site.toml"
# The address the site file is written for; replaced by the node's own.
SITE_ADDRESS = "172.29.84.10"
IMAGE_CACHE = REPO / ".cache" / "cloud" / "image"
IMAGE = IMAGE_CACHE / "debian-12"
IMAGE_TREE_CACHE = REPO / ".cache" / "cloud" / "image-tree"
PKGOS = [str(REPO / ".venv" / "bin" / "python"), "-m", "openstack_pkg_tools"]

NODE_ARCHIVE = "/srv/pkgos"
NODE_PRESEED = "/root/preseed"
PROVIDER_INTERFACE = "eth1"
# The other end of the provider interface, inside the node: the provider
# network is the node's own segment (the VM, the DHCP agent's port).
PROVIDER_PEER = "pkgos-provider"
# What apt-get installs on each kind of node (nova-compute-qemu named: the
# meta-packages' "nova-compute-kvm | nova-compute-qemu" would take KVM,
# which does not boot guests here).
ROLE_PACKAGES = {
    "all-in-one": ["openstack-toaster", "nova-compute-qemu"],
    "controller": ["openstack-proxy-node", "openstack-clients"],
    "compute": ["openstack-compute-node", "nova-compute-qemu"],
}
# dbconfig-common's MySQL part, which Debian's stock packages only recommend:
# without it (--no-install-recommends) their databases fall back to SQLite.
# The toolkit's command too, which the operator's steps after the install
# use (pkgos ini, pkgos rabbit): the rewired packages pull it in, Debian's
# stock ones do not.
STOCK_EXTRAS = ["dbconfig-mysql", "openstack-pkg-tools"]

# The units an all-in-one install starts (Debian's names).
UNITS = [
    "mariadb",
    "rabbitmq-server",
    "keystone",
    "glance-api",
    "placement-api",
    "nova-api",
    "nova-api-metadata",
    "nova-conductor",
    "nova-scheduler",
    "nova-compute",
    "libvirtd",
    "neutron-api",
    "neutron-rpc-server",
    "neutron-linuxbridge-agent",
    "neutron-dhcp-agent",
    "neutron-metadata-agent",
]
# The hypervisor's units run on compute nodes only; the linuxbridge agent
# runs on every node (on the controller for the DHCP agent's ports).
HYPERVISOR_UNITS = ("nova-compute", "libvirtd")
ROLE_UNITS = {
    "all-in-one": UNITS,
    "controller": [unit for unit in UNITS if unit not in HYPERVISOR_UNITS],
    "compute": [*HYPERVISOR_UNITS, "neutron-linuxbridge-agent"],
}
# Debian's packages of the cloud whose scripts matter: each is reported as
# rewired (version with +pkgos) or Debian's stock package.
SERVICE_PACKAGES = [
    "keystone",
    "glance-common",
    "glance-api",
    "placement-common",
    "placement-api",
    "nova-common",
    "nova-api",
    "nova-conductor",
    "nova-scheduler",
    "nova-compute",
    "nova-compute-qemu",
    "neutron-common",
    "neutron-api",
    "neutron-rpc-server",
    "neutron-linuxbridge-agent",
    "neutron-dhcp-agent",
    "neutron-metadata-agent",
]
USER_DATA_MARKER = "pkgos-user-data-ran"


class CloudError(Exception):
    """A phase failed; the message says which and why."""


@dataclass(frozen=True)
class Target:
    """Where a run goes: its node, the archive its apt installs from, the host directory of its files."""

    node: str = NODE
    archive: Path = ARCHIVE
    build: Path = BUILD
    # The install with DEBCONF_DEBUG=developer, its debconf lines kept in
    # build/site/debconf.log (they hold answers): what was asked (bench/cloud.py).
    debconf_log: bool = False
    # The node's part of the cloud (a preseed role of pkgos preseed generate).
    role: str = "all-in-one"
    # The site file, its password store and the preseeds, when several
    # nodes share them (make demo NODES=3); build/site otherwise.
    site: Path | None = None

    @property
    def shared(self) -> bool:
        """Whether other nodes' runs go on at the same time (their output only in their logs)."""
        return self.site is not None


# The target of the run in progress (set by active()); make demo's by default,
# so the phases' helpers (inside, openstack, the_node) need no argument.
_TARGET: ContextVar[Target] = ContextVar("target")
DEMO = Target()


def target() -> Target:
    """The target of the run in progress."""
    return _TARGET.get(DEMO)


def units() -> list[str]:
    """The units the target's role runs."""
    return ROLE_UNITS[target().role]


@dataclass
class Run:
    """What the run measured, for the summary."""

    target: Target = DEMO
    started: float = field(default_factory=time.monotonic)
    phases: list[tuple[str, float]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    address: str = ""
    # Moments (time.monotonic()) the benchmark measures between.
    marks: dict[str, float] = field(default_factory=dict)

    def note(self, line: str) -> None:
        """A line of the summary, printed now too (with the node's name when several share the output)."""
        say(f"[{self.target.node}] {line}" if self.target.shared else line)
        self.lines.append(line)


def say(line: str) -> None:
    print(f"cloud: {line}", flush=True)


@contextmanager
def active(run: Run) -> Iterator[None]:
    """``run``'s target is the one the phases work on, inside the block."""
    token = _TARGET.set(run.target)
    try:
        yield
    finally:
        _TARGET.reset(token)


@contextmanager
def phase(run: Run, name: str) -> Iterator[None]:
    """A timed phase; its time goes into the summary."""
    say(f"== {name}")
    began = time.monotonic()
    try:
        yield
    finally:
        spent = time.monotonic() - began
        run.phases.append((name, spent))
        say(f"== {name}: {spent:.0f} s")


def the_node() -> state.NodeState:
    return node.get(target().node)


def inside(
    argv: list[str], *, input: str | None = None, check: bool = True, timeout: float | None = None
) -> str:
    """Run ``argv`` in the node; its output (stdout) as text. A failure raises CloudError."""
    result = node.execute(
        the_node(), argv, input=input if input is not None else "", capture=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise CloudError(
            f"{shlex.join(argv)} exited {result.returncode} in the node: {result.stderr.strip()[-2000:]}"
        )
    return result.stdout


def inside_logged(
    argv: list[str], log: Path, environment: dict[str, str] | None = None, debconf_log: Path | None = None
) -> int:
    """Run ``argv`` in the node, its output appended to ``log`` and shown (unless shared); its exit code.

    With ``debconf_log``, debconf's debug lines go there (mode 0600) instead:
    they hold the answers, passwords too.
    """
    with ExitStack() as files:
        sink = files.enter_context(open(log, "ab"))
        private = None
        if debconf_log is not None:
            descriptor = os.open(debconf_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            private = files.enter_context(open(descriptor, "ab"))
        child = subprocess.Popen(
            node.enter_argv(the_node(), argv, environment),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert child.stdout is not None
        for line in child.stdout:
            if private is not None and line.startswith(b"debconf ("):
                private.write(line)
                continue
            if not target().shared:
                sys.stdout.buffer.write(line)
                sys.stdout.buffer.flush()
            sink.write(line)
        return child.wait()


def shell(script: str, *, check: bool = True, timeout: float | None = None) -> str:
    """A shell script in the node (for pipes and redirections of the node's own files)."""
    return inside(["sh", "-ec", script], check=check, timeout=timeout)


def host(argv: list[str], *, input: str | None = None) -> str:
    """Run ``argv`` on the host; its output. A failure raises CloudError."""
    result = subprocess.run(argv, input=input, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CloudError(f"{shlex.join(argv)} exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    return result.stdout


def wait_for(what: str, probe: Callable[[], bool], timeout: float, interval: float = 3.0) -> float:
    """Wait until ``probe()`` is true; the seconds it took. CloudError after ``timeout``."""
    began = time.monotonic()
    while True:
        if probe():
            return time.monotonic() - began
        if time.monotonic() - began > timeout:
            raise CloudError(f"{what}: not after {timeout:.0f} s")
        time.sleep(interval)


# 1. node


def start_node(run: Run) -> None:
    """Start ``pkgos-aio`` and give it what a real machine has."""
    name = target().node
    if state.load_node(config.full_name(name)) is not None:
        raise CloudError(f"{config.full_name(name)} exists: make demo-clean first")
    started = node.start(name)
    run.address = started.address
    run.note(f"node {started.name} at {started.address}, booted in {started.boot_seconds} s")
    prepare_node()


def prepare_node() -> None:
    """A default route (a machine's own address is that of its default route) and the provider interface.

    The route leads to the host, which forwards nothing; eth1 is one end of
    a veth pair inside the node, the provider network's segment.
    """
    shell(
        f"ip route replace default via {config.HOST_ADDRESS} dev eth0\n"
        f"ip link show {PROVIDER_INTERFACE} >/dev/null 2>&1 || "
        f"ip link add {PROVIDER_INTERFACE} type veth peer name {PROVIDER_PEER}\n"
        f"ip link set {PROVIDER_INTERFACE} up\nip link set {PROVIDER_PEER} up\n"
    )
    # os-vif and neutron write /proc/sys and /sys: the node machinery mounts them writable.
    shell("test -w /proc/sys/net/ipv4/ip_forward && test -w /sys/class/net")


# Every service keeps a pool of database connections per process: MariaDB's
# default max_connections (151) runs out on one machine with all of them
# (error 1040, root locked out too). A file of its own, not a package's
# conffile, so it is written before the install and read at the first start.
MARIADB_CONF = "/etc/mysql/mariadb.conf.d/99-openstack.cnf"
MARIADB_SETTINGS = "[mysqld]\nmax_connections = 1000\n"


def prepare_operator(run: Run) -> None:
    """What the operator of a one-machine cloud writes before the install (docs/cloud.md)."""
    shell(f"mkdir -p {MARIADB_CONF.rsplit('/', 1)[0]}\nprintf '{MARIADB_SETTINGS}' > {MARIADB_CONF}")
    run.note(f"operator: {MARIADB_CONF}: max_connections = 1000")


# 2. archive


def archive_line() -> str:
    """The node's APT sources line for the archive: signed-by its key, never trusted=yes."""
    directory = f"{NODE_ARCHIVE}/{target().archive.name}"
    return f"deb [signed-by={directory}/archive-key.pgp] file:{directory} ./"


def add_archive(run: Run) -> None:
    """The run's archive (``build/archive``) into the node as a signed APT source; apt-get update."""
    archive = target().archive
    if not (archive / "InRelease").exists():
        raise CloudError(f"{archive} has no InRelease: run make archive first")
    shell(f"rm -rf {NODE_ARCHIVE}/{archive.name}")
    node.copy_in(the_node(), str(archive), NODE_ARCHIVE)
    shell(f"echo {shlex.quote(archive_line())} > /etc/apt/sources.list.d/pkgos.list")
    inside(["apt-get", "update", "-q"], timeout=600)
    run.note(f"apt source: {archive_line()}")
    stale = older_than_debian()
    if stale:
        run.note(
            "WARNING: Debian has newer versions than the archive's rewired ones (apt-get update on the "
            "host, then make archive): " + ", ".join(stale)
        )


def older_than_debian() -> list[str]:
    """The archive's packages whose candidate in the node is not the archive's version."""
    packages = (target().archive / "Packages").read_text()
    versions = dict(re.findall(r"^Package: (\S+)\n(?:.*\n)*?Version: (\S+)", packages, re.M))
    stale = []
    policy = inside(["apt-cache", "policy", *versions])
    for name, candidate in re.findall(r"^(\S+):\n  Installed: .*\n  Candidate: (\S+)", policy, re.M):
        if name in versions and candidate != versions[name] and "pkgos" in versions[name]:
            stale.append(f"{name} {versions[name]} < {candidate}")
    return stale


# 3. preseed


def site_dir() -> Path:
    return target().site or target().build / "site"


def write_preseed(run: Run) -> None:
    """The role's preseed from the site file (the node's address put in); checked and loaded."""
    generate_preseeds(run.address, [target().role])
    load_preseed(run)


def generate_preseeds(address: str, roles: list[str]) -> None:
    """``pkgos preseed generate`` of the site file with ``address`` for its services, for ``roles``."""
    site = site_dir()
    site.mkdir(parents=True, exist_ok=True)
    os.chmod(site, 0o700)
    text = SITE_TEMPLATE.read_text().replace(SITE_ADDRESS, address)
    (site / "site.toml").write_text(text)
    argv = [*PKGOS, "preseed", "generate", str(site / "site.toml"), "--output-dir", str(site)]
    host([*argv, *(option for role in roles for option in ("--role", role))])


def load_preseed(run: Run) -> None:
    """The target's role's preseed, checked, into the node's debconf database."""
    role = target().role
    preseed = site_dir() / f"{role}.preseed"
    host([*PKGOS, "preseed", "check", "--role", role, str(preseed)])
    node.copy_in(the_node(), str(preseed), NODE_PRESEED)
    inside(["debconf-set-selections", f"{NODE_PRESEED}/{preseed.name}"])
    run.note(f"preseed: {preseed} ({len(preseed.read_text().splitlines())} lines), loaded")
    stock = stock_answers(preseed.read_text(), rewired())
    if stock:
        inside(["debconf-set-selections"], input="\n".join(stock) + "\n")
        owners = sorted({line.split()[0] for line in stock})
        run.note(
            f"stock packages' database answers (dbconfig-common's names, {len(stock)} lines, from the "
            f"preseed's db answers) for: {' '.join(owners)}"
        )


def rewired() -> set[str]:
    """The packages the archive holds rewired (their version has +pkgos)."""
    packages = (target().archive / "Packages").read_text()
    return {
        name
        for name, version in re.findall(r"^Package: (\S+)\n(?:.*\n)*?Version: (\S+)", packages, re.M)
        if "pkgos" in version
    }


# Debian's nova-api creates Nova's API database with a dbconfig-common run
# of its own, behind a question the toolkit's table does not have
# (novaapi/configure_db); the toolkit's nova profile puts nova_api on the
# nova user. Without it [api_database] stays empty and nova-scheduler
# exits ("No sql_connection parameter is established").
STOCK_SECOND_DATABASES = {"nova-api": ("novaapi/configure_db", "nova-common", "nova_api")}

# dbconfig-common's database types for the toolkit's db-type answers.
DBCONFIG_TYPES = {"mysql": "mysql", "pgsql": "pgsql", "sqlite": "sqlite3"}


def stock_answers(preseed: str, rewired_packages: set[str]) -> list[str]:
    """Debian's own names for the preseed's database answers, for the packages installed stock.

    Debian 12's packages create their databases with dbconfig-common, which
    asks its own questions (``keystone/database-type``,
    ``glance-common/mysql/app-pass``); the question table records those
    names (``Question.debian_name``). A package the archive holds rewired
    asks the toolkit's names only and needs none of these.
    """
    from openstack_pkg_tools.preseed.check import debian_names

    ours_to_debian = {(debian.split("/", 1)[0], ours): debian for debian, ours in debian_names().items()}
    lines = []
    for line in preseed.splitlines():
        fields = line.split(None, 3)
        if len(fields) < 3 or line.startswith("#") or fields[2] == "seen":
            continue
        owner, name, kind = fields[:3]
        value = fields[3] if len(fields) > 3 else ""
        debian = ours_to_debian.get((owner, name))
        if debian is None or owner in rewired_packages:
            continue
        if debian.endswith("/database-type"):
            value = DBCONFIG_TYPES.get(value, value)
        lines.append(f"{owner} {debian} {kind} {value}".rstrip())
        if debian.endswith("/mysql/app-pass"):
            lines.append(f"{owner} {owner}/app-password-confirm password {value}")
    for package, (switch, like, database) in STOCK_SECOND_DATABASES.items():
        if package in rewired_packages:
            continue
        lines.append(f"{like} {switch} boolean true")
        for line in [line for line in lines if line.startswith(f"{like} {like}/")]:
            owner, name, kind, *rest = line.split(None, 3)
            question = name.split("/", 1)[1]
            answer = database if question == "db/dbname" else " ".join(rest)
            lines.append(f"{package} {package}/{question} {kind} {answer}".rstrip())
    return lines


def stock_owners() -> bool:
    """Whether any of the cloud's database owners comes as Debian's stock package."""
    owners = {"keystone", "glance-common", "placement-common", "nova-common", "neutron-common"}
    return bool(owners - rewired())


def passwords() -> dict[str, str]:
    """The site's password store."""
    with open(site_dir() / "secrets.toml", "rb") as store:
        return {key: str(value) for key, value in tomllib.load(store).items()}


# 4. install


def install(run: Run) -> None:
    """apt-get install of the meta-packages, nothing asked; what was installed, rewired or stock."""
    log = target().build / "install.log"
    log.write_text("")
    stock = STOCK_EXTRAS if stock_owners() else []
    argv = ["apt-get", "install", "-y", "--no-install-recommends", *ROLE_PACKAGES[target().role], *stock]
    environment = {"DEBIAN_FRONTEND": "noninteractive"}
    debconf_log = None
    if target().debconf_log:
        environment["DEBCONF_DEBUG"] = "developer"
        debconf_log = site_dir() / "debconf.log"
        debconf_log.unlink(missing_ok=True)
    run.marks["install"] = time.monotonic()
    status = inside_logged(argv, log, environment, debconf_log)
    if status != 0:
        raise CloudError(f"{shlex.join(argv)} exited {status} (log: {log})")
    count = inside(["sh", "-c", "dpkg-query -W -f '${Status}\\n' | grep -c ' installed$'"]).strip()
    run.note(f"installed: {shlex.join(argv)} -> {count} packages in the node (log: {log})")
    versions = inside(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *SERVICE_PACKAGES], check=False)
    for line in versions.splitlines():
        name, _, version = line.partition(" ")
        kind = "rewired" if "pkgos" in version else "Debian's stock" if version else "not installed"
        run.note(f"  {name:28} {version or '-':32} {kind}")


# 5. node fixes


def fix_node(run: Run) -> None:
    """What only a container needs, then what the operator of a small all-in-one cloud does.

    Container: libvirt cannot create cgroup v1 controllers in a read-only
    /sys/fs/cgroup, so it is told to use none (qemu.conf), then restarted
    with nova-compute.
    """
    shell(
        "grep -q '^cgroup_controllers' /etc/libvirt/qemu.conf || "
        "echo 'cgroup_controllers = [ ]' >> /etc/libvirt/qemu.conf\n"
        "systemctl restart libvirtd\n"
        "systemctl restart nova-compute\n"
    )
    run.note("container: libvirt cgroup_controllers = [ ] (read-only cgroup v1 tree), libvirtd restarted")


# 5b. what the operator of a small all-in-one cloud does after the install


# uwsgi processes per API service: Debian's files say 8 (with 32 threads
# each), about 6 GB for Keystone, Nova's API and Placement on one machine;
# 2 serve a small cloud.
UWSGI_PROCESSES = "2"
UWSGI_FILES = {
    "keystone": "/etc/keystone/keystone-uwsgi.ini",
    "glance-api": "/etc/glance/glance-api-uwsgi.ini",
    "placement-api": "/etc/placement/placement-api-uwsgi.ini",
    "nova-api": "/etc/nova/nova-api-uwsgi.ini",
    # Restarted also because Debian's nova-api starts it before nova's
    # database is migrated (a trigger of nova-common does that later): its
    # uwsgi workers failed to load and answer 500 until restarted.
    "nova-api-metadata": "/etc/nova/nova-api-metadata-uwsgi.ini",
    "neutron-api": "/etc/neutron/neutron-api-uwsgi.ini",
}


# The API services that patch Python's threading with eventlet: one thread
# per uwsgi process (nova-api's own file says so; Debian's files for these
# say 32). With more, a request whose greenthread waits on a lock taken in
# another uwsgi thread fails with "greenlet.error: cannot switch to a
# different thread" and never answers; seen on Neutron's API under load,
# after which Nova's API hung too, waiting for Neutron.
EVENTLET_APIS = ("nova-api-metadata", "neutron-api")
# uwsgi's http-socket closes each connection after its answer; Debian's
# files for Glance, Placement and Neutron say so to the client
# (Connection: close), Keystone's and Nova's do not. After an answer
# without a body (204, e.g. a DELETE) an HTTP/1.1 client then sends its
# next request on the closed connection and gets "Connection reset by
# peer" (seen in Tempest's identity tests and the fault tests).
KEEPALIVE_APIS = ("keystone", "nova-api")


def after_install(run: Run) -> None:
    """Sizing, isolated metadata, the compute host's discovery (docs/cloud.md)."""
    size_apis(run)
    isolated_metadata(run)
    # discover_hosts maps only a compute host that has made its record,
    # which nova-compute does a while after it starts (it was restarted in
    # node-fixes): until then the scheduler finds "No valid host".
    host = hostname()
    seconds = wait_for(f"compute host {host} mapped to a cell", lambda: _discover(host), 300, 5)
    run.note(f"operator: nova-manage cell_v2 discover_hosts ({host} mapped after {seconds:.0f} s)")


def size_apis(run: Run) -> None:
    """The API services' uwsgi processes, threads and Connection header (see the constants above)."""
    for unit, path in UWSGI_FILES.items():
        if exists(path):
            inside(["pkgos", "ini", "set", path, "uwsgi", "processes", UWSGI_PROCESSES])
            if unit in EVENTLET_APIS:
                inside(["pkgos", "ini", "set", path, "uwsgi", "threads", "1"])
            if unit in KEEPALIVE_APIS:
                inside(["pkgos", "ini", "set", path, "uwsgi", "add-header", "Connection: close"])
            inside(["systemctl", "restart", unit])
    run.note(f"operator: uwsgi processes = {UWSGI_PROCESSES} in {', '.join(UWSGI_FILES.values())}")
    run.note(f"operator: uwsgi threads = 1 for {', '.join(EVENTLET_APIS)} (eventlet)")
    run.note(f"operator: uwsgi add-header = Connection: close for {', '.join(KEEPALIVE_APIS)}")


def isolated_metadata(run: Run) -> None:
    """A network without a router gets its metadata from the DHCP agent."""
    inside(
        ["pkgos", "ini", "set", "/etc/neutron/dhcp_agent.ini", "DEFAULT", "enable_isolated_metadata", "true"]
    )
    inside(["systemctl", "restart", "neutron-dhcp-agent"])
    run.note("operator: dhcp_agent.ini enable_isolated_metadata = true")


# nova-manage as nova, which owns its log file.
NOVA_MANAGE = ["su", "nova", "-s", "/bin/sh", "-c"]


def _discover(host: str) -> bool:
    """discover_hosts once; whether ``host`` is mapped to a cell now."""
    inside([*NOVA_MANAGE, "nova-manage cell_v2 discover_hosts --verbose"], timeout=300)
    return host in mapped_hosts()


def mapped_hosts() -> set[str]:
    """The hosts nova's cells know (``nova-manage cell_v2 list_hosts`` in the node)."""
    return set(inside([*NOVA_MANAGE, "nova-manage cell_v2 list_hosts"], timeout=300).split())


def hostname() -> str:
    """The node's host name, which nova and neutron know it by."""
    return inside(["hostname"]).strip()


def rabbit_account(run: Run) -> None:
    """The services' RabbitMQ account, the broker operator's step, when it is not there yet.

    No package's postinst makes it: the toolkit's rabbit family, like
    Debian's scripts, writes transport_url only (docs/operators.md, section
    5), and the services are refused (ACCESS_REFUSED) until it exists. Made
    with the toolkit's command, the password in a 0600 file. Then the units
    that gave up without it run again.
    """
    user = "openstack"
    if user not in inside(["rabbitmqctl", "-q", "list_users"], timeout=120).split():
        _make_rabbit_account(run, user)
    restart_stopped()


def _make_rabbit_account(run: Run, user: str) -> None:
    secret = "/root/preseed/rabbit.pw"
    inside(["sh", "-c", f"umask 077 && cat > {secret}"], input=passwords()["rabbitmq"])
    try:
        inside(
            [
                *("pkgos", "rabbit", "ensure", "--config", "/etc/nova/nova.conf", "--host", run.address),
                *("--user", user, "--password-file", secret, "--create-user"),
            ],
            timeout=300,
        )
    finally:
        inside(["rm", "-f", secret])
    run.note(f"operator: RabbitMQ account {user!r} made with pkgos rabbit ensure --create-user")


# The services whose profiles' settings are checked in the node, and the
# units to restart when one of their files changed.
PROFILES = {
    "keystone": ["keystone"],
    "glance": ["glance-api"],
    "placement": ["placement-api"],
    "nova": ["nova-api", "nova-conductor", "nova-scheduler", "nova-compute"],
    "neutron": [
        "neutron-api",
        "neutron-rpc-server",
        "neutron-linuxbridge-agent",
        "neutron-dhcp-agent",
        "neutron-metadata-agent",
    ],
}


def profile_settings(run: Run) -> None:
    """Each installed package's part of its profile, checked in the node, and written where missing.

    A rewired package's postinst writes its profile's [[setting]]s and its
    asked settings (the linuxbridge agent's mappings); Debian's stock
    scripts, and the rewired packages that keep Debian's (no configuration
    of their own), do not. Each directive found missing is reported.
    """
    from openstack_pkg_tools import profile
    from openstack_pkg_tools.questions import Check, Family, of_family

    installed = set(inside(["dpkg-query", "-W", "-f", "${Package}\\n"]).split())
    answers = preseed_answers()
    wanted: list[tuple[str, str, str, str, str]] = []
    for name in PROFILES:
        loaded = profile.load(name)
        wanted += [
            (name, setting.config, setting.section, setting.key, setting.value)
            for setting in loaded.settings
            if setting.package in installed
        ]
        for asks in loaded.asks:
            questions = of_family(Family(asks.family))
            # A family whose switch the preseed leaves off is not configured
            # (neutron's [nova] on a compute node, which runs no neutron-server).
            switched_off = any(
                question.switch and answers.get(question.full_name(asks.prefix), question.default) != "true"
                for question in questions
            )
            if asks.package not in installed or switched_off:
                continue
            for question in questions:
                if question.writes is None:
                    continue
                value = answers.get(question.full_name(asks.prefix), question.default or "")
                if not value and question.check is Check.ADDRESS:
                    value = run.address
                if value:
                    wanted.append((name, asks.config, *question.writes, value))
    restart: set[str] = set()
    written = []
    for name, path, section, key, value in wanted:
        current = inside(["pkgos", "ini", "get", path, section, key], check=False).strip()
        if current.lower() != value.lower():
            inside(["pkgos", "ini", "set", path, section, key, value])
            written.append(f"{path.rsplit('/', 1)[1]} [{section}] {key} = {value}")
            restart.update(PROFILES[name])
    if written:
        run.note(f"profile settings the installed scripts did not write ({len(written)}), written now:")
        for line in written:
            run.note(f"  {line}")
        inside(["systemctl", "restart", *sorted(restart & installed_units())], timeout=600)


def installed_units() -> set[str]:
    listed = inside(["systemctl", "list-unit-files", "--type=service", "--no-legend", "--plain"])
    return {line.split()[0].removesuffix(".service") for line in listed.splitlines() if line.strip()}


def preseed_answers() -> dict[str, str]:
    """The target's preseed's answers by question name."""
    answers = {}
    for line in (site_dir() / f"{target().role}.preseed").read_text().splitlines():
        fields = line.split(None, 3)
        if len(fields) >= 3 and not line.startswith("#") and fields[2] != "seen":
            answers[fields[1]] = fields[3] if len(fields) > 3 else ""
    return answers


def restart_stopped() -> None:
    """Restart the cloud's units that are not running, and any that failed.

    They gave up before what they need existed (the RabbitMQ account):
    most exit with an error, but the linuxbridge agent, refused by
    RabbitMQ, stops as if asked to (exit 0, "inactive"), and systemd's
    ``Restart=on-failure`` does not start it again.
    """
    wanted = units()
    states = inside(["systemctl", "is-active", *wanted], check=False).split()
    stopped = {unit for unit, state_ in zip(wanted, states, strict=True) if state_ != "active"}
    listed = inside(["systemctl", "list-units", "--failed", "--plain", "--no-legend"], check=False)
    failed = {line.split()[0] for line in listed.splitlines() if line.strip()}
    if failed:
        inside(["systemctl", "reset-failed", *sorted(failed)])
    if stopped | failed:
        inside(["systemctl", "restart", *sorted(stopped | failed)], check=False, timeout=600)


def exists(path: str) -> bool:
    return node.execute(the_node(), ["test", "-e", path], capture=True).returncode == 0


# 6. check


def keystone_url(run: Run) -> str:
    return f"http://{run.address}:5000/v3"


def token(run: Run) -> tuple[str, dict[str, Any]]:
    """A project-scoped admin token and its catalog, in-process (the password on no argv)."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "admin",
                        "domain": {"id": "default"},
                        "password": passwords()["keystone-admin"],
                    }
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    request = urllib.request.Request(
        f"{keystone_url(run)}/auth/tokens",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.headers["X-Subject-Token"], json.load(response)["token"]


def endpoint(catalog: dict[str, Any], kind: str) -> str:
    for service in catalog.get("catalog", []):
        if service["type"] == kind:
            for item in service["endpoints"]:
                if item["interface"] == "public":
                    return str(item["url"]).rstrip("/")
    raise CloudError(f"no public {kind} endpoint in Keystone's catalog")


def get(url: str, token_id: str, headers: dict[str, str] | None = None) -> tuple[int, float]:
    """GET with the token: HTTP status and seconds."""
    request = urllib.request.Request(url, headers={"X-Auth-Token": token_id, **(headers or {})})
    began = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            return response.status, time.monotonic() - began
    except urllib.error.HTTPError as error:
        return error.code, time.monotonic() - began


API_CHECKS = [
    ("identity", "/projects"),
    ("image", "/v2/images"),
    ("placement", "/resource_providers"),
    ("compute", "/servers"),
    ("network", "/v2.0/networks"),
]


def check(run: Run) -> None:
    """Every unit active, each API answering an authenticated request, MariaDB and RabbitMQ up."""
    wanted = units()
    states = inside(["systemctl", "is-active", *wanted], check=False).split()
    inactive = [
        f"{unit}={state_}" for unit, state_ in zip(wanted, states, strict=False) if state_ != "active"
    ]
    failed = inside(["systemctl", "list-units", "--failed", "--plain", "--no-legend"], check=False).strip()
    run.note(
        f"units: {len(wanted) - len(inactive)}/{len(wanted)} active"
        + (f"; not: {' '.join(inactive)}" if inactive else "")
    )
    if failed:
        run.note(f"failed units: {' '.join(line.split()[0] for line in failed.splitlines())}")
    token_id, catalog = token(run)
    problems = list(inactive)
    for kind, path in API_CHECKS:
        url = endpoint(catalog, kind)
        if kind == "identity" and not url.endswith("/v3"):
            url += "/v3"
        headers = {"OpenStack-API-Version": "placement 1.1"} if kind == "placement" else {}
        status, seconds = get(url + path, token_id, headers)
        run.note(f"  {kind:10} GET {url}{path}: {status} in {seconds:.1f} s")
        if status != 200:
            problems.append(f"{kind} answered {status}")
    # Nova's metadata API, which the VMs reach through Neutron's metadata proxy.
    status, seconds = get(f"http://{run.address}:8775/", "")
    run.note(f"  metadata   GET http://{run.address}:8775/: {status} in {seconds:.1f} s")
    if status != 200:
        problems.append(f"nova's metadata API answered {status}")
    inside(["mysqladmin", "ping"])
    inside(["rabbitmqctl", "-q", "status"], timeout=120)
    run.note("  mariadb (mysqladmin ping) and rabbitmq (rabbitmqctl status): up")
    if problems:
        raise CloudError("check failed: " + ", ".join(problems))


# 7. the VM

CLOUD_NAME = "aio"
NODE_CLOUDS_YAML = "/root/.config/openstack/clouds.yaml"
IMAGE_NAME = "debian-12"
FLAVOR = "pkgos.small"
KEY_NAME = "pkgos-demo"
SERVER = "pkgos-vm"
NETWORK = "provider"
# The provider network's subnet: a segment that exists only inside the node
# (its eth1 and the VM's tap on one bridge), so it reaches nothing else.
SUBNET_RANGE = "172.29.85.0/24"
BOOT_TIMEOUT = 900.0


def clouds_yaml(run: Run) -> str:
    """A clouds.yaml entry for the admin (the password in a 0600 file, never on an argv)."""
    return (
        "clouds:\n"
        f"  {CLOUD_NAME}:\n"
        "    auth:\n"
        f"      auth_url: {keystone_url(run)}\n"
        "      username: admin\n"
        f"      password: {json.dumps(passwords()['keystone-admin'])}\n"
        "      project_name: admin\n"
        "      user_domain_name: Default\n"
        "      project_domain_name: Default\n"
        "    region_name: RegionOne\n"
        "    identity_api_version: 3\n"
    )


def openstack(*argv: str, timeout: float = 300) -> str:
    """The openstack CLI in the node, as the admin of clouds.yaml."""
    return inside(["openstack", "--os-cloud", CLOUD_NAME, *argv], timeout=timeout)


def build_image() -> Path:
    """pkgos build-image, cached: built once (about 5 minutes), reused while the qcow2 is there."""
    qcow2 = IMAGE.with_suffix(".qcow2")
    IMAGE_CACHE.mkdir(parents=True, exist_ok=True)
    # Another demo's run on this machine may be building it (make demo and make demo NODES=3).
    with open(IMAGE_CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not qcow2.exists():
            build_image_now()
    return qcow2


def build_image_now() -> None:
    """pkgos build-image of the demo's image into the cache."""
    options = ["--release", "bookworm", "--minimal", "--boot-type", "mbr", "--no-raw"]
    host([*PKGOS, "build-image", *options, "--cache-dir", str(IMAGE_TREE_CACHE), "-o", str(IMAGE)])


USER_DATA = f"""#!/bin/sh
# Printed on the serial console: proof that the metadata service gave this
# script (user-data) and the instance-id.
echo "{USER_DATA_MARKER} instance-id=$(cat /run/cloud-init/.instance-id)" | tee /dev/ttyS0
"""


def vm(run: Run) -> None:
    """Image, network, flavor, key pair, server ACTIVE with DHCP and metadata in its console; deleted."""
    upload_image(run)
    make_network_flavor_key()
    shell(f"cat > /root/pkgos-user-data <<'EOF'\n{USER_DATA}EOF")
    created = time.monotonic()
    server_id = openstack(
        *("server", "create", "--image", IMAGE_NAME, "--flavor", FLAVOR, "--network", NETWORK),
        *("--key-name", KEY_NAME, "--user-data", "/root/pkgos-user-data", "-f", "value", "-c", "id"),
        SERVER,
    ).strip()
    run.note(f"server {SERVER} {server_id} created")
    try:
        seconds = wait_for(f"server {SERVER} ACTIVE", lambda: server_status(server_id) == "ACTIVE", 600, 5)
        run.note(f"server ACTIVE {seconds:.0f} s after create")
        console_proof(run, server_id, created)
    finally:
        openstack("server", "delete", "--wait", server_id, timeout=600)
        run.note(f"server {SERVER} deleted")


def write_clouds_yaml(run: Run) -> Path:
    """The admin's clouds.yaml in the node and on the host (both 0600); the host's path."""
    config_file = site_dir() / "clouds.yaml"
    config_file.touch(mode=0o600)
    config_file.write_text(clouds_yaml(run))
    directory = NODE_CLOUDS_YAML.rsplit("/", 1)[0]
    inside(
        ["sh", "-c", f"mkdir -p {directory} && umask 077 && cat > {NODE_CLOUDS_YAML}"], input=clouds_yaml(run)
    )
    return config_file


def upload_image(run: Run) -> None:
    """clouds.yaml on both sides (0600), the image built (cached) and uploaded with pkgos image-upload."""
    config_file = write_clouds_yaml(run)
    began = time.monotonic()
    qcow2 = build_image()
    size = qcow2.stat().st_size / 2**20
    run.note(f"image: {qcow2} ({size:.0f} MiB), ready in {time.monotonic() - began:.0f} s")
    if IMAGE_NAME in openstack("image", "list", "-f", "value", "-c", "Name").split():
        return
    environment = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(config_file), "OS_CLOUD": CLOUD_NAME}
    result = subprocess.run(
        [*PKGOS, "image-upload", str(qcow2), "--name", IMAGE_NAME, "--visibility", "public"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CloudError(f"pkgos image-upload failed: {result.stderr.strip()}")
    run.note(f"pkgos image-upload: {result.stdout.strip() or IMAGE_NAME}")


def make_network_flavor_key() -> None:
    """The provider network and its subnet, a flavor and a key pair (each made once)."""
    make_flavor_key()
    if NETWORK not in openstack("network", "list", "-f", "value", "-c", "Name").split():
        openstack(
            *("network", "create", "--share", "--provider-network-type", "flat"),
            *("--provider-physical-network", "provider", NETWORK),
        )
        openstack(
            *("subnet", "create", "--network", NETWORK, "--subnet-range", SUBNET_RANGE),
            *("--gateway", "none", f"{NETWORK}-subnet"),
        )


def make_flavor_key() -> None:
    """The servers' flavor and key pair (each made once)."""
    if FLAVOR not in openstack("flavor", "list", "-f", "value", "-c", "Name").split():
        openstack("flavor", "create", "--vcpus", "1", "--ram", "768", "--disk", "3", FLAVOR)
    if KEY_NAME not in openstack("keypair", "list", "-f", "value", "-c", "Name").split():
        shell(
            "test -e /root/.ssh/pkgos-demo || (mkdir -p -m 700 /root/.ssh && "
            "ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/pkgos-demo)"
        )
        openstack("keypair", "create", "--public-key", "/root/.ssh/pkgos-demo.pub", KEY_NAME)


def server_status(server_id: str, name: str = SERVER) -> str:
    """The server's status; CloudError when it is ERROR (with nova's fault)."""
    status = openstack("server", "show", server_id, "-f", "value", "-c", "status").strip()
    if status == "ERROR":
        raise CloudError(f"server {name} is in ERROR: {openstack('server', 'show', server_id)}")
    return status


def console_proof(run: Run, server_id: str, created: float) -> None:
    """Wait for the user-data line in the console; the lines that show DHCP and metadata."""
    address = openstack("server", "show", server_id, "-f", "json", "-c", "addresses")
    fixed_ip = re.findall(r"172\.29\.85\.\d+", address)[0]
    console = {"text": ""}

    def metadata_line() -> bool:
        console["text"] = openstack("console", "log", "show", server_id, timeout=120)
        return f"{USER_DATA_MARKER} instance-id={server_id}" in console["text"]

    try:
        seconds = wait_for("the user-data line in the console", metadata_line, BOOT_TIMEOUT, 10)
        run.marks["metadata"] = time.monotonic()
    finally:
        (target().build / "console.log").write_text(console["text"])
    since_create = time.monotonic() - created
    run.note(f"console: the user-data line {seconds:.0f} s after ACTIVE ({since_create:.0f} s after create)")
    keys = (USER_DATA_MARKER, fixed_ip, "Datasource", "DHCPACK")
    for line in console["text"].splitlines():
        if any(key in line for key in keys):
            run.note(f"  console| {line.strip()}")
    if fixed_ip not in console["text"]:
        raise CloudError(f"the console does not show the address {fixed_ip} Neutron gave")


# The summary


def summary(run: Run) -> str:
    lines = ["", "=== make demo: summary", *run.lines, "", "time of each phase:"]
    lines += [f"  {name:12} {seconds:7.0f} s" for name, seconds in run.phases]
    lines.append(f"  {'total':12} {time.monotonic() - run.started:7.0f} s")
    if "install" in run.marks and "metadata" in run.marks:
        to_vm = run.marks["metadata"] - run.marks["install"]
        lines.append(f"from the start of apt-get install to the VM's metadata line: {to_vm / 60:.1f} min")
    name = run.target.node
    if state.load_node(config.full_name(name)) is not None and node.running(node.get(name)):
        lines.append(f"node memory (PSS of its processes): {node.memory(node.get(name)) / 2**30:.2f} GiB")
    return "\n".join(lines) + "\n"


def tempest(run: Run) -> None:
    """Tempest's identity, image, network and compute tests (demo/tempest.py, which imports this module)."""
    from demo.tempest import tempest as run_tempest

    run_tempest(run)


PHASES: list[tuple[str, Callable[[Run], None]]] = [
    ("node", start_node),
    ("archive", add_archive),
    ("preseed", write_preseed),
    ("operator", prepare_operator),
    ("install", install),
    ("rabbit-account", rabbit_account),
    ("settings", profile_settings),
    ("node-fixes", fix_node),
    ("after-install", after_install),
    ("check", check),
    ("vm", vm),
    ("tempest", tempest),
]


def up(skip: set[str], target: Target | None = None) -> int:
    """Every phase in order (those in ``skip`` left out, on an existing node); the summary.

    ``target`` is make demo's (node aio, build/archive) unless given.
    """
    run = Run(target=target or DEMO)
    run.target.build.mkdir(parents=True, exist_ok=True)
    status = 0
    with active(run):
        if "node" in skip:
            run.address = the_node().address
        try:
            for name, function in PHASES:
                if name in skip:
                    continue
                with phase(run, name):
                    function(run)
        except (CloudError, NodeError, urllib.error.URLError, subprocess.TimeoutExpired) as error:
            run.note(f"FAILED: {error}")
            status = 1
        text = summary(run)
    (run.target.build / "summary.txt").write_text(text)
    print(text, flush=True)
    return status


def clean(target: Target | None = None) -> int:
    """Remove the node: its processes, mounts, namespace, veth (and the switch with the last node)."""
    name = (target or DEMO).node
    if state.load_node(config.full_name(name)) is None:
        say(f"no node {config.full_name(name)}")
        return 0
    node.remove(name)
    say(f"removed {config.full_name(name)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m demo.cloud", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="the whole demo (make demo)")
    start.add_argument(
        "--skip", default="", help="comma-separated phases to leave out, on the existing node (for a rerun)"
    )
    commands.add_parser("clean", help="remove the node and what it made (make demo-clean)")
    options = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("cloud: error: run as root", file=sys.stderr)
        return 2
    if options.command == "up":
        return up({name for name in options.skip.split(",") if name})
    return clean()


if __name__ == "__main__":
    sys.exit(main())
