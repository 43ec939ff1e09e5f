"""Service users in a real Keystone, then a login with the written [keystone_authtoken]."""

from __future__ import annotations

from pathlib import Path

import pytest
from keystoneauth1 import exceptions, session
from keystoneauth1.identity import v3

from openstack_pkg_tools.inifile import IniFile
from openstack_pkg_tools.keystone import Action, KeystoneClient, ServiceUserSpec, ensure_service_user
from openstack_pkg_tools.ksat import SECTION, AuthToken, write_authtoken
from tests.servers.keystone import KeystoneServer


def login_with_authtoken(path: Path) -> str:
    """Authenticate as keystonemiddleware would, from the values read back from ``path``."""
    conf = IniFile(str(path))
    values = {key: conf.get(SECTION, key) for key in conf.keys(SECTION)}
    assert values["auth_type"] == "password"
    auth = v3.Password(
        auth_url=values["auth_url"],
        username=values["username"],
        password=values["password"],
        project_name=values["project_name"],
        user_domain_name=values["user_domain_name"],
        project_domain_name=values["project_domain_name"],
    )
    return str(session.Session(auth=auth).get_token())


def test_create_change_password_and_roles_then_login(keystone: KeystoneServer, tmp_path: Path) -> None:
    first_password = "p@ss:w/rd%#&|=?"
    spec = ServiceUserSpec("pkgostest-glance", first_password)
    client = KeystoneClient(keystone.credentials())
    report = ensure_service_user(client, spec)
    assert [c.action for c in report.changes] == [Action.CREATE_USER, Action.ASSIGN_ROLE]

    rerun = KeystoneClient(keystone.credentials())
    assert ensure_service_user(rerun, spec).changes == ()
    assert rerun.counts.writes == 0

    new_password = "n3w pass \\ 'quoted' \"double\""
    changed = ServiceUserSpec(spec.username, new_password, roles=("service", "admin"))
    update = KeystoneClient(keystone.credentials())
    report = ensure_service_user(update, changed)
    assert [(c.action, c.target) for c in report.changes] == [
        (Action.UPDATE_PASSWORD, spec.username),
        (Action.ASSIGN_ROLE, "admin"),
    ]
    assert update.counts.writes == 2

    config = tmp_path / "glance-api.conf"
    config.write_text("[keystone_authtoken]\nadmin_user = old\nadmin_password = old\n")
    write_authtoken(
        str(config),
        AuthToken(
            www_authenticate_uri=keystone.auth_url,
            auth_url=keystone.auth_url,
            username=spec.username,
            password=new_password,
            region_name=keystone.region,
        ),
    )
    assert login_with_authtoken(config)

    config.write_text(config.read_text().replace(new_password, first_password))
    with pytest.raises(exceptions.Unauthorized):
        login_with_authtoken(config)


def test_new_project_and_role_are_created(keystone: KeystoneServer, client: KeystoneClient) -> None:
    spec = ServiceUserSpec(
        "pkgostest-nova", "pw-nova", project="pkgostest-services", roles=("pkgostest-role",)
    )
    report = ensure_service_user(client, spec)
    assert [c.action for c in report.changes] == [
        Action.CREATE_PROJECT,
        Action.CREATE_USER,
        Action.CREATE_ROLE,
        Action.ASSIGN_ROLE,
    ]
    assert ensure_service_user(KeystoneClient(keystone.credentials()), spec).changes == ()
