"""The stock-against-rewired pieces (demo/stock.py): the stock archive, debconf's log, the last line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from demo import stock

PACKAGES = """\
Package: keystone
Version: 2:22.0.2-0+deb12u6+pkgos1
Architecture: all
Filename: ./keystone_22.0.2-0+deb12u6+pkgos1_all.deb
Description: OpenStack identity service
 Version: 1.0 (a description line is not a field)

Package: placement-api
Version: 8.0.0-2+~pkgos1
Filename: ./placement-api_8.0.0-2+~pkgos1_all.deb

Package: openstack-toaster
Version: 1.0
Filename: ./openstack-toaster_1.0_all.deb

Package: openstack-pkg-tools
Version: 1:0.1.0
Filename: ./openstack-pkg-tools_0.1.0_all.deb
"""


def test_the_stock_selection_keeps_the_toolkits_and_the_meta_packages_only() -> None:
    assert stock.stock_selection(PACKAGES) == [
        "openstack-pkg-tools_0.1.0_all.deb",
        "openstack-toaster_1.0_all.deb",
    ]


def test_the_index_reads_fields_not_description_lines() -> None:
    assert stock.archive_index(PACKAGES)[0] == (
        "keystone",
        "2:22.0.2-0+deb12u6+pkgos1",
        "keystone_22.0.2-0+deb12u6+pkgos1_all.deb",
    )


def test_the_stock_archive_copies_the_selection_drops_the_rest_and_signs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, destination = tmp_path / "archive", tmp_path / "archive-stock"
    source.mkdir()
    destination.mkdir()
    (source / "Packages").write_text(PACKAGES)
    for _, _, name in stock.archive_index(PACKAGES):
        (source / name).write_bytes(name.encode())
    (destination / "keystone_22.0.2-0+deb12u6+pkgos1_all.deb").write_bytes(b"left from before")
    calls: list[list[str]] = []
    monkeypatch.setattr(stock.subprocess, "run", lambda argv, **_: calls.append(argv))
    stock.stock_archive(source, destination, tmp_path / "key")
    assert sorted(path.name for path in destination.iterdir()) == stock.stock_selection(PACKAGES)
    assert (destination / "openstack-toaster_1.0_all.deb").read_bytes() == b"openstack-toaster_1.0_all.deb"
    assert calls == [
        [
            stock.sys.executable,
            "-m",
            "openstack_pkg_tools",
            "archive",
            str(destination),
            "--key-dir",
            str(tmp_path / "key"),
        ]
    ]


def test_the_stock_archive_refuses_a_missing_index(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make archive"):
        stock.stock_archive(tmp_path, tmp_path / "out", tmp_path / "key")


def test_a_failed_signing_is_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Packages").write_text("")

    def fail(argv: list[str], **_: object) -> None:
        raise subprocess.CalledProcessError(2, argv)

    monkeypatch.setattr(stock.subprocess, "run", fail)
    with pytest.raises(subprocess.CalledProcessError):
        stock.stock_archive(tmp_path, tmp_path / "out", tmp_path / "key")


LOG = """\
debconf (developer): <-- INPUT high keystone/configure_db
debconf (developer): <-- INPUT medium nova/my-ip
debconf (developer): <-- INPUT high glance/configure_db
debconf (developer): <-- FSET keystone/create-admin-tenant seen true
debconf (developer): <-- INPUT high keystone/create-admin-tenant
debconf (developer): <-- RESET glance-common/mysql/app-pass
debconf (developer): <-- INPUT critical glance-common/mysql/app-pass
debconf (developer): <-- INPUT high keystone/configure_db
debconf (developer): <-- SET keystone/admin-password hidden
"""
PRESEED = """\
glance glance/configure_db boolean true
glance-common glance-common/mysql/app-pass password secret
# keystone keystone/configure_db boolean true
nova nova/my-ip string 127.0.0.1
nova nova/my-ip seen false
"""


def test_asked_are_the_unseen_inputs_at_or_above_the_priority_once_each() -> None:
    shown, lower = stock.asked(LOG, PRESEED, "high")
    assert shown == ["keystone/configure_db (high)", "glance-common/mysql/app-pass (critical)"]
    assert lower == ["nova/my-ip (medium)"]


def test_at_a_lower_priority_more_is_shown() -> None:
    shown, lower = stock.asked(LOG, PRESEED, "medium")
    assert "nova/my-ip (medium)" in shown
    assert lower == []


def test_debconfs_priority_from_its_database() -> None:
    config = (
        "Name: debconf/frontend\nValue: Dialog\n\n"
        "Name: debconf/priority\nTemplate: debconf/priority\nValue: medium\n"
    )
    assert stock.debconf_priority(config) == "medium"
    assert stock.debconf_priority("") == "high"


def test_troubles_mask_secrets_and_leave_debconfs_lines_out() -> None:
    output = (
        "Setting up keystone ...\n"
        "debconf (developer): <-- SET keystone/admin-password s3cret failed\n"
        "ERROR: access denied for s3cret\n"
        "ERROR: access denied for s3cret\n"
        "\x1b[0;1;31mJob for nova-conductor.service failed.\x1b[0m\n"
    )
    assert stock.troubles(output, {"s3cret"}) == [
        "ERROR: access denied for ***",
        "Job for nova-conductor.service failed.",
    ]


def test_the_last_line_is_the_ratio_when_both_got_there() -> None:
    assert stock.last_line(stock.Verdict(21.0), stock.Verdict(10.0)) == "ratio=2.10"


def test_the_last_line_names_where_stock_stopped_on_one_line() -> None:
    line = stock.last_line(stock.Verdict(None, "check: keystone\nanswered 500"), stock.Verdict(10.0))
    assert line == "ratio=none stopped-at=check: keystone answered 500"


def test_the_last_line_when_the_rewired_run_is_missing_or_stopped() -> None:
    assert stock.last_line(stock.Verdict(12.0), None) == "ratio=none rewired=not-run stock-minutes=12.0"
    assert stock.last_line(stock.Verdict(12.0), stock.Verdict(None, "vm: boot")) == (
        "ratio=none rewired-stopped-at=vm: boot"
    )


def test_one_line_is_cut() -> None:
    assert stock.one_line("a " * 300, 20) == "a a a a a a a a a..."
