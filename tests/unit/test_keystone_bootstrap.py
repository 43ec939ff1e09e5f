"""Keystone's bootstrap steps, at the run() seam: exact argv and environment."""

from __future__ import annotations

import base64
import grp
import os
import pwd
import stat
from pathlib import Path
from typing import Any

import pytest

from openstack_pkg_tools import keystone_bootstrap
from openstack_pkg_tools.errors import InvalidValueError
from openstack_pkg_tools.keystone import Endpoints
from openstack_pkg_tools.keystone_bootstrap import (
    BootstrapSpec,
    bootstrap_admin,
    setup_credential_keys,
    setup_fernet_keys,
)

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


def _repository_spec(tmp_path: Path, extra: str = "") -> BootstrapSpec:
    conf = tmp_path / "keystone.conf"
    conf.write_text(
        f"[fernet_tokens]\nkey_repository = {tmp_path}/fernet/\n"
        f"[fernet_receipts]\nkey_repository = {tmp_path}/fernet\n"
        f"[credential]\nkey_repository = {tmp_path}/credential/\n{extra}"
    )
    (tmp_path / "fernet").mkdir(mode=0o700)
    (tmp_path / "credential").mkdir(mode=0o700)
    group = grp.getgrgid(os.getgid()).gr_name
    return BootstrapSpec(URLS, config_file=str(conf), system_user=ME, system_group=group)


def test_keys_are_written_as_keystone_manage_leaves_them(calls: list[dict[str, Any]], tmp_path: Path) -> None:
    spec = _repository_spec(tmp_path)
    assert setup_fernet_keys(spec) is True
    assert setup_credential_keys(spec) is True
    assert calls == []  # no keystone-manage
    for repository in (tmp_path / "fernet", tmp_path / "credential"):
        assert sorted(os.listdir(repository)) == ["0", "1"]
        keys = []
        for name in ("0", "1"):
            info = (repository / name).stat()
            assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o600, os.getuid(), os.getgid())
            key = (repository / name).read_bytes()
            # Fernet.generate_key(): URL-safe base64 of 32 bytes, no newline. That
            # Keystone takes them is test_written_keys.py's (a real Keystone).
            assert len(key) == 44 and len(base64.urlsafe_b64decode(key)) == 32
            keys.append(key)
        assert keys[0] != keys[1]
    # Set up: never again, whatever is asked.
    assert setup_fernet_keys(spec) is False
    assert setup_credential_keys(spec) is False
    assert calls == []


@pytest.mark.parametrize(
    "extra",
    ["[fernet_tokens]\nmax_active_keys = 1\n", "[fernet_receipts]\nkey_repository = /srv/receipts/\n"],
    ids=["max_active_keys", "receipts elsewhere"],
)
def test_other_fernet_settings_are_left_to_keystone_manage(
    calls: list[dict[str, Any]], tmp_path: Path, extra: str
) -> None:
    spec = _repository_spec(tmp_path, extra)
    assert setup_fernet_keys(spec) is True
    assert [call["argv"][3] for call in calls] == ["fernet_setup"]
    assert os.listdir(tmp_path / "fernet") == []


def test_a_repository_not_empty_or_open_to_others_is_left_to_keystone_manage(
    calls: list[dict[str, Any]], tmp_path: Path
) -> None:
    spec = _repository_spec(tmp_path)
    (tmp_path / "fernet" / "2").write_text("an old key")
    (tmp_path / "credential").chmod(0o750)
    assert setup_fernet_keys(spec) is True
    assert setup_credential_keys(spec) is True
    assert [call["argv"][3] for call in calls] == ["fernet_setup", "credential_setup"]
    assert os.listdir(tmp_path / "fernet") == ["2"]
    assert os.listdir(tmp_path / "credential") == []
