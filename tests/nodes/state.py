"""State files: what was created, by name and PID, so that it is removed by exactly that.

One JSON file per node (``nodes/NAME.json``) and one for the switch
(``switch.json``) under config.STATE_DIR, each written before the thing it
describes is created, so that a removal after a failed start still finds
everything. Changes happen under one lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from . import config


@dataclass(frozen=True)
class Switch:
    """The bridge's namespace, the host's veth into it, and the package proxy."""

    netns: str
    bridge: str
    host_veth: str
    uplink_veth: str
    host_address: str
    proxy_log: str
    proxy_pid: int | None = None
    proxy_start: int | None = None


@dataclass(frozen=True)
class NodeState:
    """One node: its names, address, directories and (while it runs) its processes."""

    name: str  # with the prefix; also the machine name and the hostname
    index: int
    address: str
    netns: str
    switch_port: str
    directory: str  # holds upper/, work/, root/ (the overlay's mount point) and console.log
    lower: str  # the cached root tree
    nspawn_pid: int | None = None
    nspawn_start: int | None = None
    leader_pid: int | None = None  # systemd, PID 1 inside; commands enter its namespaces
    leader_start: int | None = None
    boot_seconds: float | None = None

    @property
    def root(self) -> str:
        """The node's root as the host sees it (the overlay's mount point)."""
        return os.path.join(self.directory, "root")

    @property
    def console_log(self) -> str:
        """systemd-nspawn's output: the node's console."""
        return os.path.join(self.directory, "console.log")


def _nodes_dir() -> Path:
    return config.STATE_DIR / "nodes"


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Hold the state lock (creating, removing, allocating addresses)."""
    _nodes_dir().mkdir(parents=True, exist_ok=True)
    with open(config.STATE_DIR / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write(path: Path, data: object) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1) + "\n")
    partial.rename(path)


def save_node(node: NodeState) -> None:
    """Record ``node``."""
    _write(_nodes_dir() / f"{node.name}.json", asdict(node))


def load_node(name: str) -> NodeState | None:
    """The recorded node ``name`` (a full name), or None."""
    path = _nodes_dir() / f"{name}.json"
    if not path.is_file():
        return None
    return NodeState(**json.loads(path.read_text()))


def forget_node(name: str) -> None:
    """Drop the record of ``name``."""
    (_nodes_dir() / f"{name}.json").unlink(missing_ok=True)


def all_nodes() -> list[NodeState]:
    """Every recorded node, by index."""
    if not _nodes_dir().is_dir():
        return []
    nodes = [NodeState(**json.loads(path.read_text())) for path in _nodes_dir().glob("*.json")]
    return sorted(nodes, key=lambda node: node.index)


def save_switch(switch: Switch) -> None:
    """Record the switch."""
    _write(config.STATE_DIR / "switch.json", asdict(switch))


def load_switch() -> Switch | None:
    """The recorded switch, or None."""
    path = config.STATE_DIR / "switch.json"
    if not path.is_file():
        return None
    return Switch(**json.loads(path.read_text()))


def forget_switch() -> None:
    """Drop the record of the switch."""
    (config.STATE_DIR / "switch.json").unlink(missing_ok=True)
