"""The keystone profile's project and roles, made in a real Keystone once."""

from __future__ import annotations

from openstack_pkg_tools.keystone import KeystoneClient, ensure_roles
from openstack_pkg_tools.keystone_bootstrap import ensure_service_project
from openstack_pkg_tools.profile import load
from tests.servers.keystone import KeystoneServer


def test_the_keystone_profiles_roles_are_made_once(keystone: KeystoneServer) -> None:
    bootstrap = load("keystone").bootstrap
    assert bootstrap is not None
    ensure_service_project(KeystoneClient(keystone.credentials()), bootstrap.project, bootstrap.roles)
    client = KeystoneClient(keystone.credentials())
    assert (
        ensure_service_project(KeystoneClient(keystone.credentials()), bootstrap.project, bootstrap.roles)
        == []
    )
    names = {role["name"] for role in client.get("/roles", {}).get("roles", [])}
    assert set(bootstrap.roles) <= names
    assert [p["name"] for p in client.get("/projects", {"name": bootstrap.project})["projects"]] == [
        "service"
    ]


def test_roles_that_exist_cost_one_listing(keystone: KeystoneServer) -> None:
    bootstrap = load("keystone").bootstrap
    assert bootstrap is not None
    ensure_service_project(KeystoneClient(keystone.credentials()), bootstrap.project, bootstrap.roles)
    client = KeystoneClient(keystone.credentials())
    assert ensure_roles(client, bootstrap.roles) == []
    # The token request and one GET /roles, whatever the number of roles.
    assert (client.counts.reads, client.counts.writes) == (2, 0)


def test_a_role_found_only_in_another_case_is_looked_up_by_name(keystone: KeystoneServer) -> None:
    client = KeystoneClient(keystone.credentials())
    client.post("/roles", {"role": {"name": "Pkgos-Case-Role"}})
    # SQLite's name filter keeps case (MariaDB's would find the role): Keystone's database decides.
    wanted = ("pkgos-case-role", "pkgos-new-role")
    assert ensure_roles(client, wanted) == list(wanted)
    assert client.get("/roles", {"name": "pkgos-case-role"})["roles"]
    assert ensure_roles(client, wanted) == []
