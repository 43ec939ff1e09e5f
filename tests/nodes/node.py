"""A node's life: start (boot systemd as PID 1), run commands in it, copy into it, stop, remove.

A node is the cached root tree (rootfs.py) under an overlay of its own,
booted by ``systemd-nspawn -b`` in its own network namespace (network.py).
The host has no systemd-machined, so commands enter the namespaces of the
node's PID 1 with ``nsenter``.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from . import config, network, rootfs, state
from .state import NodeState
from .system import NodeError, alive, command, signal_recorded, start_time, wait_gone

# The PATH of a root login on Debian; commands in a node get a clean environment.
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BOOT_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


def requirements() -> list[str]:
    """What this machine lacks to run nodes (empty when nothing)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (nodes mount, create namespaces and boot containers)")
    for program, package in (("systemd-nspawn", "systemd-container"), ("mmdebstrap", "mmdebstrap")):
        if shutil.which(program) is None:
            missing.append(f"{program} (apt-get install --no-install-recommends {package})")
    for program in ("nsenter", "ip"):
        if shutil.which(program) is None:
            missing.append(program)
    return missing


def _require() -> None:
    missing = requirements()
    if missing:
        raise NodeError(
            "nodes need "
            + "; ".join(missing)
            + " (as root, make check-nodes installs the packages nodes need)"
        )


def _ensure_root() -> Path:
    """The cached tree, bootstrapped under a lock so that concurrent starts bootstrap once."""
    config.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(config.CACHE_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return rootfs.ensure_root(config.CACHE_DIR)


def get(name: str) -> NodeState:
    """The recorded node ``name`` (with or without the prefix)."""
    node = state.load_node(config.full_name(name))
    if node is None:
        raise NodeError(f"no node named {config.full_name(name)} (python3 -m tests.nodes list)")
    return node


def running(node: NodeState) -> bool:
    """True when the node's nspawn and its PID 1 are alive."""
    return all(
        pid is not None and started is not None and alive(pid, started)
        for pid, started in ((node.nspawn_pid, node.nspawn_start), (node.leader_pid, node.leader_start))
    )


def _create(name: str, lower: Path) -> NodeState:
    """Record a new node, attach it and write its name into its tree (under the state lock)."""
    used = {node.index for node in state.all_nodes()}
    free = [i for i in range(config.FIRST_INDEX, config.LAST_INDEX + 1) if i not in used]
    if not free:
        raise NodeError("every node address is taken: remove nodes first (python3 -m tests.nodes list)")
    index = free[0]
    node = NodeState(
        name=name,
        index=index,
        address=config.address(index),
        netns=config.netns(name),
        switch_port=config.switch_port(index),
        directory=str(config.NODES_DIR / name),
        lower=str(lower),
    )
    state.save_node(node)
    _attach(node)
    # What an installer writes: the host's name, resolvable.
    hosts = Path(node.root, "etc/hosts").read_text()
    files = {"etc/hostname": f"{name}\n", "etc/hosts": f"{hosts}127.0.1.1\t{name}\n"}
    if config.HOST_CA_BUNDLE.is_file():
        files[config.NODE_CA_BUNDLE.lstrip("/")] = config.HOST_CA_BUNDLE.read_text()
    for relative, content in files.items():
        path = Path(node.root, relative)
        # Unlinked first: the tree is the node's, a symlink in it must not lead onto the host's files.
        path.unlink(missing_ok=True)
        path.write_text(content)
    return node


def _attach(node: NodeState) -> None:
    """Make the switch (if needed), the node's namespace and veth, and mount its overlay."""
    switch = state.load_switch() or network.new_switch()
    state.save_switch(switch)
    state.save_switch(network.create_switch(switch))
    network.plug(node)
    for part in ("upper", "work", "root"):
        os.makedirs(os.path.join(node.directory, part), exist_ok=True)
    if not os.path.ismount(node.root):
        layers = f"lowerdir={node.lower},upperdir={node.directory}/upper,workdir={node.directory}/work"
        command("mount", "-t", "overlay", node.name, "-o", layers, node.root)


def _detach(node: NodeState) -> None:
    """Unmount the node's overlay and delete its veth and namespace (its files stay)."""
    if os.path.ismount(node.root):
        command("umount", node.root)
    network.unplug(node)


def start(name: str, timeout: float = BOOT_TIMEOUT) -> NodeState:
    """Create (or boot again, if stopped) the node ``name`` and wait until systemd says it is up.

    Returns the node's record, with its PIDs and boot time. A failed start
    removes what it created.
    """
    _require()
    name = config.full_name(name)
    lower = _ensure_root()
    with state.locked():
        node = state.load_node(name)
        if node is not None and running(node):
            raise NodeError(f"node {name} is already running")
        created = node is None
        try:
            if node is None:
                node = _create(name, lower)
            else:
                _attach(node)
            return _boot(node, timeout)
        except BaseException:
            if created:
                _remove(name)
            raise


def _boot(node: NodeState, timeout: float) -> NodeState:
    argv = [
        "systemd-nspawn", "--boot", "--directory", node.root, "--machine", node.name,
        # No machined or system bus on the host.
        "--register=no", "--keep-unit",
        # The tree's /etc/localtime is a symlink; nspawn's bind mount would break tzdata.
        "--timezone=off", "--resolv-conf=off",
        "--capability=all", f"--network-namespace-path=/run/netns/{node.netns}",
        "--bind=/dev/net/tun", "--console=pipe",
    ]  # fmt: skip
    if os.path.exists("/dev/kvm"):
        argv.append("--bind=/dev/kvm")
    # /proc/sys and /sys writable, as os-vif and neutron need them.
    environment = {"PATH": PATH, "SYSTEMD_NSPAWN_API_VFS_WRITABLE": "1"}
    began = time.monotonic()
    with open(node.console_log, "a") as log:
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=environment, start_new_session=True
        )
    nspawn_start = start_time(child.pid)
    node = dataclasses.replace(node, nspawn_pid=child.pid, nspawn_start=nspawn_start)
    state.save_node(node)
    leader = _wait_leader(node, began + timeout)
    node = dataclasses.replace(node, leader_pid=leader, leader_start=start_time(leader))
    state.save_node(node)
    _wait_running(node, began + timeout, timeout)
    _own_network_sysfs(node)
    node = dataclasses.replace(node, boot_seconds=round(time.monotonic() - began, 2))
    state.save_node(node)
    return node


# The sysfs nspawn mounts (writable, with SYSTEMD_NSPAWN_API_VFS_WRITABLE)
# lists the network devices of the host's namespace, not the node's: it is
# mounted before nspawn joins --network-namespace-path. Neutron's
# linuxbridge agent finds its tap devices in /sys/class/net, so it never
# saw a port there, and every VM's port stayed DOWN. A sysfs mounted from
# inside the node shows the node's devices; its net directories are bound
# over the others (the rest of /sys, cgroups included, stays).
NETWORK_SYSFS = """
mkdir -p /run/pkgos-sysfs
mountpoint -q /run/pkgos-sysfs || mount -t sysfs -o rw,nosuid,nodev,noexec sysfs /run/pkgos-sysfs
for dir in class/net devices/virtual/net; do
    mount --bind /run/pkgos-sysfs/$dir /sys/$dir
done
"""


def _own_network_sysfs(node: NodeState) -> None:
    """/sys/class/net and /sys/devices/virtual/net of the node's own network namespace."""
    result = execute(node, ["sh", "-ec", NETWORK_SYSFS], capture=True)
    if result.returncode != 0:
        raise NodeError(f"cannot mount the network part of /sys in {node.name}: {result.stderr.strip()}")


def _console_tail(node: NodeState) -> str:
    try:
        lines = Path(node.console_log).read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return ""
    return "\n".join(lines[-15:])


def _wait_leader(node: NodeState, deadline: float) -> int:
    """The PID of nspawn's child, the node's systemd."""
    assert node.nspawn_pid is not None and node.nspawn_start is not None
    children = Path(f"/proc/{node.nspawn_pid}/task/{node.nspawn_pid}/children")
    while True:
        if not alive(node.nspawn_pid, node.nspawn_start):
            raise NodeError(f"systemd-nspawn for {node.name} exited:\n{_console_tail(node)}")
        pids = children.read_text().split() if children.exists() else []
        if pids and Path(f"/proc/{pids[0]}/comm").read_text().strip() == "systemd":
            return int(pids[0])
        if time.monotonic() > deadline:
            raise NodeError(f"systemd-nspawn for {node.name} started no systemd:\n{_console_tail(node)}")
        time.sleep(0.05)


def _wait_running(node: NodeState, deadline: float, timeout: float) -> None:
    said = ""
    while True:
        if not running(node):
            raise NodeError(f"node {node.name} stopped while booting:\n{_console_tail(node)}")
        result = execute(node, ["systemctl", "is-system-running"], capture=True)
        said = result.stdout.strip()
        if said in ("running", "degraded"):
            return
        if time.monotonic() > deadline:
            raise NodeError(
                f"node {node.name} did not finish booting within {timeout:.0f} s "
                f"(systemctl is-system-running says {said!r}); its console is {node.console_log}"
            )
        time.sleep(0.2)


def enter_argv(node: NodeState, argv: list[str], environment: dict[str, str] | None = None) -> list[str]:
    """The host command that runs ``argv`` as root in the node, in a clean environment."""
    if node.leader_pid is None or not running(node):
        raise NodeError(f"node {node.name} is not running (python3 -m tests.nodes start {node.name})")
    env = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "USER": "root", "LOGNAME": "root"}
    if "TERM" in os.environ:
        env["TERM"] = os.environ["TERM"]
    env.update(environment or {})
    pairs = [f"{key}={value}" for key, value in env.items()]
    return [
        "nsenter",
        "--target",
        str(node.leader_pid),
        "--all",
        "--root",
        "--wd",
        "--",
        "env",
        "-i",
        *pairs,
        *argv,
    ]


def execute(
    node: NodeState,
    argv: list[str],
    *,
    input: bytes | str | None = None,
    capture: bool = False,
    environment: dict[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in the node; its exit code is the result's returncode.

    Without ``input`` it reads this process's stdin; without ``capture`` its
    output goes to this process's stdout and stderr.
    """
    data = input.encode() if isinstance(input, str) else input
    result = subprocess.run(
        enter_argv(node, argv, environment),
        input=data,
        capture_output=capture,
        timeout=timeout,
        check=False,
    )
    decode = (lambda out: out.decode(errors="replace")) if capture else (lambda out: "")
    return subprocess.CompletedProcess(
        result.args, result.returncode, decode(result.stdout), decode(result.stderr)
    )


def copy_in(node: NodeState, source: str, destination: str) -> None:
    """Copy the file or directory ``source`` into the node's directory ``destination`` (made if missing).

    Through tar inside the node, so that a symlink in the node's tree cannot
    lead the copy out onto the host's files.
    """
    path = Path(source)
    if not path.exists():
        raise NodeError(f"{source} does not exist")
    if execute(node, ["mkdir", "-p", destination], capture=True).returncode != 0:
        raise NodeError(f"cannot make {destination} in {node.name}")
    packer = subprocess.Popen(["tar", "-C", str(path.parent), "-cf", "-", path.name], stdout=subprocess.PIPE)
    unpacker = subprocess.run(
        enter_argv(node, ["tar", "-xf", "-", "-C", destination]),
        stdin=packer.stdout,
        capture_output=True,
        check=False,
    )
    assert packer.stdout is not None
    packer.stdout.close()
    if packer.wait() != 0 or unpacker.returncode != 0:
        raise NodeError(
            f"copying {source} into {node.name}:{destination} failed: {unpacker.stderr.decode().strip()}"
        )


def memory(node: NodeState) -> int:
    """Bytes of memory the node's processes use (the sum of their PSS)."""
    if node.leader_pid is None:
        return 0
    namespace = os.readlink(f"/proc/{node.leader_pid}/ns/pid")
    total_kib = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry.name}/ns/pid") != namespace:
                continue
            for line in Path(f"/proc/{entry.name}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kib += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total_kib * 1024


def stop(name: str, timeout: float = STOP_TIMEOUT) -> NodeState:
    """Power the node off cleanly (killed by PID if not down after ``timeout`` seconds) and detach it.

    Its files stay, for a later start; its mount, namespace and veth go.
    """
    node = get(name)
    with state.locked():
        _stop(node, timeout)
        _detach(node)
    node = dataclasses.replace(node, nspawn_pid=None, nspawn_start=None, leader_pid=None, leader_start=None)
    state.save_node(node)
    return node


def _stop(node: NodeState, timeout: float) -> None:
    nspawn = (node.nspawn_pid, node.nspawn_start)
    leader = (node.leader_pid, node.leader_start)
    if nspawn[0] is not None and nspawn[1] is not None:
        # nspawn turns SIGTERM into systemd's halt request (SIGRTMIN+3) and
        # exits when the node's systemd has finished.
        signal_recorded(nspawn[0], nspawn[1], signal.SIGTERM)
        if wait_gone(nspawn[0], nspawn[1], timeout):
            nspawn = (None, None)
    for pid, started in (leader, nspawn):
        # Killing PID 1 of the node kills every process of its PID namespace.
        if pid is not None and started is not None:
            signal_recorded(pid, started, signal.SIGKILL)
            if not wait_gone(pid, started, 10):
                raise NodeError(f"process {pid} of {node.name} survived SIGKILL")


def remove(name: str, timeout: float = STOP_TIMEOUT) -> None:
    """Stop the node if it runs and delete everything it had; the switch too when no node is left."""
    with state.locked():
        _remove(config.full_name(name), timeout)


def _remove(name: str, timeout: float = STOP_TIMEOUT) -> None:
    node = state.load_node(name)
    if node is None:
        raise NodeError(f"no node named {name} (python3 -m tests.nodes list)")
    _stop(node, timeout)
    _detach(node)
    if os.path.isdir(node.directory):
        shutil.rmtree(node.directory)
    propagate = config.NSPAWN_PROPAGATE / node.name
    if propagate.is_dir():
        shutil.rmtree(propagate)
    state.forget_node(name)
    switch = state.load_switch()
    if switch is not None and not state.all_nodes():
        network.remove_switch(switch)
        state.forget_switch()


def describe(node: NodeState) -> str:
    """One line for ``list``."""
    status = "running" if running(node) else "stopped"
    return f"{node.name}\t{node.address}\t{status}\tpid={node.leader_pid or '-'}\t{node.directory}"
