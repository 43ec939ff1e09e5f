"""The configured tree: files written into it, commands run inside it, a hook.

``tree_files()`` computes every file the image gets from the options and
the file-system UUIDs (pure); ``apply()`` writes them, removes what must
not ship (ssh host keys, machine-id, apt caches), and runs the few
commands that must run inside the tree.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from ..run import run
from . import bootloader, cloudinit
from .options import ImageOptions


@dataclass(frozen=True)
class TreeFile:
    """One file to write into the tree (``path`` relative to its root)."""

    path: str
    content: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class Uuids:
    """The identifiers of the image's file systems, chosen before they are made."""

    root: str
    esp: str | None  # FAT volume id as Linux shows it (ABCD-1234), or None without an ESP


# Files and globs that must not ship: every instance makes its own.
REMOVED = (
    "etc/ssh/ssh_host_*",
    "var/lib/dbus/machine-id",
    "var/lib/apt/lists/*_*",
    "var/cache/apt/*.bin",
    "var/log/*.log",
    "var/log/apt/*",
)


def fstab(uuids: Uuids) -> str:
    """/etc/fstab, by UUID."""
    lines = [f"UUID={uuids.root} / ext4 errors=remount-ro 0 1"]
    if uuids.esp:
        lines.append(f"UUID={uuids.esp} /boot/efi vfat umask=0077,nofail 0 2")
    return "\n".join(lines) + "\n"


def sources(options: ImageOptions) -> TreeFile:
    """APT's sources: deb822 (debian.sources) from trixie on, sources.list before."""
    release, mirror, security = options.release, options.sources_mirror, options.security_mirror
    components = " ".join(options.components)
    if options.release_info.deb822_sources:
        text = (
            f"Types: deb\nURIs: {mirror}\nSuites: {release} {release}-updates\n"
            f"Components: {components}\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
            f"Types: deb\nURIs: {security}\nSuites: {release}-security\n"
            f"Components: {components}\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        )
        return TreeFile("etc/apt/sources.list.d/debian.sources", text.encode())
    text = (
        f"deb {mirror} {release} {components}\n"
        f"deb {mirror} {release}-updates {components}\n"
        f"deb {security} {release}-security {components}\n"
    )
    return TreeFile("etc/apt/sources.list", text.encode())


# What every image shares, whatever its options: prepared once, right after
# the bootstrap, and cached with the tree (the initramfs takes a while).
PREPARED_FILES = (
    # Without FSTYPE the initramfs has no fsck for the root file system.
    TreeFile("etc/initramfs-tools/conf.d/pkgos-fstype", b"FSTYPE=ext4\n"),
    # cloud-init's locale module fails when no locale is generated.
    TreeFile("etc/locale.gen", b"en_US.UTF-8 UTF-8\n"),
)
PREPARE_COMMANDS = (("locale-gen",), ("update-initramfs", "-u", "-k", "all"))


def prepare(tree: str) -> None:
    """The option-independent part of the configuration: locales and an initramfs with fsck."""
    write_files(tree, list(PREPARED_FILES))
    for command in PREPARE_COMMANDS:
        run(["chroot", tree, *command])


def prepare_fingerprint() -> str:
    """What ``prepare`` does, as text: part of the tree cache's key."""
    return repr((PREPARED_FILES, PREPARE_COMMANDS))


def tree_files(options: ImageOptions, uuids: Uuids, root_ssh_key: bytes | None) -> list[TreeFile]:
    """Every file the builder writes into the tree."""
    files = [
        TreeFile("etc/fstab", fstab(uuids).encode()),
        TreeFile("etc/hostname", b"debian\n"),
        TreeFile("etc/hosts", b"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"),
        sources(options),
        TreeFile(
            "etc/network/interfaces",
            b"auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n",
        ),
        TreeFile(cloudinit.DEFAULTS_PATH, cloudinit.default_config()),
        TreeFile(cloudinit.USER_PATH, cloudinit.user_config(options), 0o600),
        TreeFile("etc/default/locale", b"LANG=C.UTF-8\n"),
        # Empty, not absent: systemd then makes a new one on first boot.
        TreeFile("etc/machine-id", b""),
        TreeFile("etc/default/grub.d/50-pkgos.cfg", _grub_defaults().encode()),
        TreeFile("boot/grub/grub.cfg", bootloader.grub_cfg(uuids.root, options.release).encode()),
    ]
    if root_ssh_key is not None:
        files.append(TreeFile("root/.ssh/authorized_keys", root_ssh_key, 0o600))
    return files


def _grub_defaults() -> str:
    # For update-grub, should the user install grub-pc or grub-efi later:
    # keep the serial console.
    return (
        f'GRUB_CMDLINE_LINUX_DEFAULT="{bootloader.KERNEL_CMDLINE.removeprefix("ro ")}"\n'
        'GRUB_TERMINAL="console serial"\n'
        'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"\n'
        "GRUB_TIMEOUT=1\n"
    )


def write_files(tree: str, files: list[TreeFile]) -> None:
    """Write ``files`` under ``tree``, creating directories, with each file's mode."""
    for item in files:
        path = os.path.join(tree, item.path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.unlink(path)
        # Created with its final mode, so a password hash is never readable by others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, item.mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(item.content)
        os.chmod(path, item.mode)


def remove_unshippable(tree: str) -> None:
    """Delete what every instance must make for itself, and apt's caches."""
    for pattern in REMOVED:
        for path in glob.glob(os.path.join(tree, pattern)):
            if os.path.isfile(path) or os.path.islink(path):
                os.unlink(path)


def apply(tree: str, options: ImageOptions, uuids: Uuids) -> None:
    """Configure the bootstrapped ``tree`` for ``options``."""
    key = None
    if options.root_ssh_key is not None:
        with open(options.root_ssh_key, "rb") as handle:
            key = handle.read()
    if options.release_info.deb822_sources and os.path.exists(os.path.join(tree, "etc/apt/sources.list")):
        os.unlink(os.path.join(tree, "etc/apt/sources.list"))
    write_files(tree, tree_files(options, uuids, key))
    os.makedirs(os.path.join(tree, "boot/efi"), exist_ok=True)
    run(["chroot", tree, "apt-get", "clean"])
    remove_unshippable(tree)


def run_hook(hook: str, tree: str, options: ImageOptions) -> None:
    """Run the user's hook script with the tree's path in its environment; its failure fails the build."""
    run(
        [os.path.abspath(hook)],
        env={"BODI_CHROOT_PATH": tree, "PKGOS_IMAGE_ROOT": tree, "BODI_RELEASE": options.release},
        hint=f"the hook script {hook} failed; the build was stopped and everything removed.",
    )
