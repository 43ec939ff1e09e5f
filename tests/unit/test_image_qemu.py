"""The boot test's pure parts: seed, QEMU command lines, the serial report and its checks."""

from __future__ import annotations

import json

import pytest

from openstack_pkg_tools.image import qemu
from openstack_pkg_tools.image.options import MIB


def test_user_data_is_cloud_config_that_starts_the_report_outside_cloud_init() -> None:
    text = qemu.user_data("cafe")
    assert text.startswith("#cloud-config\n")
    config = json.loads(text.split("\n", 1)[1])  # JSON is YAML: what cloud-init reads
    (script,) = config["write_files"]
    assert script["path"] == "/usr/local/sbin/pkgos-boot-report"
    assert '"nonce": "cafe"' in script["content"]
    assert 'cloud-init", "status", "--wait"' in script["content"]
    assert config["runcmd"] == [
        ["systemd-run", "--no-block", "--unit=pkgos-boot-report", "/usr/local/sbin/pkgos-boot-report"]
    ]
    compile(script["content"], "report", "exec")  # the script is valid Python


def test_meta_data_has_a_fresh_instance_id() -> None:
    assert qemu.meta_data("cafe").startswith("instance-id: pkgos-boot-test-cafe\n")


def test_bios_argv(tmp_path: object) -> None:
    argv = qemu.qemu_argv(qemu.Firmware.BIOS, str(tmp_path), "/w/disk.qcow2", "/w/seed.iso", "/w/serial.log")
    assert argv[:3] == ["qemu-system-x86_64", "-machine", "pc,accel=tcg"]
    assert argv[3:5] == ["-cpu", "max"]
    assert "-no-reboot" in argv
    assert "file:/w/serial.log" in argv
    assert "file=/w/disk.qcow2,if=virtio,format=qcow2" in argv
    assert not any("pflash" in arg for arg in argv)


def test_secure_boot_argv_uses_enrolled_keys_and_smm(tmp_path: object) -> None:
    argv = qemu.qemu_argv(qemu.Firmware.SECURE_BOOT, str(tmp_path), "d", "s", "l")
    assert argv[1:3] == ["-machine", "q35,accel=tcg,smm=on"]
    assert "driver=cfi.pflash01,property=secure,value=on" in argv
    assert "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.ms.fd" in argv
    assert f"if=pflash,format=raw,unit=1,file={tmp_path}/OVMF_VARS.fd" in argv


def test_parse_serial_log_finds_this_boots_report_among_console_noise() -> None:
    good = {"nonce": "n1", "errors": [], "root_bytes": 1}
    text = (
        "[    1.0] systemd[1]: Started foo\n"
        f'{qemu.MARKER} {{"nonce": "old"}}\n'
        f"{qemu.MARKER} {{broken\n"
        f"{qemu.MARKER} {json.dumps(good)}\n"
        "[   70.0] reboot: Power down\n"
    )
    assert qemu.parse_serial_log(text, "n1") == good
    assert qemu.parse_serial_log(text, "n2") is None


def report(**change: object) -> qemu.BootReport:
    values: dict[str, object] = {
        "firmware": qemu.Firmware.UEFI,
        "seconds": 120.0,
        "errors": (),
        "datasource": "DataSourceNoCloud",
        "root_bytes": 2860 * MIB,
        "partition_bytes": 2943 * MIB,
        "disk_bytes": 3072 * MIB,
        "secure_boot": False,
        "guest_uptime": 60.0,
        "powered_off": True,
    }
    values.update(change)
    return qemu.BootReport(**values)  # type: ignore[arg-type]


def test_check_accepts_a_good_boot() -> None:
    qemu.check(report(), expect_secure_boot=False)


@pytest.mark.parametrize(
    ("change", "expect_sb", "message"),
    [
        ({"errors": ("module x failed",)}, False, "cloud-init reported errors: module x failed"),
        ({"partition_bytes": 1919 * MIB}, False, "root partition .* did not grow to the disk"),
        ({"root_bytes": 1800 * MIB}, False, "root file system .* did not grow to its partition"),
        ({"powered_off": False}, False, "did not power off"),
        ({}, True, "Secure Boot was not on"),
    ],
)
def test_check_names_each_problem(change: dict[str, object], expect_sb: bool, message: str) -> None:
    with pytest.raises(qemu.BootTestError, match=message):
        qemu.check(report(**change), expect_secure_boot=expect_sb)


def test_firmwares_follow_the_manifest() -> None:
    assert qemu.firmwares_for(None) == [qemu.Firmware.BIOS, qemu.Firmware.UEFI]
    assert qemu.firmwares_for({"boot_type": "mbr"}) == [qemu.Firmware.BIOS]
    assert qemu.firmwares_for({"boot_type": "hybrid", "secure_boot": True}) == [
        qemu.Firmware.BIOS,
        qemu.Firmware.UEFI,
        qemu.Firmware.SECURE_BOOT,
    ]
