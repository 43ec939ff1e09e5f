"""GRUB for BIOS and UEFI in the same image, written without grub-install.

``grub-install``/``grub-bios-setup`` want a block device; the image is a
plain file. So:

* BIOS: ``grub-mkimage`` (the image's own, run in the tree) builds
  core.img, which goes into the BIOS boot partition; GRUB's boot.img goes
  into the MBR with the sector of core.img patched in, keeping the
  protective MBR's partition table; core.img's first sector gets the
  block list of the rest of itself.
* UEFI: shim (``BOOTX64.EFI``) and Debian's signed GRUB on the ESP, so the
  image also boots with Secure Boot on; a small grub.cfg on the ESP finds
  the root file system by UUID.

Both end in the same ``/boot/grub/grub.cfg``, which boots ``/vmlinuz`` and
``/initrd.img``: the kernel package keeps those links current, so a kernel
update keeps booting.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile

from ..errors import PkgosError
from ..run import run
from .disk import SECTOR

# Offsets in GRUB's boot.img and diskboot.img (grub-core/boot/i386/pc/).
KERNEL_SECTOR_OFFSET = 0x5C  # 64-bit LBA of core.img
DRIVE_CHECK_OFFSET = 0x66  # a jump replaced by two NOPs on hard disks
PARTITION_TABLE_OFFSET = 0x1B8  # disk signature, partition table, 0x55AA
BLOCKLIST_OFFSET = SECTOR - 12  # start (u64), length (u16), segment (u16)

BIOS_MODULES = (
    "biosdisk",
    "part_gpt",
    "ext2",
    "search",
    "normal",
    "configfile",
    "linux",
    "gzio",
    "serial",
    "terminal",
    "echo",
    "test",
)

# The files of the image's own packages that go on the ESP.
SHIM = "usr/lib/shim/shimx64.efi.signed"
MOK_MANAGER = "usr/lib/shim/mmx64.efi.signed"
SIGNED_GRUB = "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"

KERNEL_CMDLINE = "ro console=tty0 console=ttyS0,115200"


class BootloaderError(PkgosError):
    """GRUB could not be put into the image."""


def grub_cfg(root_uuid: str, release: str) -> str:
    """The image's /boot/grub/grub.cfg, shared by BIOS and UEFI."""
    return f"""\
# Written by the openstack-pkg-tools image builder. update-grub replaces it
# if grub-pc or grub-efi-amd64 is installed later.
set default=0
set timeout=1
if serial --unit=0 --speed=115200; then
    terminal_input console serial
    terminal_output console serial
fi
search --no-floppy --fs-uuid --set=root {root_uuid}
menuentry "Debian GNU/Linux ({release})" {{
    search --no-floppy --fs-uuid --set=root {root_uuid}
    linux /vmlinuz root=UUID={root_uuid} {KERNEL_CMDLINE}
    initrd /initrd.img
}}
"""


def early_cfg(root_uuid: str) -> str:
    """The first config GRUB reads (embedded in core.img, or on the ESP): find the root fs."""
    return f"""\
search --no-floppy --fs-uuid --set=root {root_uuid}
set prefix=($root)/boot/grub
configfile $prefix/grub.cfg
"""


def patch_mbr(boot_img: bytes, current_mbr: bytes, core_sector: int) -> bytes:
    """GRUB's boot.img made to load core.img from ``core_sector``, keeping the partition table."""
    if len(boot_img) != SECTOR or len(current_mbr) != SECTOR:
        raise ValueError("boot.img and the MBR are one sector each")
    mbr = bytearray(boot_img[:PARTITION_TABLE_OFFSET] + current_mbr[PARTITION_TABLE_OFFSET:])
    struct.pack_into("<Q", mbr, KERNEL_SECTOR_OFFSET, core_sector)
    # Some BIOSes pass a wrong boot drive number; GRUB's own setup turns
    # the check off for hard disks, and so do we.
    mbr[DRIVE_CHECK_OFFSET : DRIVE_CHECK_OFFSET + 2] = b"\x90\x90"
    return bytes(mbr)


def patch_core(core_img: bytes, core_sector: int) -> bytes:
    """core.img with its first sector's block list pointing at the rest of it."""
    sectors = -(-len(core_img) // SECTOR)
    padded = bytearray(core_img.ljust(sectors * SECTOR, b"\0"))
    _, _, segment = struct.unpack_from("<QHH", padded, BLOCKLIST_OFFSET)
    struct.pack_into("<QHH", padded, BLOCKLIST_OFFSET, core_sector + 1, sectors - 1, segment)
    return bytes(padded)


def build_core_img(tree: str, root_uuid: str) -> bytes:
    """core.img for BIOS, made by the image's own grub-mkimage with the early config inside."""
    scratch = tempfile.mkdtemp(prefix="pkgos-grub-", dir=os.path.join(tree, "tmp"))
    inside = "/" + os.path.relpath(scratch, tree)  # the same directory, seen from the chroot
    try:
        with open(os.path.join(scratch, "early.cfg"), "w") as handle:
            handle.write(early_cfg(root_uuid))
        run(
            [
                "chroot",
                tree,
                "grub-mkimage",
                "-O",
                "i386-pc",
                "-d",
                "/usr/lib/grub/i386-pc",
                "-p",
                "/boot/grub",
                "-c",
                inside + "/early.cfg",
                "-o",
                inside + "/core.img",
                *BIOS_MODULES,
            ],
            hint="the image needs the grub-pc-bin package.",
        )
        with open(os.path.join(scratch, "core.img"), "rb") as handle:
            return handle.read()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def boot_img(tree: str) -> bytes:
    """GRUB's boot.img from the image's grub-pc-bin."""
    with open(os.path.join(tree, "usr/lib/grub/i386-pc/boot.img"), "rb") as handle:
        return handle.read()


def install_bios(disk_path: str, tree: str, root_uuid: str, core_sector: int, room: int) -> None:
    """Write boot.img into the MBR and core.img at ``core_sector`` (``room`` bytes available)."""
    core = patch_core(build_core_img(tree, root_uuid), core_sector)
    if len(core) > room:
        raise BootloaderError(
            f"GRUB's core.img ({len(core)} bytes) does not fit in the BIOS boot partition ({room} bytes).",
            hint="report this: the partition layout must grow.",
        )
    with open(disk_path, "r+b") as disk:
        current = disk.read(SECTOR)
        disk.seek(0)
        disk.write(patch_mbr(boot_img(tree), current, core_sector))
        disk.seek(core_sector * SECTOR)
        disk.write(core)


def esp_files(tree: str, early_cfg_path: str) -> dict[str, str]:
    """What goes on the ESP (path on the ESP -> source file): shim, signed GRUB, its config."""
    files = {
        "EFI/BOOT/BOOTX64.EFI": os.path.join(tree, SHIM),
        "EFI/BOOT/grubx64.efi": os.path.join(tree, SIGNED_GRUB),
        # Debian's signed GRUB reads its config from /EFI/debian.
        "EFI/debian/grub.cfg": early_cfg_path,
        "EFI/BOOT/grub.cfg": early_cfg_path,
    }
    if os.path.exists(os.path.join(tree, MOK_MANAGER)):
        files["EFI/BOOT/mmx64.efi"] = os.path.join(tree, MOK_MANAGER)
    missing = [source for source in files.values() if source.startswith(tree) and not os.path.exists(source)]
    if missing:
        raise BootloaderError(
            "UEFI boot files are missing from the image: " + ", ".join(missing) + ".",
            hint="the image needs the shim-signed and grub-efi-amd64-signed packages.",
        )
    return files
