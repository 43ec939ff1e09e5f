"""Names, addresses and places every node shares (one private /24 for the project).

Every name carries the ``pkgos`` prefix and every removal goes by a name or
PID recorded in a state file, so nothing else on the machine is touched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PREFIX = "pkgos-"

# The project's private range: 172.29.84.0/24, clear of this machine's
# routes (192.0.2.0/24 on eth0, a resolver in 10.255/16) and of Docker's
# and libvirt's defaults (172.17/16, 192.168.122/24). The host is .1 (the
# package proxy listens there), nodes take .10 to .250.
NETWORK = "172.29.84"
PREFIXLEN = 24
HOST_ADDRESS = f"{NETWORK}.1"
FIRST_INDEX = 10
LAST_INDEX = 250
PROXY_PORT = 3128
PROXY_URL = f"http://{HOST_ADDRESS}:{PROXY_PORT}"

# The only places the proxy lets a node reach: this machine's Debian mirror
# (/etc/apt/sources.list.d/debian.sources: deb.debian.org over http, for
# bookworm, -updates and -security) and PyPI (its index and its files).
ALLOWED = (("deb.debian.org", 80), ("pypi.org", 443), ("files.pythonhosted.org", 443))

# pip in a node trusts what the host trusts: the host's CA bundle, copied
# into each node. Where HTTPS goes through an inspecting proxy (as here),
# PyPI's certificate is signed by that proxy's CA, which only the host's
# bundle holds; elsewhere it is Debian's bundle, the same as the node's own.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
NODE_CA_BUNDLE = "/etc/ssl/pkgos-host-ca-certificates.crt"

# The switch: a network namespace holding the bridge, and the host's veth into it.
SWITCH_NETNS = "pkgos-switch"
BRIDGE = "pkgos-br0"
HOST_VETH = "pkgos-host"
UPLINK_VETH = "pkgos-uplink"

REPO = Path(__file__).resolve().parents[2]
# State files (PIDs, names); /run so that they go with the namespaces they describe.
STATE_DIR = Path(os.environ.get("PKGOS_NODES_STATE", "/run/pkgos-nodes"))
# Each node's overlay (upper layer, work dir, mount point) and console log.
NODES_DIR = Path(os.environ.get("PKGOS_NODES_DIR", "/var/lib/pkgos-nodes"))
# The bootstrapped root trees, one per set of inputs.
CACHE_DIR = Path(os.environ.get("PKGOS_NODES_CACHE", str(REPO / ".cache" / "nodes")))

# nspawn's per-machine directory on the host, which it fails to remove when
# /run is not a tmpfs ("we can't allow that"): removed by the node's own name.
NSPAWN_PROPAGATE = Path("/run/systemd/nspawn/propagate")

_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")


def full_name(name: str) -> str:
    """The node's name with the project's prefix (``web`` and ``pkgos-web`` are the same node)."""
    bare = name.removeprefix(PREFIX)
    if not _NAME.fullmatch(bare):
        raise ValueError(f"bad node name {name!r}: use 1 to 31 of a-z, 0-9 and '-', starting with a letter")
    return PREFIX + bare


def address(index: int) -> str:
    """The IPv4 address of the node with ``index``."""
    if not FIRST_INDEX <= index <= LAST_INDEX:
        raise ValueError(f"node index {index} is outside {FIRST_INDEX}..{LAST_INDEX}")
    return f"{NETWORK}.{index}"


def netns(name: str) -> str:
    """The network namespace of the node ``name`` (a full name)."""
    return f"pkgos-node-{name.removeprefix(PREFIX)}"


def switch_port(index: int) -> str:
    """The bridge-side end of node ``index``'s veth (in the switch namespace; at most 15 characters)."""
    return f"pkgos-n{index}"
