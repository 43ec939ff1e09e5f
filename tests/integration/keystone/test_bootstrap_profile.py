"""The keystone profile's project and roles, made in a real Keystone once."""

from __future__ import annotations

from openstack_pkg_tools.keystone import KeystoneClient
from openstack_pkg_tools.keystone_bootstrap import ensure_service_project
from openstack_pkg_tools.profile import load
from tests.servers.keystone import KeystoneServer


def test_the_keystone_profiles_roles_are_made_once(keystone: KeystoneServer) -> None:
    bootstrap = load("keystone").bootstrap
    assert bootstrap is not None
    ensure_service_project(keystone.credentials(), bootstrap.project, bootstrap.roles)
    client = KeystoneClient(keystone.credentials())
    assert ensure_service_project(keystone.credentials(), bootstrap.project, bootstrap.roles) == []
    names = {role["name"] for role in client.get("/roles", {}).get("roles", [])}
    assert set(bootstrap.roles) <= names
    assert [p["name"] for p in client.get("/projects", {"name": bootstrap.project})["projects"]] == [
        "service"
    ]
