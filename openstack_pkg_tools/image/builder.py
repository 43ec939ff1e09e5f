"""One image build, from options to finished files, undone completely on failure.

Everything is made in a temporary directory beside the output (same file
system, so the finished files are renamed into place): a failure at any
step removes that directory, and with it the tree and every partial image.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass

from .. import log
from ..run import run
from . import bootloader, bootstrap, configure, disk, manifest
from .options import MIB, BootType, ImageOptions

WORKDIR_PREFIX = ".pkgos-image-"
# Compressed qcow2 v3; -W -m 4: clusters compressed in parallel, written out of order.
QCOW2_CONVERT = ("-c", "-W", "-m", "4", "-O", "qcow2", "-o", "compat=1.1")


@dataclass(frozen=True)
class BuildResult:
    """What a build made."""

    qcow2: str
    raw: str | None
    manifest: str
    sha256sums: str
    qcow2_size: int
    seconds: float
    from_cache: bool


def new_uuids(boot_type: BootType) -> configure.Uuids:
    """Fresh identifiers for the root file system and, if there is one, the ESP."""
    esp = None
    if boot_type is not BootType.MBR:
        volume = uuid.uuid4().hex[:8].upper()
        esp = f"{volume[:4]}-{volume[4:]}"
    return configure.Uuids(root=str(uuid.uuid4()), esp=esp)


def build(options: ImageOptions) -> BuildResult:
    """Build the image ``options`` describe; on any failure leave nothing behind."""
    started = time.monotonic()
    uuids = new_uuids(options.boot_type)
    with ExitStack() as undo:
        work = tempfile.mkdtemp(prefix=WORKDIR_PREFIX, dir=options.output_dir)
        undo.callback(shutil.rmtree, work, ignore_errors=True)
        tree = os.path.join(work, "root")
        os.mkdir(tree, 0o755)
        spec = bootstrap.spec_for(options)
        with log.step(f"Bootstrapping Debian {options.release} ({options.backend})"):
            from_cache = bootstrap.bootstrap(spec, tree, options.cache_dir)
        with log.step("Configuring the tree"):
            configure.apply(tree, options, uuids)
            if options.hook_script:
                configure.run_hook(options.hook_script, tree, options)
            packages = manifest.installed_packages(tree)
        size = options.image_size
        if options.automatic_resize:
            size = disk.fitted_size(options.boot_type, disk.tree_bytes(tree), options.resize_space)
        layout = disk.layout(options.boot_type, size)
        raw = os.path.join(work, options.image_name("raw"))
        with log.step("Building the file systems"):
            _file_systems(work, tree, raw, layout, uuids)
        with log.step("Installing the bootloader"):
            _bootloaders(work, tree, raw, layout, uuids)
        shutil.rmtree(tree)
        qcow2 = os.path.join(work, options.image_name("qcow2"))
        with log.step("Converting to qcow2"):
            run(["qemu-img", "convert", *QCOW2_CONVERT, raw, qcow2])
        outputs = {"qcow2": qcow2, **({"raw": raw} if options.raw else {})}
        data = manifest.manifest(options, packages, outputs, _description(options, uuids, layout))
        manifest_path, sums = _write_manifest(work, options, data)
        final = _publish(undo, options.output_dir, [*outputs.values(), manifest_path, sums])
        undo.pop_all()
    shutil.rmtree(work, ignore_errors=True)
    return BuildResult(
        qcow2=final[qcow2],
        raw=final.get(raw),
        manifest=final[manifest_path],
        sha256sums=final[sums],
        qcow2_size=os.path.getsize(final[qcow2]),
        seconds=time.monotonic() - started,
        from_cache=from_cache,
    )


def _description(options: ImageOptions, uuids: configure.Uuids, layout: disk.DiskLayout) -> dict[str, object]:
    """What the manifest says about the disk besides the inputs: boot, identifiers, partitions."""
    return {
        "root_uuid": uuids.root,
        "esp_uuid": uuids.esp,
        "boot_type": str(options.boot_type),
        "secure_boot": uuids.esp is not None,
        "image_size": layout.size,
        "partitions": [
            {"name": p.name, "type": str(p.type), "start": p.start, "size": p.size} for p in layout.partitions
        ],
    }


def _write_manifest(work: str, options: ImageOptions, data: dict[str, object]) -> tuple[str, str]:
    """Write the manifest and SHA256SUMS into ``work``; return their paths."""
    manifest_path = os.path.join(work, options.image_name("manifest.json"))
    manifest.write(manifest_path, data)
    sums = os.path.join(work, "SHA256SUMS")
    with open(sums, "w") as handle:
        handle.write(manifest.sha256sums(data))
    return manifest_path, sums


def _file_systems(work: str, tree: str, raw: str, layout: disk.DiskLayout, uuids: configure.Uuids) -> None:
    # GRUB's BIOS modules beside grub.cfg, so an `insmod` in a later
    # update-grub config finds them.
    bios_modules = os.path.join(tree, "usr/lib/grub/i386-pc")
    if layout.find(disk.PartitionType.BIOS_BOOT) and os.path.isdir(bios_modules):
        shutil.copytree(bios_modules, os.path.join(tree, "boot/grub/i386-pc"), dirs_exist_ok=True)
    disk.create(raw, layout)
    root_fs = os.path.join(work, "root.ext4")
    disk.make_root_fs(root_fs, tree, layout.root.size, uuids.root)
    disk.place(raw, root_fs, layout.root.start)
    os.unlink(root_fs)


def _bootloaders(work: str, tree: str, raw: str, layout: disk.DiskLayout, uuids: configure.Uuids) -> None:
    bios = layout.find(disk.PartitionType.BIOS_BOOT)
    if bios:
        bootloader.install_bios(raw, tree, uuids.root, bios.start_sector, bios.size)
    esp = layout.find(disk.PartitionType.ESP)
    if esp and uuids.esp:
        early = os.path.join(work, "esp-grub.cfg")
        with open(early, "w") as handle:
            handle.write(bootloader.early_cfg(uuids.root))
        esp_image = os.path.join(work, "esp.vfat")
        disk.make_esp(esp_image, esp.size, uuids.esp.replace("-", ""), bootloader.esp_files(tree, early))
        disk.place(raw, esp_image, esp.start)
        os.unlink(esp_image)


def _publish(undo: ExitStack, output_dir: str, paths: list[str]) -> dict[str, str]:
    """Rename the finished files into ``output_dir``; undone if a later rename fails."""
    final = {}
    for path in paths:
        target = os.path.join(output_dir, os.path.basename(path))
        os.replace(path, target)
        undo.callback(_unlink_if_exists, target)
        final[path] = target
    return final


def _unlink_if_exists(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)


def summary(result: BuildResult) -> str:
    """The last lines of a build: image, size, time."""
    return (
        f"image: {result.qcow2}\n"
        f"size: {result.qcow2_size / MIB:.1f} MiB (qcow2)\n"
        f"time: {result.seconds:.0f} s{' (bootstrap from cache)' if result.from_cache else ''}\n"
        f"manifest: {result.manifest}\n"
    )
