"""GRUB without grub-install: configs, and the MBR and core.img patched by hand."""

from __future__ import annotations

import os
import struct

import pytest

from openstack_pkg_tools.image import bootloader

ROOT_UUID = "0b1c7e3a-5d2f-4f6e-9a41-3f2b8c9d0e11"


def fake_boot_img() -> bytes:
    # A recognisable boot.img: 0xB0 everywhere, a jump at the drive check.
    img = bytearray(b"\xb0" * 512)
    img[bootloader.DRIVE_CHECK_OFFSET : bootloader.DRIVE_CHECK_OFFSET + 2] = b"\xeb\x05"
    return bytes(img)


def protective_mbr() -> bytes:
    mbr = bytearray(512)
    mbr[0x1BE:0x1CE] = bytes([0, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])
    mbr[0x1FE:0x200] = b"\x55\xaa"
    return bytes(mbr)


def test_patch_mbr_keeps_the_partition_table_and_points_at_core() -> None:
    current = protective_mbr()
    mbr = bootloader.patch_mbr(fake_boot_img(), current, 2048)
    assert len(mbr) == 512
    assert mbr[0x1B8:] == current[0x1B8:]  # GPT's protective entry and 0x55AA kept
    assert struct.unpack_from("<Q", mbr, bootloader.KERNEL_SECTOR_OFFSET)[0] == 2048
    assert mbr[bootloader.DRIVE_CHECK_OFFSET : bootloader.DRIVE_CHECK_OFFSET + 2] == b"\x90\x90"
    assert mbr[: bootloader.KERNEL_SECTOR_OFFSET] == fake_boot_img()[: bootloader.KERNEL_SECTOR_OFFSET]


def test_patch_mbr_refuses_wrong_sizes() -> None:
    with pytest.raises(ValueError, match="one sector"):
        bootloader.patch_mbr(b"\0" * 440, protective_mbr(), 2048)


def test_patch_core_writes_the_blocklist_of_the_rest() -> None:
    core = bytearray(os.urandom(512 * 60 + 100))  # 61 sectors once padded
    struct.pack_into("<QHH", core, bootloader.BLOCKLIST_OFFSET, 2, 0, 0x820)  # as diskboot.img ships
    patched = bootloader.patch_core(bytes(core), 2048)
    assert len(patched) == 61 * 512
    assert struct.unpack_from("<QHH", patched, bootloader.BLOCKLIST_OFFSET) == (2049, 60, 0x820)
    assert patched[512:] == bytes(core[512:]).ljust(60 * 512, b"\0")


def test_grub_cfg_boots_the_kernel_links_on_the_serial_console() -> None:
    cfg = bootloader.grub_cfg(ROOT_UUID, "bookworm")
    assert f"search --no-floppy --fs-uuid --set=root {ROOT_UUID}" in cfg
    assert f"linux /vmlinuz root=UUID={ROOT_UUID} ro console=tty0 console=ttyS0,115200\n" in cfg
    assert "initrd /initrd.img\n" in cfg
    assert "serial --unit=0 --speed=115200" in cfg
    assert 'menuentry "Debian GNU/Linux (bookworm)"' in cfg


def test_early_cfg_finds_root_by_uuid_and_hands_over() -> None:
    assert bootloader.early_cfg(ROOT_UUID) == (
        f"search --no-floppy --fs-uuid --set=root {ROOT_UUID}\n"
        "set prefix=($root)/boot/grub\n"
        "configfile $prefix/grub.cfg\n"
    )


def test_esp_files_put_shim_first_and_signed_grub_beside_it(tmp_path: object) -> None:
    tree = str(tmp_path)
    for relative in (bootloader.SHIM, bootloader.SIGNED_GRUB):
        os.makedirs(os.path.dirname(os.path.join(tree, relative)), exist_ok=True)
        open(os.path.join(tree, relative), "wb").close()
    files = bootloader.esp_files(tree, "/x/early.cfg")
    assert files == {
        "EFI/BOOT/BOOTX64.EFI": os.path.join(tree, bootloader.SHIM),
        "EFI/BOOT/grubx64.efi": os.path.join(tree, bootloader.SIGNED_GRUB),
        "EFI/debian/grub.cfg": "/x/early.cfg",
        "EFI/BOOT/grub.cfg": "/x/early.cfg",
    }


def test_esp_files_name_what_is_missing(tmp_path: object) -> None:
    with pytest.raises(
        bootloader.BootloaderError, match=r"shimx64.efi.signed.*Hint: the image needs the shim-signed"
    ):
        bootloader.esp_files(str(tmp_path), "/x/early.cfg")
