"""The node's root tree: bootstrapped once with mmdebstrap, cached by a hash of its inputs.

The key is the image builder's (openstack_pkg_tools.image.bootstrap): every
field of a BootstrapSpec, whose ``prepared`` field here is a hash of the
files written into the tree after the bootstrap. Unlike the image's cache
(a tarball unpacked per build), the tree is kept unpacked, read-only by
convention: each node mounts it as the lower layer of its own overlay, so a
node starts without copying anything.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from openstack_pkg_tools.image.bootstrap import BootstrapSpec, bootstrap_argv, cache_key
from openstack_pkg_tools.image.options import Backend

from . import config

MIRROR = "http://deb.debian.org/debian"
# systemd as PID 1, D-Bus for systemctl, ip for the tests; ca-certificates
# so that pip trusts PyPI. Everything else a node installs itself.
PACKAGES = ("ca-certificates", "dbus", "iproute2", "systemd", "systemd-sysv")

# What a fresh Debian 12 machine has: the release, its updates and security.
SOURCES = f"""\
deb {MIRROR} bookworm main
deb {MIRROR} bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
"""


def prepared_files() -> dict[str, str]:
    """The files written into the bootstrapped tree before it is cached (path relative to the root)."""
    return {
        "etc/apt/sources.list": SOURCES,
        # A node has no route out: apt and pip reach their registries through
        # the host's proxy (proxy.py), which allows nothing else.
        "etc/apt/apt.conf.d/90pkgos-proxy": f'Acquire::http::Proxy "{config.PROXY_URL}/";\n',
        "etc/pip.conf": f"[global]\nproxy = {config.PROXY_URL}\ncert = {config.NODE_CA_BUNDLE}\n",
        # No resolver either (mmdebstrap copied the host's): names are
        # resolved by the proxy, on the host.
        "etc/resolv.conf": "",
        "etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    }


def spec() -> BootstrapSpec:
    """The inputs of the node's tree."""
    fingerprint = hashlib.sha256(json.dumps(sorted(prepared_files().items())).encode()).hexdigest()[:16]
    return BootstrapSpec(
        backend=Backend.MMDEBSTRAP,
        release="bookworm",
        architecture="amd64",
        mirror=MIRROR,
        components=("main",),
        packages=PACKAGES,
        prepared=fingerprint,
    )


def cached_root(cache_dir: Path = config.CACHE_DIR) -> Path:
    """Where the tree of the current inputs lives (it may not exist yet)."""
    current = spec()
    return cache_dir / f"root-{current.release}-{current.architecture}-{cache_key(current)}"


def ensure_root(cache_dir: Path = config.CACHE_DIR) -> Path:
    """The cached tree, bootstrapped first if it is not there (about 25 s).

    The tree is built beside its final place and renamed when complete, so
    an interrupted bootstrap never leaves a tree that a later node trusts.
    """
    root = cached_root(cache_dir)
    if root.is_dir():
        return root
    partial = root.with_name(root.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    cache_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(bootstrap_argv(spec(), str(partial)), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise RuntimeError(
            f"mmdebstrap failed ({result.returncode}): {result.stderr.strip()[-2000:]}\n"
            f"check that {MIRROR} is reachable from this machine"
        )
    for relative, content in prepared_files().items():
        path = partial / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        # Unlinked first: a symlink in the tree must not lead the write onto the host's file.
        path.unlink(missing_ok=True)
        path.write_text(content)
    localtime = partial / "etc/localtime"
    # nspawn runs with --timezone=off: a symlink keeps tzdata's postinst working.
    localtime.unlink(missing_ok=True)
    localtime.symlink_to("/usr/share/zoneinfo/Etc/UTC")
    partial.rename(root)
    return root
