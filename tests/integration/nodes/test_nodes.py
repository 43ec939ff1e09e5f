"""Nodes: systemd as PID 1, units, the bridge, packages through the proxy, and nothing left behind.

Root only; ``make check-nodes`` runs them (``make check`` does not). They
print the boot time, memory and apt time they measure (-rP shows it).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.nodes import config, node, state
from tests.nodes.fixtures import processes_in, project_things
from tests.nodes.state import NodeState
from tests.nodes.system import alive

pytestmark = [pytest.mark.nodes, pytest.mark.slow]

GREETING_PORT = 7777
# A unit that answers every connection with the node's name: socket
# activation, so that systemd itself starts the service.
GREETING_UNITS = {
    "pkgos-greet.socket": f"""\
[Unit]
Description=pkgos test greeting

[Socket]
ListenStream={GREETING_PORT}
Accept=yes
""",
    "pkgos-greet@.service": """\
[Unit]
Description=pkgos test greeting for one connection

[Service]
ExecStart=/bin/echo hello from %H
StandardOutput=socket
""",
}


def run_ok(target: NodeState, *argv: str) -> str:
    result = node.execute(target, list(argv), input="", capture=True)
    assert result.returncode == 0, f"{argv} exited {result.returncode}: {result.stderr}"
    return result.stdout


def start_greeting(target: NodeState, scratch: Path) -> None:
    for name, text in GREETING_UNITS.items():
        (scratch / name).write_text(text)
        node.copy_in(target, str(scratch / name), "/etc/systemd/system")
    run_ok(target, "systemctl", "daemon-reload")
    run_ok(target, "systemctl", "start", "pkgos-greet.socket")
    assert run_ok(target, "systemctl", "is-active", "pkgos-greet.socket").strip() == "active"


def test_systemd_is_pid_1_and_the_boot_is_measured(started_node: NodeState) -> None:
    assert run_ok(started_node, "cat", "/proc/1/comm").strip() == "systemd"
    assert run_ok(started_node, "readlink", "/proc/1/exe").strip() == "/usr/lib/systemd/systemd"
    assert run_ok(started_node, "hostname").strip() == started_node.name
    status = node.execute(started_node, ["systemctl", "is-system-running"], capture=True).stdout.strip()
    assert status in ("running", "degraded")
    # /proc/sys and /sys are writable (os-vif and neutron write there).
    run_ok(started_node, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
    print(
        f"boot: {started_node.boot_seconds} s; memory: {node.memory(started_node) / 2**20:.0f} MiB ({status})"
    )


def test_sys_class_net_lists_the_nodes_own_devices(started_node: NodeState) -> None:
    links = run_ok(started_node, "ip", "-o", "link", "show")
    names = {line.split(": ")[1].split("@")[0] for line in links.splitlines()}
    assert set(run_ok(started_node, "ls", "/sys/class/net").split()) == names
    assert names == {"lo", "eth0"}


def test_exec_passes_stdin_and_returns_the_exit_code(started_node: NodeState) -> None:
    result = node.execute(started_node, ["sh", "-c", "cat; exit 3"], input="from the host", capture=True)
    assert (result.returncode, result.stdout) == (3, "from the host")


def test_a_unit_starts_and_the_host_reaches_it_by_its_address(
    started_node: NodeState, tmp_path: Path
) -> None:
    start_greeting(started_node, tmp_path)
    with socket.create_connection((started_node.address, GREETING_PORT), timeout=10) as client:
        assert client.makefile().readline() == f"hello from {started_node.name}\n"
    assert run_ok(started_node, "systemctl", "is-active", "pkgos-greet.socket").strip() == "active"


def test_two_nodes_reach_each_other(node_factory: Callable[[], NodeState], tmp_path: Path) -> None:
    server, client = node_factory(), node_factory()
    start_greeting(server, tmp_path)
    connect = f"exec 3<>/dev/tcp/{server.address}/{GREETING_PORT}; cat <&3"
    assert run_ok(client, "bash", "-c", connect) == f"hello from {server.name}\n"


def test_apt_and_pip_registries_through_the_proxy_and_nothing_else(
    started_node: NodeState,
) -> None:
    began = time.monotonic()
    run_ok(started_node, "apt-get", "update", "-q")
    run_ok(started_node, "apt-get", "install", "-q", "-y", "hello")
    print(f"apt-get update + install hello: {time.monotonic() - began:.1f} s")
    assert run_ok(started_node, "hello") == "Hello, world!\n"
    # No route out (TEST-NET-2 stands for any address off the bridge) ...
    unreachable = node.execute(started_node, ["bash", "-c", "exec 3<>/dev/tcp/198.51.100.1/80"], capture=True)
    assert unreachable.returncode != 0 and "Network is unreachable" in unreachable.stderr
    # ... and the proxy refuses what is not a package registry.
    ask = (
        f"exec 3<>/dev/tcp/{config.HOST_ADDRESS}/{config.PROXY_PORT}; "
        "printf 'CONNECT example.org:443 HTTP/1.1\\r\\n\\r\\n' >&3; head -n1 <&3"
    )
    assert run_ok(started_node, "bash", "-c", ask).startswith("HTTP/1.1 403")
    # PyPI is reached through the proxy with the CA bundle pip is given.
    pypi = (
        f"echo | openssl s_client -proxy {config.HOST_ADDRESS}:{config.PROXY_PORT} -connect pypi.org:443 "
        f"-servername pypi.org -CAfile {config.NODE_CA_BUNDLE} -verify_return_error"
    )
    assert "Verify return code: 0 (ok)" in run_ok(started_node, "sh", "-c", pypi)


def test_stop_and_remove_leave_nothing_behind(node_factory: Callable[[], NodeState]) -> None:
    before = project_things()
    switch_before = state.load_switch()
    target = node_factory()
    running = project_things()
    print(f"before: {before}\nrunning: {running}")
    assert target.netns in running["netns"] and target.root in running["mounts"]
    assert target.leader_pid is not None
    namespace = os.readlink(f"/proc/{target.leader_pid}/ns/pid")
    assert len(processes_in(namespace)) > 1  # systemd and its services
    switch = state.load_switch()
    assert switch is not None

    began = time.monotonic()
    node.stop(target.name)
    print(f"clean poweroff: {time.monotonic() - began:.1f} s")
    assert time.monotonic() - began < node.STOP_TIMEOUT  # halted, not killed
    assert processes_in(namespace) == []
    stopped = project_things()
    assert target.netns not in stopped["netns"] and target.root not in stopped["mounts"]
    assert os.path.isdir(target.directory)  # its files stay until rm
    node.remove(target.name)

    after = project_things()
    print(f"after: {after}")
    assert after == before
    for pid, started in ((target.nspawn_pid, target.nspawn_start), (target.leader_pid, target.leader_start)):
        assert pid is not None and started is not None
        assert not alive(pid, started)
    if switch_before is None:  # this test made the switch, so removing its last node removed it
        assert switch.proxy_pid is not None and switch.proxy_start is not None
        assert not alive(switch.proxy_pid, switch.proxy_start)
        assert state.load_switch() is None
    assert not os.path.exists(target.directory)
    assert not (config.NSPAWN_PROPAGATE / target.name).exists()
