"""make demo NODES=3: a controller and two compute nodes, each compute node joining with one apt-get install.

Run from the repository's top directory, as root, on Debian 12:
``python3 -m demo.multinode up`` (``make demo NODES=3``) and ``python3 -m
demo.multinode clean`` (``make demo-clean NODES=3``). The phases, each
timed, reuse make demo's (demo/cloud.py) node by node:

1. **nodes**: ``pkgos-ctl``, ``pkgos-cmp1`` and ``pkgos-cmp2``, each its
   own container, hostname and address on the project's bridge; the
   archive as each one's signed APT source.
2. **preseed**: ``controller.preseed`` and ``compute.preseed`` generated
   from one site file (``preseed/cloud-site.toml`` with the controller's
   address); the compute preseed holds no database credential and no
   Keystone administrator password (checked here).
3. **controller**: ``apt-get install openstack-proxy-node
   openstack-clients`` with nothing asked; the RabbitMQ account, the
   profile settings check, the operator's sizing and isolated metadata,
   every unit and API checked.
4. **computes**: on both compute nodes at once, ``apt-get install
   openstack-compute-node nova-compute-qemu``; each is up when the
   controller's ``openstack compute service list`` and ``openstack network
   agent list`` say so (the time from apt-get to that is measured).
5. **mapped**: nobody runs ``nova-manage cell_v2 discover_hosts``: the
   scheduler's periodic discovery (``discover_hosts_in_cells_interval``,
   which the nova profile writes) maps both hosts to cell1.
6. **vms**: a VXLAN network between the nodes, one server pinned to each
   compute node; both ACTIVE, each with the metadata service's user-data
   line in its console and the other's SSH greeting, read over the
   network; then deleted.
7. **leave**: ``cmp2``'s packages purged (what the toolkit wrote is gone,
   debconf holds nothing of them), its service records removed on the
   controller as the purge said; **rejoin**: the same install again, up
   and mapped again.

The summary (``build/multinode/summary.txt``) gives each node's memory,
the times, and the checks' proof. The nodes stay up for a look until
``make demo-clean NODES=3``.
"""

from __future__ import annotations

import argparse
import contextvars
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field

from demo import cloud
from tests.nodes import config, node
from tests.nodes.system import NodeError

BUILD = config.REPO / "build" / "multinode"
SITE = BUILD / "site"
CONTROLLER = "ctl"
COMPUTES = ("cmp1", "cmp2")
# The compute node that leaves and joins again.
LEAVER = COMPUTES[-1]

# The tenants' network: VXLAN between the nodes' addresses (the linuxbridge
# agents' local_ip, each node's own), a segment that exists only inside the
# nodes' tunnels.
NETWORK = "pkgos-tenant"
SUBNET_RANGE = "172.29.86.0/24"
# One server per compute node, each with a port of a fixed address, so that
# each one's user-data can name the other's.
SERVERS = {"cmp1": ("pkgos-vm1", "172.29.86.11"), "cmp2": ("pkgos-vm2", "172.29.86.12")}
PEER_MARKER = "pkgos-peer-reached"
# The scheduler's periodic discovery: the nova profile writes 300 s where
# nothing is set; the demo's operator, who adds compute nodes and waits for
# them, sets a minute (docs/cloud.md).
DISCOVERY_INTERVAL = 60
# The targets of the issue, printed next to what was measured.
CONTROLLER_MEMORY_TARGET = 5.0  # GiB
COMPUTE_MEMORY_TARGET = 1.5  # GiB, without its VM
JOIN_TARGET = 4.0  # minutes, apt-get install to "service up", warm


@dataclass
class Cluster:
    """The runs of the three nodes and what the whole run measured."""

    controller: cloud.Run
    computes: dict[str, cloud.Run]
    started: float = field(default_factory=time.monotonic)
    phases: list[tuple[str, float]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def note(self, line: str) -> None:
        cloud.say(line)
        self.lines.append(line)

    def runs(self) -> list[cloud.Run]:
        return [self.controller, *self.computes.values()]


def target(name: str, role: str) -> cloud.Target:
    return cloud.Target(node=name, build=BUILD / name, role=role, site=SITE)


def new_cluster() -> Cluster:
    return Cluster(
        controller=cloud.Run(target=target(CONTROLLER, "controller")),
        computes={name: cloud.Run(target=target(name, "compute")) for name in COMPUTES},
    )


def on(run: cloud.Run, function: Callable[[cloud.Run], object]) -> None:
    """``function(run)`` with ``run``'s node as the one the phases work on."""
    with cloud.active(run):
        function(run)


def at_once(runs: list[cloud.Run], function: Callable[[cloud.Run], None]) -> None:
    """``function`` on each run's node, in threads at the same time; the first failure raised."""
    failures: list[BaseException] = []

    def work(run: cloud.Run) -> None:
        try:
            on(run, function)
        except BaseException as error:
            failures.append(error)

    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(work, run), name=run.target.node)
        for run in runs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


# 1. nodes


def start_nodes(cluster: Cluster) -> None:
    """The three nodes, each with a default route and a provider interface; the archive in each."""
    for run in cluster.runs():
        run.target.build.mkdir(parents=True, exist_ok=True)
        on(run, cloud.start_node)
    at_once(cluster.runs(), cloud.add_archive)


# 2. preseed

# A database answer, or the Keystone administrator's password (ksat-,
# api-keystone-, keystone/admin-password): a compute node has neither.
SECRET_OF_CONTROLLER = re.compile(r"/(db-|configure_db|database|mysql/)|admin-password$")


def question_names(preseed: str) -> list[str]:
    """The question names a preseed answers."""
    return [line.split()[1] for line in preseed.splitlines() if line.strip() and not line.startswith("#")]


def controller_secrets(preseed: str) -> list[str]:
    """The answers of ``preseed`` that only a controller may hold (database, Keystone administrator)."""
    return [name for name in question_names(preseed) if SECRET_OF_CONTROLLER.search(name)]


def preseeds(cluster: Cluster) -> None:
    """Both roles' preseeds from one site file; the compute one checked for what it must not hold."""
    with cloud.active(cluster.controller):
        cloud.generate_preseeds(cluster.controller.address, ["controller", "compute"])
    compute = (SITE / "compute.preseed").read_text()
    forbidden = controller_secrets(compute)
    if forbidden:
        raise cloud.CloudError(f"compute.preseed holds {', '.join(forbidden)}")
    cluster.note(
        f"compute.preseed: {len(question_names(compute))} answers, no database credential, "
        "no Keystone administrator password"
    )
    for run in cluster.runs():
        on(run, cloud.load_preseed)


# 3. the controller


def controller(cluster: Cluster) -> None:
    """The controller installed, the RabbitMQ account, settings, the operator's steps; checked."""
    for function in (
        cloud.prepare_operator,
        cloud.install,
        cloud.rabbit_account,
        cloud.profile_settings,
        cloud.size_apis,
        cloud.isolated_metadata,
        discovery_interval,
        cloud.check,
    ):
        on(cluster.controller, function)


def discovery_interval(run: cloud.Run) -> None:
    """The scheduler's periodic discovery every DISCOVERY_INTERVAL seconds (the operator's choice)."""
    option = ("scheduler", "discover_hosts_in_cells_interval")
    cloud.inside(["pkgos", "ini", "set", "/etc/nova/nova.conf", *option, str(DISCOVERY_INTERVAL)])
    cloud.inside(["systemctl", "restart", "nova-scheduler"])
    run.note(f"operator: nova.conf [scheduler] discover_hosts_in_cells_interval = {DISCOVERY_INTERVAL}")


# 4. the compute nodes


def join(run: cloud.Run, cluster: Cluster) -> float:
    """One compute node's install, its settings checked, libvirt fixed; seconds from apt-get to up."""
    cloud.install(run)
    cloud.profile_settings(run)
    cloud.fix_node(run)
    host = cloud.hostname()
    with cloud.active(cluster.controller):
        cloud.wait_for(f"{host}'s nova-compute and linuxbridge agent up", lambda: is_up(host), 600, 5)
    seconds = time.monotonic() - run.marks["install"]
    run.note(f"up (compute service and network agent) {seconds / 60:.1f} min after apt-get install began")
    return seconds


def computes(cluster: Cluster) -> None:
    """Both compute nodes at once; each one's time from apt-get install to up."""
    # The controller's openstack CLI, which tells when they are up.
    on(cluster.controller, cloud.write_clouds_yaml)
    at_once(list(cluster.computes.values()), lambda run: join_noted(run, cluster, "join"))


def join_noted(run: cloud.Run, cluster: Cluster, name: str) -> None:
    run.marks[name] = join(run, cluster)


def is_up(host: str) -> bool:
    """Whether the controller's lists show ``host``'s nova-compute up and its linuxbridge agent alive."""
    services = cloud.openstack(
        *("compute", "service", "list", "--service", "nova-compute", "--host", host, "-f", "json")
    )
    agents = cloud.openstack(
        *("network", "agent", "list", "--host", host, "--agent-type", "linux-bridge"), "-f", "json"
    )
    service_up = any(item["State"] == "up" for item in json.loads(services))
    agent_alive = any(item["Alive"] in (True, ":-)") for item in json.loads(agents))
    return service_up and agent_alive


def service_lists(cluster: Cluster) -> None:
    """The controller's service and agent lists, into the summary."""
    with cloud.active(cluster.controller):
        services = cloud.openstack(
            "compute", "service", "list", "-f", "value", "-c", "Binary", "-c", "Host", "-c", "State"
        )
        agents = cloud.openstack(
            "network", "agent", "list", "-f", "value", "-c", "Agent Type", "-c", "Host", "-c", "Alive"
        )
    cluster.note("openstack compute service list:")
    for line in services.splitlines():
        cluster.note(f"  {line}")
    cluster.note("openstack network agent list:")
    for line in agents.splitlines():
        cluster.note(f"  {line}")


# 5. mapped by the scheduler's periodic discovery


def wait_mapped(cluster: Cluster, names: list[str]) -> None:
    """Wait until the scheduler's periodic discovery has mapped ``names``' hosts to cell1."""
    hosts = {config.full_name(name) for name in names}
    with cloud.active(cluster.controller):
        interval = cloud.inside(
            ["pkgos", "ini", "get", "/etc/nova/nova.conf", "scheduler", "discover_hosts_in_cells_interval"]
        ).strip()
        seconds = cloud.wait_for(
            f"{', '.join(sorted(hosts))} mapped to a cell",
            lambda: hosts <= cloud.mapped_hosts(),
            2 * DISCOVERY_INTERVAL + 60,
            10,
        )
    cluster.note(
        f"{', '.join(sorted(hosts))} mapped to cell1 by the scheduler's periodic discovery "
        f"(discover_hosts_in_cells_interval = {interval}) after {seconds:.0f} s of waiting; "
        "nobody ran discover_hosts"
    )


def mapped(cluster: Cluster) -> None:
    wait_mapped(cluster, list(COMPUTES))
    service_lists(cluster)


# 6. a server on each compute node


def peer_of(name: str) -> str:
    """The address of the server on the other compute node than ``name``."""
    return next(address for other, (_, address) in SERVERS.items() if other != name)


def user_data(peer: str) -> str:
    """The metadata line, then the peer's SSH greeting read over the tenants' network, on the console."""
    return f"""#!/bin/bash
echo "{cloud.USER_DATA_MARKER} instance-id=$(cat /run/cloud-init/.instance-id)" | tee /dev/ttyS0
for attempt in $(seq 120); do
    greeting=$(timeout 5 bash -c 'exec 3<>/dev/tcp/{peer}/22 && head -n 1 <&3' 2>/dev/null |
        tr -dc '[:print:]')
    case "$greeting" in SSH-*) echo "{PEER_MARKER} {peer} $greeting" | tee /dev/ttyS0; exit 0;; esac
    sleep 5
done
echo "pkgos-peer-unreached {peer}" | tee /dev/ttyS0
"""


def vms(cluster: Cluster) -> None:
    """The tenants' VXLAN network; a server pinned to each compute node; ACTIVE, metadata, peer; deleted."""
    with cloud.active(cluster.controller):
        run = cluster.controller
        cloud.upload_image(run)
        cloud.make_flavor_key()
        tenant_network()
        created = {}
        try:
            for name, (server, address) in SERVERS.items():
                created[name] = create_server(name, server, address)
            for name, server_id in created.items():
                prove(cluster, name, server_id)
        finally:
            for server_id in created.values():
                cloud.openstack("server", "delete", "--wait", server_id, timeout=600)
            cluster.note(f"servers deleted: {', '.join(server for server, _ in SERVERS.values())}")


def tenant_network() -> None:
    """A VXLAN network (the tenants' default type) and its subnet, without a router."""
    if NETWORK not in cloud.openstack("network", "list", "-f", "value", "-c", "Name").split():
        cloud.openstack("network", "create", NETWORK)
        cloud.openstack(
            *("subnet", "create", "--network", NETWORK, "--subnet-range", SUBNET_RANGE),
            *("--gateway", "none", f"{NETWORK}-subnet"),
        )
    kind = cloud.openstack("network", "show", NETWORK, "-f", "value", "-c", "provider:network_type").strip()
    if kind != "vxlan":
        raise cloud.CloudError(f"network {NETWORK} is {kind}, not vxlan")


def create_server(name: str, server: str, address: str) -> str:
    """``server`` on compute node ``name`` with a port of ``address``, its user-data reaching the other."""
    peer = peer_of(name)
    path = f"/root/pkgos-user-data-{name}"
    cloud.shell(f"cat > {path} <<'EOF'\n{user_data(peer)}EOF")
    port = cloud.openstack(
        *("port", "create", "--network", NETWORK, "--fixed-ip", f"ip-address={address}"),
        *("-f", "value", "-c", "id", f"{server}-port"),
    ).strip()
    return cloud.openstack(
        *("server", "create", "--image", cloud.IMAGE_NAME, "--flavor", cloud.FLAVOR, "--port", port),
        *("--availability-zone", f"nova:{config.full_name(name)}", "--key-name", cloud.KEY_NAME),
        *("--user-data", path, "-f", "value", "-c", "id", server),
    ).strip()


def prove(cluster: Cluster, name: str, server_id: str) -> None:
    """``server_id`` ACTIVE on compute node ``name``; its console's metadata and peer lines."""
    server, _ = SERVERS[name]
    peer = peer_of(name)
    seconds = cloud.wait_for(
        f"server {server} ACTIVE", lambda: cloud.server_status(server_id, server) == "ACTIVE", 900, 5
    )
    shown = json.loads(cloud.openstack("server", "show", server_id, "-f", "json"))
    on_host = shown.get("OS-EXT-SRV-ATTR:host")
    if on_host != config.full_name(name):
        raise cloud.CloudError(f"server {server} is on {on_host}, not {config.full_name(name)}")
    cluster.note(f"server {server} ACTIVE on {on_host} (waited {seconds:.0f} s more)")
    console = {"text": ""}

    def proof() -> bool:
        console["text"] = cloud.openstack("console", "log", "show", server_id, timeout=120)
        if f"pkgos-peer-unreached {peer}" in console["text"]:
            raise cloud.CloudError(f"server {server} did not reach {peer}")
        return f"{PEER_MARKER} {peer} SSH-" in console["text"]

    try:
        cloud.wait_for(f"server {server}'s proof in its console", proof, cloud.BOOT_TIMEOUT, 10)
    finally:
        (BUILD / f"console-{server}.log").write_text(console["text"])
    keys = (cloud.USER_DATA_MARKER, PEER_MARKER, "DHCPACK")
    for line in console["text"].splitlines():
        if any(key in line for key in keys):
            cluster.note(f"  {server} console| {line.strip()}")
    if f"{cloud.USER_DATA_MARKER} instance-id={server_id}" not in console["text"]:
        raise cloud.CloudError(f"server {server}'s console has no metadata line")


# 7. leave and join again


# What a compute node's purge removes: the packages that have configuration
# (their dependants go with them). Not --autoremove: among what they pulled
# in is sudo, whose prerm refuses to go on a machine without a root password.
PURGED = ["openstack-compute-node", "nova-common", "neutron-common"]
# What the toolkit wrote on a compute node, gone after the purge.
WRITTEN = [
    "/etc/nova/nova.conf",
    "/etc/neutron/neutron.conf",
    "/etc/neutron/plugins/ml2/linuxbridge_agent.ini",
]


# debconf's databases of questions and of passwords, read directly: the
# node has no debconf-utils (debconf-get-selections).
DEBCONF_DATABASES = ["/var/cache/debconf/config.dat", "/var/cache/debconf/passwords.dat"]


def leave(cluster: Cluster) -> None:
    """LEAVER's packages purged; nothing of theirs left; its records removed on the controller."""
    run = cluster.computes[LEAVER]
    with cloud.active(run):
        host = cloud.hostname()
        log = run.target.build / "purge.log"
        argv = ["apt-get", "purge", "-y", *PURGED]
        status = cloud.inside_logged(argv, log, {"DEBIAN_FRONTEND": "noninteractive"})
        if status != 0:
            raise cloud.CloudError(f"{' '.join(argv)} exited {status} (log: {log})")
        left = [path for path in WRITTEN if cloud.exists(path)]
        kept = cloud.inside(["sh", "-c", "dpkg -l 'nova-*' 'neutron-*' 2>/dev/null | grep '^[ir]' || true"])
        answers = re.findall(
            r"^Name: ((?:nova|neutron)\S*)$", cloud.inside(["cat", *DEBCONF_DATABASES]), re.M
        )
        if left or kept.strip() or answers:
            raise cloud.CloudError(f"after the purge: files {left}, packages {kept!r}, debconf {answers!r}")
        said = [line.strip() for line in log.read_text().splitlines() if "on the controller" in line]
    run.note(f"purged: {' '.join(argv)}: no nova or neutron package, file or debconf answer left")
    for line in said:
        run.note(f"  purge said| {line}")
    with cloud.active(cluster.controller):
        forget_host(run, host)


def forget_host(run: cloud.Run, host: str) -> None:
    """The controller's records of ``host`` removed: the operator's part of a compute node leaving."""
    services = json.loads(
        cloud.openstack(
            "compute", "service", "list", "--service", "nova-compute", "--host", host, "-f", "json"
        )
    )
    for service in services:
        cloud.openstack("compute", "service", "delete", str(service["ID"]))
    agents = json.loads(cloud.openstack("network", "agent", "list", "--host", host, "-f", "json"))
    for agent in agents:
        cloud.openstack("network", "agent", "delete", agent["ID"])
    if host in cloud.mapped_hosts():
        raise cloud.CloudError(f"{host} is still mapped to a cell after its compute service was deleted")
    run.note(
        f"controller: {len(services)} compute service and {len(agents)} network agent record(s) of {host} "
        "deleted; its cell mapping went with the service"
    )


def rejoin(cluster: Cluster) -> None:
    """LEAVER joins again: its preseed, the same install (warm), up and mapped."""
    run = cluster.computes[LEAVER]
    with cloud.active(run):
        cloud.load_preseed(run)
        join_noted(run, cluster, "rejoin")
    wait_mapped(cluster, [LEAVER])
    service_lists(cluster)


# The summary


def memory(cluster: Cluster) -> None:
    """Each node's memory (its processes' PSS), no VM running; against the targets."""
    for run in cluster.runs():
        gib = node.memory(node.get(run.target.node)) / 2**30
        goal = CONTROLLER_MEMORY_TARGET if run.target.role == "controller" else COMPUTE_MEMORY_TARGET
        run.marks["memory"] = gib
        run.note(f"memory (PSS of its processes, no VM): {gib:.2f} GiB (target: under {goal} GiB)")


def summary(cluster: Cluster) -> str:
    lines = ["", "=== make demo NODES=3: summary", *cluster.lines]
    for run in cluster.runs():
        lines += [
            "",
            f"--- {config.full_name(run.target.node)} ({run.target.role}, {run.address})",
            *run.lines,
        ]
    lines += ["", "time of each phase:"]
    lines += [f"  {name:12} {seconds:7.0f} s" for name, seconds in cluster.phases]
    lines.append(f"  {'total':12} {time.monotonic() - cluster.started:7.0f} s")
    for name, run in cluster.computes.items():
        for mark, how in (("join", "with the other at once"), ("rejoin", "alone, warm")):
            if mark in run.marks:
                lines.append(
                    f"{name}: apt-get install to up, {how}: {run.marks[mark] / 60:.1f} min (target: under "
                    f"{JOIN_TARGET:.0f} min warm)"
                )
    for run in cluster.runs():
        if "memory" in run.marks:
            lines.append(f"{run.target.node}: memory {run.marks['memory']:.2f} GiB")
    return "\n".join(lines) + "\n"


PHASES: list[tuple[str, Callable[[Cluster], None]]] = [
    ("nodes", start_nodes),
    ("preseed", preseeds),
    ("controller", controller),
    ("computes", computes),
    ("mapped", mapped),
    ("vms", vms),
    ("leave", leave),
    ("rejoin", rejoin),
    ("memory", memory),
]


def up(start: str | None = None) -> int:
    """Every phase in order (from ``start``, on the nodes already there); the summary.

    The summary goes to build/multinode/summary.txt too.
    """
    cluster = new_cluster()
    BUILD.mkdir(parents=True, exist_ok=True)
    names = [name for name, _ in PHASES]
    skipped = names[: names.index(start)] if start else []
    status = 0
    try:
        if skipped:
            for run in cluster.runs():
                run.address = node.get(run.target.node).address
        for name, function in PHASES:
            if name in skipped:
                continue
            cloud.say(f"== {name}")
            began = time.monotonic()
            try:
                function(cluster)
            finally:
                spent = time.monotonic() - began
                cluster.phases.append((name, spent))
                cloud.say(f"== {name}: {spent:.0f} s")
    except (cloud.CloudError, NodeError, urllib.error.URLError, subprocess.TimeoutExpired) as error:
        cluster.note(f"FAILED: {error}")
        status = 1
    text = summary(cluster)
    (BUILD / "summary.txt").write_text(text)
    print(text, flush=True)
    return status


def clean() -> int:
    """Remove the three nodes (and the switch with the last node)."""
    for run in new_cluster().runs():
        cloud.clean(run.target)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m demo.multinode", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="the three-node demo (make demo NODES=3)")
    start.add_argument(
        "--from",
        dest="start",
        choices=[name for name, _ in PHASES],
        help="start at this phase, on the nodes already there (for a rerun)",
    )
    commands.add_parser("clean", help="remove the three nodes (make demo-clean NODES=3)")
    options = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("multinode: error: run as root", file=sys.stderr)
        return 2
    return up(options.start) if options.command == "up" else clean()


if __name__ == "__main__":
    sys.exit(main())
