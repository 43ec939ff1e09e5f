"""The root tree: bootstrapped with mmdebstrap or debootstrap, cached by its inputs.

The bootstrap is the slow part of a build (downloading and unpacking a few
hundred packages). Its result depends only on the backend, release,
architecture, mirror, components and package list, so the tree is kept as a
tarball named after a hash of those inputs: a second build with the same
inputs unpacks it in seconds instead of bootstrapping again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import astuple, dataclass

from .. import log
from ..run import run
from . import configure
from .options import Backend, ImageOptions

# What every image needs to boot under both firmwares and to configure
# itself with cloud-init. python3-cffi-backend: without it cloud-init's
# dependencies stay unconfigured.
BOOT_PACKAGES = (
    "linux-image-cloud-amd64",
    "initramfs-tools",
    "e2fsprogs",
    "systemd-sysv",
    "grub-pc-bin",
    "grub-efi-amd64-bin",
    "grub-efi-amd64-signed",
    "shim-signed",
)
CLOUD_PACKAGES = (
    "cloud-init",
    "cloud-guest-utils",
    "python3-cffi-backend",
    "openssh-server",
    "sudo",
    "ifupdown",
    "locales",
    "ca-certificates",
)
# What a full (not --minimal) image adds for the people who log in to it.
COMFORT_PACKAGES = ("less", "vim-tiny", "bash-completion", "curl", "qemu-guest-agent", "unattended-upgrades")

# tar options that keep owners, modes, setuid bits and file capabilities.
TAR_KEEP = ("--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls")


@dataclass(frozen=True)
class BootstrapSpec:
    """The inputs that decide the bootstrapped tree, and so its cache key."""

    backend: Backend
    release: str
    architecture: str
    mirror: str
    components: tuple[str, ...]
    packages: tuple[str, ...]
    prepared: str  # what is done to the tree before it is cached (configure.prepare_fingerprint)


def spec_for(options: ImageOptions) -> BootstrapSpec:
    """The bootstrap inputs of an image build."""
    packages = [*BOOT_PACKAGES, *CLOUD_PACKAGES, options.release_info.dhcp_client]
    if not options.minimal:
        packages += COMFORT_PACKAGES
    packages += options.extra_packages
    return BootstrapSpec(
        backend=options.backend,
        release=options.release,
        architecture=options.architecture,
        mirror=options.mirror,
        components=options.components,
        packages=tuple(sorted(set(packages))),
        prepared=configure.prepare_fingerprint(),
    )


def cache_key(spec: BootstrapSpec) -> str:
    """A short hash that changes whenever any input of the bootstrap (or the preparation) changes."""
    # Every field, in order: the spec holds exactly what decides the tree.
    text = json.dumps(astuple(spec))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_file(cache_dir: str, spec: BootstrapSpec) -> str:
    """Where the tarball of ``spec``'s tree lives in ``cache_dir``."""
    return os.path.join(cache_dir, f"tree-{spec.release}-{spec.architecture}-{cache_key(spec)}.tar.zst")


def bootstrap_argv(spec: BootstrapSpec, target: str) -> list[str]:
    """The command that bootstraps ``spec`` into the directory ``target``."""
    if spec.backend is Backend.MMDEBSTRAP:
        program, architecture = "mmdebstrap", "--architectures="
    else:
        program, architecture = "debootstrap", "--arch="
    return [
        program,
        "--variant=minbase",
        architecture + spec.architecture,
        "--components=" + ",".join(spec.components),
        "--include=" + ",".join(spec.packages),
        spec.release,
        target,
        spec.mirror,
    ]


def bootstrap(spec: BootstrapSpec, target: str, cache_dir: str | None) -> bool:
    """Fill the empty directory ``target`` with the tree of ``spec``, prepared (configure.prepare).

    Returns True when the tree came from the cache. A new tree is added to
    the cache atomically (written beside it, then renamed), so an
    interrupted build never leaves a truncated tarball that a later build
    would trust.
    """
    cached = cache_file(cache_dir, spec) if cache_dir else None
    if cached and os.path.isfile(cached):
        log.info(f"using the cached tree {cached}")
        run(["tar", *TAR_KEEP, "--zstd", "-xpf", cached, "-C", target])
        return True
    run(
        bootstrap_argv(spec, target),
        hint=f"check that {spec.mirror} is reachable and carries {spec.release} for {spec.architecture}.",
    )
    configure.prepare(target)
    if cached:
        _store(target, cached)
    return False


def _store(tree: str, cached: str) -> None:
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    partial = cached + ".partial"
    try:
        # Fast compression on every core: the cache is for speed.
        run(["tar", *TAR_KEEP, "--use-compress-program=zstd -T0 -1", "-cf", partial, "-C", tree, "."])
        os.rename(partial, cached)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
