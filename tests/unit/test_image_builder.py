"""The whole build at the run() seam: every step's failure leaves nothing behind."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import pytest

from openstack_pkg_tools.errors import CommandError
from openstack_pkg_tools.image import bootloader, bootstrap, builder, configure, disk, manifest
from openstack_pkg_tools.image.options import ImageOptions
from openstack_pkg_tools.run import Completed


class FakeTools:
    """Stands in for mmdebstrap, chroot, mke2fs, mtools, qemu-img: makes the files they would."""

    def __init__(self, fail: str | None) -> None:
        self.fail = fail
        self.calls: list[str] = []

    def __call__(self, argv: Sequence[str], **kwargs: object) -> Completed:
        argv = list(argv)
        name = argv[2] if argv[0] == "chroot" else os.path.basename(argv[0])
        self.calls.append(name)
        if name == self.fail:
            raise CommandError(" ".join(argv), exit_code=1, stderr="simulated failure")
        stdout = ""
        if name == "mmdebstrap":
            self._tree(argv[-2])
        elif name == "grub-mkimage":
            with open(argv[1] + argv[argv.index("-o") + 1], "wb") as handle:
                handle.write(b"\0" * 1024)
        elif name == "dpkg-query":
            stdout = "installed\tcloud-init\t22.4.2-1\ninstalled\tlinux-image-cloud-amd64\t6.1\n"
        elif name in ("mke2fs", "qemu-img"):
            open(argv[-2] if name == "mke2fs" else argv[-1], "wb").close()
        elif name == "mkfs.vfat":
            open(argv[argv.index("-C") + 1], "wb").close()
        return Completed(tuple(argv), 0, stdout, "")

    @staticmethod
    def _tree(tree: str) -> None:
        for relative in (
            bootloader.SHIM,
            bootloader.SIGNED_GRUB,
            "usr/lib/grub/i386-pc/boot.img",
            "tmp/.keep",
        ):
            path = os.path.join(tree, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(b"\0" * 512)


def build_with(monkeypatch: pytest.MonkeyPatch, tmp_path: object, fail: str | None) -> tuple[str, FakeTools]:
    fake = FakeTools(fail)
    for module in (bootstrap, configure, disk, bootloader, manifest, builder):
        monkeypatch.setattr(module, "run", fake)
    out = os.path.join(str(tmp_path), "out")
    os.mkdir(out)
    hook = os.path.join(str(tmp_path), "hook")
    with open(hook, "w") as handle:
        handle.write("#!/bin/sh\n")
    os.chmod(hook, 0o755)
    options = ImageOptions(output_dir=out, name="img", hook_script=hook, image_size=1024 * 1024 * 1024)
    builder.build(options)
    return out, fake


def test_a_build_publishes_images_manifest_and_sums(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    out, fake = build_with(monkeypatch, tmp_path, fail=None)
    assert sorted(os.listdir(out)) == ["SHA256SUMS", "img.manifest.json", "img.qcow2", "img.raw"]
    assert fake.calls[0] == "mmdebstrap"
    assert fake.calls[-1] == "qemu-img"
    with open(os.path.join(out, "img.manifest.json")) as handle:
        data = json.load(handle)
    assert data["packages"] == {"cloud-init": "22.4.2-1", "linux-image-cloud-amd64": "6.1"}
    assert data["boot_type"] == "hybrid" and data["secure_boot"] is True
    assert data["files"]["img.raw"]["size"] == 1024 * 1024 * 1024
    with open(os.path.join(out, "SHA256SUMS")) as handle:
        sums = handle.read()
    assert f"{data['files']['img.qcow2']['sha256']}  img.qcow2\n" in sums


@pytest.mark.parametrize(
    "step", ["mmdebstrap", "locale-gen", "hook", "mke2fs", "grub-mkimage", "mkfs.vfat", "qemu-img"]
)
def test_a_failure_at_any_step_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, step: str
) -> None:
    with pytest.raises(CommandError, match="simulated failure"):
        build_with(monkeypatch, tmp_path, fail=step)
    assert os.listdir(os.path.join(str(tmp_path), "out")) == []
