"""The keystone postinst's private Keystone: one process, the service's WSGI file, stopped after.

It serves the session Keystone's own config file and database, so the
session Keystone (uwsgi, the way Debian serves it) judges what was made
through the private one.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from openstack_pkg_tools import keystone_private
from openstack_pkg_tools.errors import CommandError
from openstack_pkg_tools.keystone import AdminCredentials, KeystoneClient
from openstack_pkg_tools.keystone_bootstrap import ensure_service_project
from tests.servers.keystone import WSGI_SCRIPT, KeystoneServer, bootstrap_spec


def test_what_the_private_keystone_makes_the_service_serves(keystone: KeystoneServer, tmp_path: Path) -> None:
    spec = bootstrap_spec(keystone.config_file, keystone.auth_url)
    log = tmp_path / "keystone.log"
    with keystone_private.serving(spec, keystone_private.ServedApp(WSGI_SCRIPT, str(log))) as url:
        assert url != keystone.auth_url
        credentials = AdminCredentials(url, keystone.admin_username, keystone.admin_password)
        made = ensure_service_project(
            KeystoneClient(credentials), project="pkgos-private", roles=("pkgos-private-role",)
        )
        port = urllib.parse.urlsplit(url).port
    assert made == ["project pkgos-private", "role pkgos-private-role"]
    assert port is not None and not keystone_private.something_listens("127.0.0.1", port)
    # One access line per request in the service's log, the token's included.
    lines = log.read_text().splitlines()
    assert sum('"POST /v3/auth/tokens HTTP/1.1" 201' in line for line in lines) == 1, lines
    assert sum('"POST /v3/roles HTTP/1.1" 201' in line for line in lines) == 1, lines
    client = KeystoneClient(keystone.credentials())
    assert client.get("/projects", {"name": "pkgos-private"})["projects"]
    assert client.get("/roles", {"name": "pkgos-private-role"})["roles"]


def test_a_keystone_that_does_not_load_is_named_with_its_output(
    keystone: KeystoneServer, tmp_path: Path
) -> None:
    broken = tmp_path / "keystone-wsgi-broken"
    broken.write_text('raise RuntimeError("pkgos-no-app mysql+pymysql://keystone:S3cret-Pw@db/keystone")\n')
    spec = bootstrap_spec(keystone.config_file, keystone.auth_url)
    with (
        pytest.raises(CommandError) as caught,
        keystone_private.serving(spec, keystone_private.ServedApp(str(broken), "")),
    ):
        pass
    message = str(caught.value)
    assert "openstack_pkg_tools.keystone_private" in message and "pkgos-no-app" in message
    assert "S3cret-Pw" not in message


def test_a_link_planted_at_the_logs_name_is_not_followed(keystone: KeystoneServer, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("kept\n")
    log = tmp_path / "keystone.log"
    log.symlink_to(target)
    spec = bootstrap_spec(keystone.config_file, keystone.auth_url)
    with (
        pytest.raises(CommandError) as caught,
        keystone_private.serving(spec, keystone_private.ServedApp(WSGI_SCRIPT, str(log))),
    ):
        pass
    assert f"{log}: cannot be opened to append the output" in str(caught.value)
    assert "Traceback" not in str(caught.value)
    assert target.read_text() == "kept\n"


def test_the_app_is_the_one_the_services_uwsgi_file_names(tmp_path: Path) -> None:
    ini = tmp_path / "keystone-uwsgi.ini"
    ini.write_text(
        f"[uwsgi]\nprocesses = 8\nlogto = /var/log/keystone/keystone.log\nwsgi-file = {WSGI_SCRIPT}\n"
    )
    served = keystone_private.ServedApp(WSGI_SCRIPT, "/var/log/keystone/keystone.log")
    assert keystone_private.served_by(str(ini)) == served
    ini.write_text(f"[uwsgi]\nwsgi-file = {WSGI_SCRIPT}\n")
    assert keystone_private.served_by(str(ini)) == keystone_private.ServedApp(WSGI_SCRIPT, "")
    ini.write_text(f"[uwsgi]\nwsgi-file = {tmp_path}/missing\n")
    assert keystone_private.served_by(str(ini)) is None
    assert keystone_private.served_by(str(tmp_path / "none.ini")) is None
    assert keystone_private.served_by("") is None
