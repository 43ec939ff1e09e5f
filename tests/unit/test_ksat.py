"""[keystone_authtoken]: writing, legacy migration, idempotence."""

from __future__ import annotations

import os
from pathlib import Path

from openstack_pkg_tools.inifile import IniFile
from openstack_pkg_tools.ksat import AuthToken, write_authtoken
from openstack_pkg_tools.maintscript.seeding import seeds
from openstack_pkg_tools.profile import parse

LEGACY = """\
[DEFAULT]
debug = false

[keystone_authtoken]
# From keystonemiddleware.auth_token
auth_uri = http://old:5000
auth_host = old
auth_protocol = http
admin_user = glance
admin_tenant_name = services
admin_password = old&pass

[paste_deploy]
flavor = keystone
"""

VALUES = AuthToken(
    www_authenticate_uri="https://cloud.example.org:5000",
    auth_url="http://[2001:db8::10]:5000",
    username="glance",
    password="n3w|p&ss=?#",
    region_name="RegionTwo",
    memcached_servers="192.0.2.10:11211",
)


def test_seeding_maps_legacy_names(tmp_path: Path) -> None:
    path = tmp_path / "glance-api.conf"
    path.write_text(LEGACY)
    profile = parse(
        f'name = "glance"\n[[config]]\nsource = "x.conf"\ntarget = "{path}"\n[keystone_authtoken]\n', "t.toml"
    )
    values = seeds(profile, "glance-common")
    assert values["ksat-service-username"] == "glance"
    assert values["ksat-service-project-name"] == "services"
    assert values["ksat-service-password"] == "old&pass"
    assert values["ksat-public-url"] == "http://old:5000"


def test_write_migrates_legacy_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "glance-api.conf"
    path.write_text(LEGACY)
    os.chmod(path, 0o640)
    assert write_authtoken(str(path), VALUES) is True
    conf = IniFile(str(path))
    for key, value in VALUES.directives():
        assert conf.get("keystone_authtoken", key) == value
    for legacy in (
        "auth_uri",
        "auth_host",
        "auth_protocol",
        "admin_user",
        "admin_tenant_name",
        "admin_password",
    ):
        assert conf.get("keystone_authtoken", legacy) is None
    assert conf.get("keystone_authtoken", "auth_type") == "password"
    assert conf.get("paste_deploy", "flavor") == "keystone"
    assert "# From keystonemiddleware.auth_token" in path.read_text()
    assert os.stat(path).st_mode & 0o777 == 0o640
    before = path.stat().st_mtime_ns
    assert write_authtoken(str(path), VALUES) is False
    assert path.stat().st_mtime_ns == before


def test_memcached_servers_only_when_given(tmp_path: Path) -> None:
    path = tmp_path / "nova.conf"
    path.write_text("[keystone_authtoken]\n")
    plain = AuthToken("http://192.0.2.1:5000", "http://192.0.2.1:5000", "nova", "pw")
    write_authtoken(str(path), plain)
    assert "memcached_servers" not in path.read_text()


def test_a_profile_may_name_another_section(tmp_path: Path) -> None:
    # Seeding reads the profile's section; postinst writes the same one.
    path = tmp_path / "proxy-server.conf"
    path.write_text("[filter:authtoken]\nadmin_user = old\n")
    assert write_authtoken(str(path), VALUES, "filter:authtoken") is True
    conf = IniFile(str(path))
    assert conf.get("filter:authtoken", "username") == VALUES.username
    assert conf.get("filter:authtoken", "admin_user") is None
    assert not conf.has_section("keystone_authtoken")
