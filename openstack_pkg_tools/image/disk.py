"""The disk image, assembled from plain files: no loop device, no device-mapper, no mount.

The partition layout is computed here (pure), written with ``sfdisk`` on a
plain file, and each file system is built as a file of its own
(``mke2fs -d`` for the root tree, ``mkfs.vfat`` + mtools for the ESP) and
copied into place with ``dd conv=notrunc``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum

from ..run import run
from .options import MIB, BootType

SECTOR = 512
ESP_SIZE = 126 * MIB
MIN_LAYOUT = 128 * MIB


class PartitionType(StrEnum):
    """GPT partition type GUIDs."""

    BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649"
    ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
    ROOT_X86_64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"


@dataclass(frozen=True)
class Partition:
    """One GPT partition, in bytes from the start of the disk."""

    name: str
    type: PartitionType
    start: int
    size: int

    @property
    def start_sector(self) -> int:
        """The first sector (LBA) of the partition."""
        return self.start // SECTOR


@dataclass(frozen=True)
class DiskLayout:
    """Every partition of the image, in disk order."""

    size: int
    partitions: tuple[Partition, ...]

    def find(self, kind: PartitionType) -> Partition | None:
        """The partition of type ``kind``, if the layout has one."""
        return next((p for p in self.partitions if p.type is kind), None)

    @property
    def root(self) -> Partition:
        """The root partition (always the last one)."""
        return self.partitions[-1]


def layout(boot_type: BootType, size: int) -> DiskLayout:
    """The partitions of a ``size``-byte image booting with ``boot_type``."""
    wanted: list[tuple[str, PartitionType, int]] = []
    if boot_type in (BootType.MBR, BootType.HYBRID):
        wanted.append(("bios", PartitionType.BIOS_BOOT, MIB))
    if boot_type in (BootType.UEFI, BootType.HYBRID):
        # The ESP takes up the MiB the BIOS boot partition would have used,
        # so the root file system starts at 128 MiB whatever the boot type.
        esp = ESP_SIZE if boot_type is BootType.HYBRID else ESP_SIZE + MIB
        wanted.append(("esp", PartitionType.ESP, esp))
    partitions = []
    start = MIB
    for name, kind, part_size in wanted:
        partitions.append(Partition(name, kind, start, part_size))
        start += part_size
    # The last MiB is left for the backup GPT.
    partitions.append(Partition("root", PartitionType.ROOT_X86_64, start, size - start - MIB))
    return DiskLayout(size, tuple(partitions))


def sfdisk_script(disk: DiskLayout) -> str:
    """The ``sfdisk`` input that writes ``disk``'s partition table."""
    lines = ["label: gpt", "unit: sectors", "first-lba: 2048", ""]
    for partition in disk.partitions:
        lines.append(
            f"start={partition.start_sector}, size={partition.size // SECTOR}, "
            f'type={partition.type}, name="{partition.name}"'
        )
    return "\n".join(lines) + "\n"


def create(path: str, disk: DiskLayout) -> None:
    """Create the sparse file ``path`` holding ``disk``'s empty partition table."""
    with open(path, "wb") as handle:
        handle.truncate(disk.size)
    run(["sfdisk", "--no-reread", "--no-tell-kernel", "--wipe", "always", path], stdin=sfdisk_script(disk))


def place(disk_path: str, data_path: str, offset: int) -> None:
    """Copy the file ``data_path`` into ``disk_path`` at ``offset`` bytes, keeping holes."""
    run(
        [
            "dd",
            f"if={data_path}",
            f"of={disk_path}",
            "bs=4M",
            "conv=notrunc,sparse",
            "oflag=seek_bytes",
            f"seek={offset}",
            "status=none",
        ]
    )


def make_root_fs(path: str, tree: str, size: int, uuid: str) -> None:
    """Build the ext4 file system ``path`` of ``size`` bytes from the directory ``tree``."""
    run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "root", "-U", uuid, "-d", tree, path, f"{size // 1024}k"])


def make_esp(path: str, size: int, volume_id: str, files: dict[str, str]) -> None:
    """Build the FAT32 ESP ``path`` holding ``files`` (destination on the ESP -> source file)."""
    run(["mkfs.vfat", "-F", "32", "-n", "EFI", "-i", volume_id, "-C", path, str(size // 1024)])
    directories = sorted({os.path.dirname(dest) for dest in files} - {""})
    made: set[str] = set()
    for directory in directories:
        parts = directory.split("/")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub not in made:
                run(["mmd", "-i", path, "::/" + sub])
                made.add(sub)
    for dest, source in sorted(files.items()):
        run(["mcopy", "-i", path, source, "::/" + dest])


def fitted_size(boot_type: BootType, content_bytes: int, space: int) -> int:
    """The image size that holds ``content_bytes`` of files plus ``space`` bytes free.

    ext4 needs room of its own (journal, inode tables, reserved blocks):
    a fifth more plus 64 MiB covers it for trees of a few GiB.
    """
    root_start = layout(boot_type, 2 * MIN_LAYOUT).root.start
    root = content_bytes + content_bytes // 5 + 64 * MIB + space
    root = -(-root // MIB) * MIB
    return root_start + root + MIB


def tree_bytes(tree: str) -> int:
    """The disk space the files under ``tree`` take (hard links counted once per name)."""
    total = 0
    for directory, _, names in os.walk(tree):
        for name in names:
            total += os.lstat(os.path.join(directory, name)).st_blocks * 512
    return total
