"""Admin credentials: OS_* variables, openrc files (0600 only), clouds.yaml."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from openstack_pkg_tools.errors import ConfigFileError, InvalidValueError
from openstack_pkg_tools.keystone.credentials import (
    from_clouds_yaml,
    from_file,
    from_variables,
    load,
    parse_openrc,
)

SECRET = "p@ss w0rd'\"#$"


def test_variables_give_credentials_with_defaults() -> None:
    creds = from_variables(
        {"OS_AUTH_URL": "http://192.0.2.1:5000/v3", "OS_USERNAME": "admin", "OS_PASSWORD": "x"}, "env"
    )
    assert (creds.project_name, creds.user_domain_name, creds.project_domain_name) == (
        "admin",
        "Default",
        "Default",
    )


def test_missing_variables_are_named() -> None:
    with pytest.raises(InvalidValueError, match="OS_AUTH_URL, OS_PASSWORD not set") as caught:
        from_variables({"OS_USERNAME": "admin"}, "the environment")
    assert "--admin-file" in caught.value.hint


def test_openrc_file_with_export_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "admin-openrc"
    quoted = SECRET.replace("'", "'\\''")
    path.write_text(
        "# admin credentials\n"
        "export OS_AUTH_URL=http://[2001:db8::1]:5000/v3\n"
        "export OS_USERNAME=admin\n"
        f"export OS_PASSWORD='{quoted}'\n"
        "OS_PROJECT_NAME=admin\n"
    )
    path.chmod(0o600)
    creds = from_file(str(path))
    assert (creds.auth_url, creds.password) == ("http://[2001:db8::1]:5000/v3", SECRET)


def test_openrc_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "openrc"
    path.write_text(f"OS_PASSWORD={SECRET}\n")
    path.chmod(0o644)
    with pytest.raises(ConfigFileError, match="0644") as caught:
        from_file(str(path))
    assert caught.value.hint == f"chmod 600 {path}"
    assert SECRET not in str(caught.value)


def test_bad_openrc_line_is_located_without_echoing_it() -> None:
    with pytest.raises(ConfigFileError, match=":2: not an OS_NAME=value") as caught:
        parse_openrc(f"OS_USERNAME=admin\nOS_PASSWORD {SECRET}\n", "/root/openrc")
    assert SECRET not in str(caught.value)


def test_clouds_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text(
        "clouds:\n"
        "  other: {auth: {auth_url: 'http://192.0.2.9:5000', username: u, password: p}}\n"
        "  mycloud:\n"
        "    auth:\n"
        "      auth_url: http://192.0.2.1:5000/v3\n"
        "      username: admin\n"
        f"      password: {json.dumps(SECRET)}\n"
        "      project_name: ops\n"
        "      user_domain_name: Ops\n"
    )
    monkeypatch.delenv("OS_CLIENT_CONFIG_FILE", raising=False)
    creds = from_clouds_yaml("mycloud", [str(tmp_path / "missing.yaml"), str(path)])
    assert (creds.password, creds.project_name, creds.user_domain_name) == (SECRET, "ops", "Ops")
    with pytest.raises(InvalidValueError, match="No cloud named 'nope'"):
        from_clouds_yaml("nope", [str(path)])
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    assert load(None, None, {"OS_CLOUD": "mycloud"}).username == "admin"


def test_broken_clouds_yaml_error_does_not_quote_the_password(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text(f"clouds:\n  c:\n    auth:\n      password: 'unterminated {SECRET}\n")
    with pytest.raises(ConfigFileError, match="is not valid YAML") as caught:
        from_clouds_yaml("c", [str(path)])
    assert "unterminated" not in str(caught.value)


def test_load_prefers_the_file(tmp_path: Path) -> None:
    path = tmp_path / "openrc"
    path.write_text("OS_AUTH_URL=http://192.0.2.1:5000\nOS_USERNAME=fromfile\nOS_PASSWORD=x\n")
    os.chmod(path, 0o600)
    env = {"OS_AUTH_URL": "http://192.0.2.2:5000", "OS_USERNAME": "fromenv", "OS_PASSWORD": "y"}
    assert load(str(path), None, env).username == "fromfile"
    assert load(None, None, env).username == "fromenv"
