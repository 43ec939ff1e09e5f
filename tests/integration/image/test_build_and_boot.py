"""Build a real image from Debian's archive, look inside it, boot it with each firmware."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import pytest

from .conftest import PASSWORD, Built, build_args, pkgos


def test_outputs_manifest_and_sums(built: Built) -> None:
    assert sorted(os.listdir(built.out)) == [
        "SHA256SUMS",
        "debian-test.manifest.json",
        "debian-test.qcow2",
        "debian-test.raw",
    ]
    subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=built.out, check=True)
    info = json.loads(
        subprocess.run(
            ["qemu-img", "info", "--output=json", built.qcow2], capture_output=True, text=True, check=True
        ).stdout
    )
    assert info["format"] == "qcow2"
    assert info["format-specific"]["data"]["compat"] == "1.1"
    assert info["virtual-size"] == 2 * 1024**3
    assert info["actual-size"] < 400 * 1024**2  # compressed
    with open(built.manifest) as handle:
        manifest = json.load(handle)
    for package in (
        "linux-image-cloud-amd64",
        "cloud-init",
        "shim-signed",
        "grub-efi-amd64-signed",
        "locales",
    ):
        assert package in manifest["packages"]
    assert manifest["inputs"]["password_hash"] == "***"
    assert manifest["boot_type"] == "hybrid"


def test_progress_steps_and_summary_on_stderr_without_the_password(built: Built) -> None:
    for step in ("Bootstrapping Debian bookworm", "Configuring the tree", "Building the file systems",
                 "Installing the bootloader", "Converting to qcow2"):  # fmt: skip
        assert f"<== {step}" in built.stderr
    assert PASSWORD not in built.stderr
    assert "p@ss" not in built.stderr


def test_partition_table(built: Built) -> None:
    table = json.loads(
        subprocess.run(["sfdisk", "--json", built.raw], capture_output=True, text=True, check=True).stdout
    )
    parts = table["partitiontable"]["partitions"]
    assert table["partitiontable"]["label"] == "gpt"
    assert [p["type"] for p in parts] == [
        "21686148-6449-6E6F-744E-656564454649",
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
        "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709",
    ]
    with open(built.raw, "rb") as handle:
        mbr = handle.read(512)
    assert mbr[0x1FE:] == b"\x55\xaa"
    assert int.from_bytes(mbr[0x5C:0x64], "little") == 2048  # boot.img points at core.img


def debugfs(fs: str, command: str) -> str:
    return subprocess.run(["debugfs", "-R", command, fs], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def root_fs(built: Built) -> str:
    with open(built.manifest) as handle:
        root = json.load(handle)["partitions"][-1]
    fd, path = tempfile.mkstemp(prefix="pkgos-rootfs-")
    os.close(fd)
    subprocess.run(
        ["dd", f"if={built.raw}", f"of={path}", "bs=1M", f"skip={root['start'] // 2**20}",
         f"count={root['size'] // 2**20}", "conv=sparse", "status=none"],
        check=True,
    )  # fmt: skip
    yield path
    os.unlink(path)


def test_tree_is_configured(root_fs: str) -> None:
    user_cfg = debugfs(root_fs, "cat /etc/cloud/cloud.cfg.d/90_pkgos_user.cfg")
    assert '"passwd": "$6$' in user_cfg
    assert "p@ss" not in user_cfg
    assert "(0600)" in debugfs(root_fs, "stat /etc/cloud/cloud.cfg.d/90_pkgos_user.cfg") or "0600" in debugfs(
        root_fs, "stat /etc/cloud/cloud.cfg.d/90_pkgos_user.cfg"
    )
    assert "Size: 0" in debugfs(root_fs, "stat /etc/machine-id")
    assert "ssh_host" not in debugfs(root_fs, "ls /etc/ssh")
    assert debugfs(root_fs, "cat /etc/fstab").startswith("UUID=")
    assert "FSTYPE=ext4" in debugfs(root_fs, "cat /etc/initramfs-tools/conf.d/pkgos-fstype")
    assert "OpenStack" in debugfs(root_fs, "cat /etc/cloud/cloud.cfg.d/01_pkgos.cfg")
    assert "console=ttyS0,115200" in debugfs(root_fs, "cat /boot/grub/grub.cfg")
    assert "deb http://deb.debian.org/debian bookworm main" in debugfs(root_fs, "cat /etc/apt/sources.list")


# Two boots keep make check-image inside its budget: SeaBIOS, and OVMF
# with Secure Boot on (the UEFI path: shim, signed GRUB, signed kernel).
# `pkgos image-test --firmware uefi` boots plain OVMF the same way.
@pytest.mark.parametrize("firmware", ["bios", "secureboot"])
def test_boot(built: Built, firmware: str) -> None:
    result = pkgos("image-test", built.qcow2, "--firmware", firmware, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{firmware}: booted, cloud-init finished without errors, root grew to" in result.stdout
    assert "powered off; boot time" in result.stdout


def own_processes(path: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if path in cmdline:
                found.append(cmdline)
    return found


def test_failing_hook_fails_the_build_and_leaves_nothing(built: Built) -> None:
    out = tempfile.mkdtemp(prefix="pkgos-image-hook-")
    hook = os.path.join(out, "..", os.path.basename(out) + ".hook")
    try:
        with open(hook, "w") as handle:
            handle.write('#!/bin/sh\ntest -d "$BODI_CHROOT_PATH/etc/cloud" || exit 9\nexit 3\n')
        os.chmod(hook, 0o755)
        result = pkgos(*build_args(out, "--hook-script", hook))
        assert result.returncode == 2
        assert "exited with code 3" in result.stderr
        assert f"the hook script {hook} failed" in result.stderr
        assert os.listdir(out) == []
        assert own_processes(out) == []
    finally:
        os.unlink(hook)
        os.rmdir(out)
