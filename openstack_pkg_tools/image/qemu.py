"""The boot test: boot an image under QEMU (TCG) and check what cloud-init did.

The image boots from a throw-away overlay one GiB larger than itself, with
a NoCloud seed whose user-data starts a report once cloud-init has
finished: one line on the serial console with cloud-init's errors, the
datasource, the size of the root file system and of its disk, and whether
Secure Boot was on; then the machine powers off. The image file itself is
never written to.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .. import fileio, log
from ..errors import PkgosError
from ..run import run
from .options import MIB

MARKER = "PKGOS-BOOT-TEST"
GROWTH = 1024 * MIB
# The root file system starts 128 MiB into the disk; a little more is
# lost to the backup GPT and ext4's rounding.
ROOT_SLACK = 160 * MIB
# ext4's metadata (journal, inode tables) is not counted in its size.
FS_SHARE = 0.9
OVMF = "/usr/share/OVMF/"
BOOT_TIMEOUT = 900.0


class Firmware(StrEnum):
    """What the test machine boots with."""

    BIOS = "bios"  # SeaBIOS
    UEFI = "uefi"  # OVMF
    SECURE_BOOT = "secureboot"  # OVMF with Microsoft's keys enrolled, Secure Boot on


class BootTestError(PkgosError):
    """The image did not boot, or booted without doing what it must."""


@dataclass(frozen=True)
class BootReport:
    """What one boot showed."""

    firmware: Firmware
    seconds: float
    errors: tuple[str, ...]
    datasource: str
    root_bytes: int  # the file system's size (without ext4's own metadata)
    partition_bytes: int  # the root partition's size
    disk_bytes: int
    secure_boot: bool
    guest_uptime: float
    powered_off: bool


REPORT_SCRIPT = f"""\
#!/usr/bin/python3
# Waits for cloud-init, prints one report line on the serial console, powers off.
import json, os, subprocess
subprocess.run(["cloud-init", "status", "--wait"], stdout=subprocess.DEVNULL, check=False)
result = json.load(open("/run/cloud-init/result.json"))["v1"]
vfs = os.statvfs("/")
source = subprocess.run(["findmnt", "-no", "SOURCE", "/"], capture_output=True, text=True).stdout.strip()
disk = subprocess.run(["lsblk", "-no", "PKNAME", source], capture_output=True, text=True).stdout.strip()
sb = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
report = {{
    "nonce": NONCE,
    "errors": result["errors"],
    "datasource": result["datasource"],
    "root_bytes": vfs.f_blocks * vfs.f_frsize,
    "disk_bytes": int(open(f"/sys/block/{{disk}}/size").read()) * 512,
    "partition_bytes": int(open(f"/sys/class/block/{{os.path.basename(source)}}/size").read()) * 512,
    "secure_boot": os.path.exists(sb) and open(sb, "rb").read()[-1:] == b"\\x01",
    "uptime": float(open("/proc/uptime").read().split()[0]),
}}
with open("/dev/ttyS0", "w") as console:
    console.write("\\n{MARKER} " + json.dumps(report) + "\\n")
subprocess.run(["systemctl", "poweroff"], check=False)
"""


def user_data(nonce: str) -> str:
    """The NoCloud user-data: install the report script and start it outside cloud-init."""
    script = REPORT_SCRIPT.replace("NONCE", json.dumps(nonce))
    config = {
        "write_files": [
            {"path": "/usr/local/sbin/pkgos-boot-report", "permissions": "0755", "content": script}
        ],
        # Started as its own unit: it waits for cloud-init to finish, which
        # it could not do from inside cloud-init's final stage.
        "runcmd": [
            ["systemd-run", "--no-block", "--unit=pkgos-boot-report", "/usr/local/sbin/pkgos-boot-report"]
        ],
    }
    return "#cloud-config\n" + json.dumps(config, indent=2) + "\n"


def meta_data(nonce: str) -> str:
    """The NoCloud meta-data: a fresh instance id, so cloud-init runs as on a first boot."""
    return f"instance-id: pkgos-boot-test-{nonce}\nlocal-hostname: pkgos-boot-test\n"


def firmware_args(firmware: Firmware, workdir: str) -> list[str]:
    """QEMU's machine and firmware arguments (OVMF's variable store is copied into ``workdir``)."""
    if firmware is Firmware.BIOS:
        return ["-machine", "pc,accel=tcg"]
    secure = firmware is Firmware.SECURE_BOOT
    code = OVMF + ("OVMF_CODE_4M.ms.fd" if secure else "OVMF_CODE_4M.fd")
    variables = os.path.join(workdir, "OVMF_VARS.fd")
    shutil.copyfile(OVMF + ("OVMF_VARS_4M.ms.fd" if secure else "OVMF_VARS_4M.fd"), variables)
    args = ["-machine", "q35,accel=tcg" + (",smm=on" if secure else "")]
    if secure:
        args += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
    return [
        *args,
        "-drive",
        f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
        "-drive",
        f"if=pflash,format=raw,unit=1,file={variables}",
    ]


def qemu_argv(firmware: Firmware, workdir: str, disk: str, seed: str, serial_log: str) -> list[str]:
    """The whole QEMU command line of one boot test."""
    return [
        "qemu-system-x86_64",
        *firmware_args(firmware, workdir),
        "-cpu",
        "max",
        "-smp",
        "2",
        "-m",
        "1024",
        "-display",
        "none",
        "-no-reboot",
        "-nic",
        "none",
        "-serial",
        f"file:{serial_log}",
        "-drive",
        f"file={disk},if=virtio,format=qcow2",
        # The seed as a second virtio disk, not a CD-ROM: q35's SATA CD-ROM
        # shows up too late for cloud-init's datasource detection.
        "-drive",
        f"file={seed},if=virtio,format=raw,readonly=on",
    ]


def parse_serial_log(text: str, nonce: str) -> dict[str, Any] | None:
    """The report line of this boot (matched by ``nonce``) from the serial console, if any."""
    for match in re.finditer(rf"^{MARKER} (\{{.*\}})\s*$", text, re.MULTILINE):
        try:
            report = json.loads(match.group(1))
        except ValueError:
            continue
        if isinstance(report, dict) and report.get("nonce") == nonce:
            return report
    return None


def check(report: BootReport, expect_secure_boot: bool) -> None:
    """Raise BootTestError unless the boot did all it must."""
    problems = []
    if report.errors:
        problems.append("cloud-init reported errors: " + "; ".join(report.errors))
    if report.partition_bytes < report.disk_bytes - ROOT_SLACK:
        problems.append(
            f"the root partition ({report.partition_bytes} bytes) did not grow to the disk "
            f"({report.disk_bytes} bytes)"
        )
    elif report.root_bytes < report.partition_bytes * FS_SHARE:
        problems.append(
            f"the root file system ({report.root_bytes} bytes) did not grow to its partition "
            f"({report.partition_bytes} bytes)"
        )
    if not report.powered_off:
        problems.append("the machine did not power off")
    if expect_secure_boot and not report.secure_boot:
        problems.append("Secure Boot was not on")
    if problems:
        raise BootTestError(
            f"Boot test with {report.firmware} failed: " + "; ".join(problems) + ".",
            hint="read the serial console log kept beside the image (.serial-<firmware>.log).",
        )


def boot(image: str, firmware: Firmware, *, keep_log: str | None = None) -> BootReport:
    """Boot ``image`` once with ``firmware`` and return what it reported."""
    nonce = secrets.token_hex(8)
    workdir = tempfile.mkdtemp(prefix="pkgos-boot-test-")
    try:
        serial_log = os.path.join(workdir, "serial.log")
        seed = _seed(workdir, nonce)
        overlay = _overlay(workdir, image)
        started = time.monotonic()
        run(
            qemu_argv(firmware, workdir, overlay, seed, serial_log),
            timeout=BOOT_TIMEOUT,
            hint="install qemu-system-x86 and ovmf; the serial console log tells how far the boot got.",
        )
        seconds = time.monotonic() - started
        with open(serial_log, errors="replace") as handle:
            text = handle.read()
        if keep_log:
            shutil.copyfile(serial_log, keep_log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = parse_serial_log(text, nonce)
    if report is None:
        raise BootTestError(
            f"{image} booted with {firmware} never reported: "
            "the cloud-init marker is not on the serial console.",
            hint=f"read the serial console log {keep_log}."
            if keep_log
            else "run again without --no-logs, and read the serial console log it keeps beside the image.",
        )
    return BootReport(
        firmware=firmware,
        seconds=seconds,
        errors=tuple(str(error) for error in report.get("errors") or []),
        datasource=str(report.get("datasource")),
        root_bytes=int(report.get("root_bytes", 0)),
        partition_bytes=int(report.get("partition_bytes", 0)),
        disk_bytes=int(report.get("disk_bytes", 0)),
        secure_boot=bool(report.get("secure_boot")),
        guest_uptime=float(report.get("uptime", 0.0)),
        powered_off="reboot: Power down" in text,
    )


def _seed(workdir: str, nonce: str) -> str:
    seed_dir = os.path.join(workdir, "seed")
    os.mkdir(seed_dir)
    for name, content in (("user-data", user_data(nonce)), ("meta-data", meta_data(nonce))):
        with open(os.path.join(seed_dir, name), "w") as handle:
            handle.write(content)
    seed = os.path.join(workdir, "seed.iso")
    run(["genisoimage", "-quiet", "-output", seed, "-volid", "cidata", "-joliet", "-rock", seed_dir])
    return seed


def image_info(image: str) -> tuple[str, int]:
    """The format and virtual size of ``image`` according to qemu-img."""
    info = json.loads(run(["qemu-img", "info", "--output=json", image]).stdout)
    return str(info["format"]), int(info["virtual-size"])


def _overlay(workdir: str, image: str) -> str:
    fmt, size = image_info(image)
    overlay = os.path.join(workdir, "overlay.qcow2")
    run(
        [
            "qemu-img",
            "create",
            "-q",
            "-f",
            "qcow2",
            "-F",
            fmt,
            "-b",
            os.path.abspath(image),
            overlay,
            str(size + GROWTH),
        ]
    )
    return overlay


def boot_test(image: str, firmwares: list[Firmware], *, keep_logs: bool) -> list[BootReport]:
    """Boot ``image`` with each firmware in turn, check each boot, return the reports.

    ``image`` must be a regular file: qemu-img would wait forever on a FIFO.
    """
    os.close(fileio.open_regular(image))
    reports = []
    for firmware in firmwares:
        keep = f"{os.path.splitext(image)[0]}.serial-{firmware}.log" if keep_logs else None
        with log.step(f"Booting {os.path.basename(image)} with {firmware}"):
            report = boot(image, firmware, keep_log=keep)
            log.info(
                f"booted and powered off in {report.seconds:.0f} s (guest uptime {report.guest_uptime:.0f} s)"
            )
            check(report, expect_secure_boot=firmware is Firmware.SECURE_BOOT)
        reports.append(report)
    return reports


def firmwares_for(manifest: dict[str, object] | None) -> list[Firmware]:
    """The firmwares an image is tested with: what its manifest says it boots with."""
    if manifest is None:
        return [Firmware.BIOS, Firmware.UEFI]
    boot_type = manifest.get("boot_type")
    firmwares = []
    if boot_type in ("mbr", "hybrid"):
        firmwares.append(Firmware.BIOS)
    if boot_type in ("uefi", "hybrid"):
        firmwares.append(Firmware.UEFI)
        if manifest.get("secure_boot"):
            firmwares.append(Firmware.SECURE_BOOT)
    return firmwares
