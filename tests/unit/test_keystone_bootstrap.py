"""Keystone's bootstrap steps, at the run() seam: exact argv and environment."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Any

import pytest

from openstack_pkg_tools import keystone_bootstrap
from openstack_pkg_tools.errors import InvalidValueError
from openstack_pkg_tools.keystone import Endpoints
from openstack_pkg_tools.keystone_bootstrap import BootstrapSpec, bootstrap_admin, setup_fernet_keys

ME = pwd.getpwuid(os.getuid()).pw_name
URLS = Endpoints("https://id.example.org/v3", "http://192.0.2.10:5000/v3", "http://[2001:db8::10]:5000/v3")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def fake_run(argv: list[str], **options: Any) -> None:
        seen.append({"argv": list(argv), **options})

    monkeypatch.setattr(keystone_bootstrap, "run", fake_run)
    return seen


def test_bootstrap_password_goes_in_the_environment_only(calls: list[dict[str, Any]]) -> None:
    spec = BootstrapSpec(URLS, config_file="/etc/keystone/keystone.conf", system_user=ME, region="RegionTwo")
    assert bootstrap_admin(spec, "Adm1n&pw") is True
    (call,) = calls
    assert call["argv"] == [
        "keystone-manage",
        "--config-file",
        "/etc/keystone/keystone.conf",
        "bootstrap",
        "--bootstrap-username",
        "admin",
        "--bootstrap-project-name",
        "admin",
        "--bootstrap-role-name",
        "admin",
        "--bootstrap-service-name",
        "keystone",
        "--bootstrap-region-id",
        "RegionTwo",
        "--bootstrap-public-url",
        URLS.public,
        "--bootstrap-internal-url",
        URLS.internal,
        "--bootstrap-admin-url",
        URLS.admin,
    ]
    assert call["env"] == {"OS_BOOTSTRAP_PASSWORD": "Adm1n&pw"}


def test_no_password_keeps_the_admin(calls: list[dict[str, Any]]) -> None:
    assert bootstrap_admin(BootstrapSpec(URLS), None) is False
    assert calls == []


def test_other_user_runs_through_runuser(calls: list[dict[str, Any]], tmp_path: Path) -> None:
    conf = tmp_path / "keystone.conf"
    conf.write_text(f"[fernet_tokens]\nkey_repository = {tmp_path}/fernet/\n")
    spec = BootstrapSpec(
        URLS, config_file=str(conf), system_user="keystone" if ME != "keystone" else "nobody"
    )
    assert setup_fernet_keys(spec) is True
    user = spec.system_user
    assert calls[0]["argv"] == [
        "runuser", "-u", user, "--", "keystone-manage", "--config-file", str(conf),
        "fernet_setup", "--keystone-user", user, "--keystone-group", "keystone",
    ]  # fmt: skip
    (tmp_path / "fernet").mkdir()
    (tmp_path / "fernet" / "0").write_text("key")
    assert setup_fernet_keys(spec) is False
    assert len(calls) == 1


def test_bad_region_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="region"):
        BootstrapSpec(URLS, region="Region One")
