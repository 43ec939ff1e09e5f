"""Partition layout, the sfdisk script, and the size of a shrunk image."""

from __future__ import annotations

import pytest

from openstack_pkg_tools.image import disk
from openstack_pkg_tools.image.options import MIB, BootType

GIB = 1024 * MIB


def test_hybrid_layout() -> None:
    layout = disk.layout(BootType.HYBRID, 2 * GIB)
    assert [(p.name, p.type, p.start, p.size) for p in layout.partitions] == [
        ("bios", disk.PartitionType.BIOS_BOOT, 1 * MIB, 1 * MIB),
        ("esp", disk.PartitionType.ESP, 2 * MIB, 126 * MIB),
        ("root", disk.PartitionType.ROOT_X86_64, 128 * MIB, 2 * GIB - 129 * MIB),
    ]


@pytest.mark.parametrize("boot_type", list(BootType))
def test_every_layout_is_aligned_ordered_and_inside_the_disk(boot_type: BootType) -> None:
    layout = disk.layout(boot_type, 2 * GIB)
    end = MIB
    for partition in layout.partitions:
        assert partition.start % MIB == 0 and partition.size % MIB == 0
        assert partition.start == end
        end = partition.start + partition.size
    # The backup GPT (33 sectors) fits in the last MiB; root is last, for growpart.
    assert end == 2 * GIB - MIB
    assert layout.root is layout.partitions[-1]


def test_layouts_have_what_their_firmware_needs() -> None:
    mbr = disk.layout(BootType.MBR, 2 * GIB)
    uefi = disk.layout(BootType.UEFI, 2 * GIB)
    assert mbr.find(disk.PartitionType.ESP) is None
    assert mbr.find(disk.PartitionType.BIOS_BOOT) is not None
    assert uefi.find(disk.PartitionType.BIOS_BOOT) is None
    esp = uefi.find(disk.PartitionType.ESP)
    assert esp is not None and esp.size == 127 * MIB  # not 2000 MiB of a 2 GiB image
    assert uefi.root.start == 128 * MIB


def test_sfdisk_script() -> None:
    script = disk.sfdisk_script(disk.layout(BootType.HYBRID, 2 * GIB))
    assert script == (
        "label: gpt\nunit: sectors\nfirst-lba: 2048\n\n"
        'start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name="bios"\n'
        'start=4096, size=258048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"\n'
        'start=262144, size=3930112, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"\n'
    )


def test_fitted_size_holds_the_content_and_the_space() -> None:
    size = disk.fitted_size(BootType.HYBRID, 700 * MIB, 50 * MIB)
    root = disk.layout(BootType.HYBRID, size).root
    assert size % MIB == 0
    assert root.size >= 700 * MIB * 1.2 + 50 * MIB
    assert size < 2 * GIB


def test_tree_bytes(tmp_path: object) -> None:
    import os

    base = str(tmp_path)
    os.makedirs(os.path.join(base, "a/b"))
    with open(os.path.join(base, "a/b/file"), "wb") as handle:
        handle.write(b"x" * 10000)
    assert disk.tree_bytes(base) >= 10000
