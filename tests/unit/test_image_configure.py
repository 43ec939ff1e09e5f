"""The files written into the tree: cloud-init, fstab, sources, no secrets in clear."""

from __future__ import annotations

import json
import os

import pytest

from openstack_pkg_tools.image import cloudinit, configure
from openstack_pkg_tools.image.options import ImageOptions

UUIDS = configure.Uuids(root="0b1c7e3a-5d2f-4f6e-9a41-3f2b8c9d0e11", esp="ABCD-1234")


def files_of(options: ImageOptions, key: bytes | None = None) -> dict[str, configure.TreeFile]:
    return {item.path: item for item in configure.tree_files(options, UUIDS, key)}


def test_default_cloud_init_config_puts_openstack_first_and_never_waits_long() -> None:
    text = cloudinit.default_config().decode()
    assert "datasource_list: [ConfigDrive, OpenStack, NoCloud, None]" in text
    assert "max_wait: 10" in text
    assert "resize_rootfs: true" in text
    assert "mode: auto" in text


def test_user_config_without_password_locks_it() -> None:
    config = json.loads(cloudinit.user_config(ImageOptions(login="admin")))
    user = config["system_info"]["default_user"]
    assert user["name"] == "admin"
    assert user["lock_passwd"] is True
    assert "passwd" not in user
    assert "disable_root" not in config


def test_user_config_with_password_hash_and_root_key() -> None:
    options = ImageOptions(password_hash="$6$salt$hash", root_ssh_key="/k.pub")
    config = json.loads(cloudinit.user_config(options))
    assert config["system_info"]["default_user"]["passwd"] == "$6$salt$hash"
    assert config["system_info"]["default_user"]["lock_passwd"] is False
    assert config["disable_root"] is False


def test_fstab_by_uuid() -> None:
    assert configure.fstab(UUIDS) == (
        "UUID=0b1c7e3a-5d2f-4f6e-9a41-3f2b8c9d0e11 / ext4 errors=remount-ro 0 1\n"
        "UUID=ABCD-1234 /boot/efi vfat umask=0077,nofail 0 2\n"
    )
    assert configure.fstab(configure.Uuids(root="r", esp=None)) == "UUID=r / ext4 errors=remount-ro 0 1\n"


def test_sources_list_for_bookworm_and_deb822_for_trixie() -> None:
    bookworm = configure.sources(ImageOptions(release="bookworm", sources_mirror="http://m/debian"))
    assert bookworm.path == "etc/apt/sources.list"
    assert bookworm.content.decode().splitlines() == [
        "deb http://m/debian bookworm main",
        "deb http://m/debian bookworm-updates main",
        "deb http://security.debian.org/debian-security bookworm-security main",
    ]
    trixie = configure.sources(ImageOptions(release="trixie", components=("main", "contrib")))
    assert trixie.path == "etc/apt/sources.list.d/debian.sources"
    text = trixie.content.decode()
    assert "Suites: trixie trixie-updates\nComponents: main contrib\n" in text
    assert "Suites: trixie-security\n" in text


def test_tree_files() -> None:
    files = files_of(ImageOptions(password_hash="$6$x$y"), key=b"ssh-ed25519 AAAA k\n")
    assert files["etc/machine-id"].content == b""
    assert files[cloudinit.USER_PATH].mode == 0o600
    assert files["root/.ssh/authorized_keys"].mode == 0o600
    assert UUIDS.root.encode() in files["boot/grub/grub.cfg"].content
    assert b"console=ttyS0,115200" in files["etc/default/grub.d/50-pkgos.cfg"].content


def test_prepare_builds_locales_and_an_initramfs_with_fsck(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    tree = str(tmp_path)
    calls = []
    monkeypatch.setattr(configure, "run", lambda argv, **kwargs: calls.append(argv))
    configure.prepare(tree)
    with open(os.path.join(tree, "etc/initramfs-tools/conf.d/pkgos-fstype")) as handle:
        assert handle.read() == "FSTYPE=ext4\n"
    with open(os.path.join(tree, "etc/locale.gen")) as handle:
        assert handle.read() == "en_US.UTF-8 UTF-8\n"
    assert calls == [["chroot", tree, "locale-gen"], ["chroot", tree, "update-initramfs", "-u", "-k", "all"]]


def test_write_files_creates_with_final_mode_and_remove_unshippable(tmp_path: object) -> None:
    tree = str(tmp_path)
    os.makedirs(os.path.join(tree, "etc/ssh"))
    for name in ("ssh_host_rsa_key", "ssh_host_rsa_key.pub", "sshd_config"):
        open(os.path.join(tree, "etc/ssh", name), "w").close()
    configure.write_files(tree, [configure.TreeFile("etc/cloud/x.cfg", b"secret-ish", 0o600)])
    assert os.stat(os.path.join(tree, "etc/cloud/x.cfg")).st_mode & 0o777 == 0o600
    configure.remove_unshippable(tree)
    assert os.listdir(os.path.join(tree, "etc/ssh")) == ["sshd_config"]


def test_hook_gets_the_tree_in_its_environment(tmp_path: object) -> None:
    base = str(tmp_path)
    hook = os.path.join(base, "hook")
    with open(hook, "w") as handle:
        handle.write('#!/bin/sh\necho "$BODI_CHROOT_PATH $BODI_RELEASE" > "$BODI_CHROOT_PATH/seen"\n')
    os.chmod(hook, 0o755)
    configure.run_hook(hook, base, ImageOptions(release="trixie"))
    with open(os.path.join(base, "seen")) as handle:
        assert handle.read() == f"{base} trixie\n"
