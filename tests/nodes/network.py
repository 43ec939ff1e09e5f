"""The nodes' network: a bridge in its own namespace, one veth per node, one for the host.

::

    host netns                 pkgos-switch netns             pkgos-node-NAME netns
    pkgos-host 172.29.84.1 --- pkgos-uplink
                               pkgos-br0 (bridge)
                               pkgos-n10 ------------------- eth0 172.29.84.10

The host's only change is the pkgos-host link and its /24 route; the
bridge and the nodes' links never appear in the host's namespace, and the
nodes have no default route (the host does not forward either). Every
link and namespace is created and deleted by its recorded name.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from pathlib import Path

from tests.servers import port_open

from . import config, proxy
from .state import NodeState, Switch
from .system import NodeError, alive, command, start_time, stop_recorded


def _netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def _link_exists(name: str, netns: str | None = None) -> bool:
    argv = ["ip", *(["-n", netns] if netns else []), "link", "show", "dev", name]
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def new_switch() -> Switch:
    """The switch's record, before anything of it exists."""
    return Switch(
        netns=config.SWITCH_NETNS,
        bridge=config.BRIDGE,
        host_veth=config.HOST_VETH,
        uplink_veth=config.UPLINK_VETH,
        host_address=config.HOST_ADDRESS,
        proxy_log=str(config.STATE_DIR / "proxy.log"),
    )


def create_switch(switch: Switch) -> Switch:
    """Create what ``switch`` names that does not exist yet, and start its proxy if it is not running.

    Returns the record with the proxy's PID.
    """
    if not _netns_exists(switch.netns):
        command("ip", "netns", "add", switch.netns)
    sw = ("ip", "-n", switch.netns)
    command(*sw, "link", "set", "lo", "up")
    if not _link_exists(switch.bridge, switch.netns):
        command(*sw, "link", "add", switch.bridge, "type", "bridge")
    command(*sw, "link", "set", switch.bridge, "up")
    if not _link_exists(switch.host_veth):
        command(
            "ip", "link", "add", switch.host_veth, "type", "veth",
            "peer", "name", switch.uplink_veth, "netns", switch.netns,
        )  # fmt: skip
        command("ip", "addr", "add", f"{switch.host_address}/{config.PREFIXLEN}", "dev", switch.host_veth)
    command(*sw, "link", "set", switch.uplink_veth, "master", switch.bridge, "up")
    command("ip", "link", "set", switch.host_veth, "up")
    if (
        switch.proxy_pid is not None
        and switch.proxy_start is not None
        and alive(switch.proxy_pid, switch.proxy_start)
    ):
        return switch
    return _start_proxy(switch)


def _start_proxy(switch: Switch) -> Switch:
    allowed = [f"{host}:{port}" for host, port in config.ALLOWED]
    argv = [sys.executable, proxy.__file__, "--listen", f"{switch.host_address}:{config.PROXY_PORT}"]
    argv += [item for host in allowed for item in ("--allow", host)]
    with open(switch.proxy_log, "a") as log:
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, cwd="/"
        )
    started = start_time(child.pid)
    if started is None:
        raise NodeError(f"the package proxy exited at once; see {switch.proxy_log}")
    deadline = time.monotonic() + 10
    while not port_open(config.PROXY_PORT, switch.host_address):
        if child.poll() is not None or time.monotonic() > deadline:
            raise NodeError(f"the package proxy did not start listening; see {switch.proxy_log}")
        time.sleep(0.05)
    return dataclasses.replace(switch, proxy_pid=child.pid, proxy_start=started)


def remove_switch(switch: Switch) -> None:
    """Stop the proxy and delete the host's veth and the switch's namespace (with the bridge in it)."""
    if switch.proxy_pid is not None and switch.proxy_start is not None:
        stop_recorded(switch.proxy_pid, switch.proxy_start, timeout=5)
    if _link_exists(switch.host_veth):
        command("ip", "link", "delete", switch.host_veth)
    if _netns_exists(switch.netns):
        command("ip", "netns", "delete", switch.netns)


def plug(node: NodeState) -> None:
    """Create the node's namespace and its veth into the bridge, with its address (idempotent)."""
    if not _netns_exists(node.netns):
        command("ip", "netns", "add", node.netns)
    if not _link_exists(node.switch_port, config.SWITCH_NETNS):
        command(
            "ip", "-n", config.SWITCH_NETNS, "link", "add", node.switch_port, "type", "veth",
            "peer", "name", "eth0", "netns", node.netns,
        )  # fmt: skip
        command("ip", "-n", node.netns, "addr", "add", f"{node.address}/{config.PREFIXLEN}", "dev", "eth0")
    command("ip", "-n", config.SWITCH_NETNS, "link", "set", node.switch_port, "master", config.BRIDGE, "up")
    command("ip", "-n", node.netns, "link", "set", "eth0", "up")
    command("ip", "-n", node.netns, "link", "set", "lo", "up")


def unplug(node: NodeState) -> None:
    """Delete the node's veth and namespace, whichever still exist."""
    if _netns_exists(config.SWITCH_NETNS) and _link_exists(node.switch_port, config.SWITCH_NETNS):
        command("ip", "-n", config.SWITCH_NETNS, "link", "delete", node.switch_port)
    if _netns_exists(node.netns):
        command("ip", "netns", "delete", node.netns)
