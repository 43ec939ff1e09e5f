"""Service profiles: the shipped ones load, and every mistake names the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from openstack_pkg_tools import profile
from openstack_pkg_tools.profile import ProfileError, load, parse

CATALOG = {
    # name: (type, port, path), from the catalog Debian's packages register.
    "keystone": ("identity", 5000, "/v3"),
    "glance": ("image", 9292, ""),
    "nova": ("compute", 8774, "/v2.1"),
    "placement": ("placement", 8778, ""),
    "neutron": ("network", 9696, ""),
    "cinder": ("volumev3", 8776, "/v3/%(project_id)s"),
    "heat": ("orchestration", 8004, "/v1/%(tenant_id)s"),
    "barbican": ("key-manager", 9311, ""),
    "designate": ("dns", 9001, ""),
    "octavia": ("load-balancer", 9876, ""),
    "aodh": ("alarming", 8042, ""),
    "gnocchi": ("metric", 8041, ""),
    "ironic": ("baremetal", 6385, ""),
    "magnum": ("container-infra", 9511, "/v1"),
    "manila": ("share", 8786, "/v1/%(tenant_id)s"),
    "masakari": ("instance-ha", 15868, "/v1/%(tenant_id)s"),
    "mistral": ("workflowv2", 8989, "/v2"),
    "trove": ("database", 8779, "/v1.0/%(tenant_id)s"),
    "zaqar": ("messaging", 8888, ""),
    "watcher": ("infra-optim", 9322, ""),
    "cloudkitty": ("rating", 8889, ""),
}


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_shipped_profiles_load_with_their_catalog_entry(name: str) -> None:
    loaded = load(name)
    first = loaded.catalog[0]
    assert (first.type, first.port, first.path) == CATALOG[name]
    assert loaded.databases, f"{name} keeps a database"
    assert loaded.configs[0].target.startswith(f"/etc/{name}/")


def test_every_shipped_profile_is_listed_and_checked() -> None:
    assert set(profile.shipped_profiles()) == set(CATALOG)


def test_reserved_ids_and_nova_databases() -> None:
    assert {name: load(name).user.uid for name in ("nova", "cinder", "glance")} == {
        "nova": 64060,
        "cinder": 64061,
        "glance": 64062,
    }
    nova = load("nova")
    assert [(d.name, d.section, d.directive) for d in nova.databases] == [
        ("nova", "database", "connection"),
        ("nova_api", "api_database", "connection"),
        ("nova_cell0", "", ""),
    ]
    assert [database.percent_in_url for database in nova.databases] == [True, True, True]
    assert [database.percent_in_url for database in load("keystone").databases] == [False]
    assert [command for database in nova.databases for command in database.sync] == [
        ("nova-manage", "api_db", "sync"),
        ("nova-manage", "cell_v2", "map_cell0"),
        ("nova-manage", "db", "sync"),
    ]
    lib = next(d for d in nova.directories if d.path == "/var/lib/nova")
    assert lib.mode == 0o755


def test_defaults_for_a_minimal_profile() -> None:
    loaded = parse('name = "foo"\n[[config]]\nsource = "foo.conf"\n', "foo.toml")
    assert loaded.package == "foo-common"
    assert loaded.prefix == "foo"
    assert loaded.user.home == "/var/lib/foo"
    assert [(d.path, d.mode, d.owner, d.group, d.purge) for d in loaded.directories] == [
        ("/etc/foo", 0o750, "root", "foo", False),
        ("/var/lib/foo", 0o750, "foo", "foo", True),
        ("/var/log/foo", 0o750, "foo", "adm", True),
    ]
    assert loaded.configs[0].target == "/etc/foo/foo.conf"
    assert loaded.messaging is None and loaded.authtoken is None and loaded.catalog == ()


def test_heat_registers_two_services_from_two_packages() -> None:
    heat = load("heat")
    assert [entry.type for entry in heat.catalog_for("heat-api")] == ["orchestration"]
    assert [entry.name for entry in heat.catalog_for("heat-api-cfn")] == ["heat-cfn"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "foo"\nnmae = "x"\n', "foo.toml: nmae: unknown key"),
        ("name = 3\n", "foo.toml: name: expected a string, got 3"),
        ('name = "Foo"\n', "foo.toml: name: 'Foo' does not match"),
        ('name = "foo"\n[user]\nuid = "64062"\n', "foo.toml: user.uid: expected an integer"),
        ('name = "foo"\n[user]\nuid = 70000\n', "foo.toml: user.uid: 70000 is not in 100..65535"),
        ('name = "foo"\n[[directory]]\npath = "var/lib/foo"\n', "directory[1].path: 'var/lib/foo' is not an"),
        (
            'name = "foo"\n[[directory]]\npath = "/usr/lib/foo"\npurge = true\n',
            "directory[1].purge: /usr/lib",
        ),
        ('name = "foo"\n[[directory]]\npath = "/var/lib/foo"\nmode = "750"\n', "directory[1].mode: '750'"),
        ('name = "foo"\n[[database]]\n', "database[1].config: missing"),
        (
            'name = "foo"\n[[config]]\nsource = "a.conf"\n[[database]]\nsync = ["foo-manage db sync"]\n',
            "database[1].sync[1]: expected a command as a list of strings",
        ),
        (
            'name = "foo"\n[[config]]\nsource = "a.conf"\n[[database]]\ndirective = ""\n',
            "database[1].directive: section and directive",
        ),
        (
            'name = "foo"\n[[config]]\nsource = "a.conf"\n[[database]]\npercent_in_url = "no"\n',
            "database[1].percent_in_url: expected true or false",
        ),
        ('name = "foo"\n[[catalog]]\ntype = "image"\nport = 0\ndescription = "x"\n', "catalog[1].port: 0"),
        ('name = "foo"\n[[catalog]]\ntype = "image"\nport = 1\n', "catalog[1].description: missing"),
        ('name = "foo"\n[[catalog]]\ntype = "image"\nport = 1\ndescription = "x"\npath = "v1"\n', "path"),
        ('name = "foo"\n[messaging]\nconfigs = []\n', "messaging.configs: names no config file"),
        ('name = "foo"\n[[config]]\nsource = "../../etc/shadow"\n', "config[1].source"),
        ("name = \n", "foo.toml: not valid TOML"),
    ],
)
def test_mistakes_name_the_file_and_the_key(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse(text, "foo.toml")
    assert message in str(caught.value)
    assert "Hint:" in str(caught.value)


def test_load_by_path_and_unknown_names(tmp_path: Path) -> None:
    path = tmp_path / "bar.toml"
    path.write_text('name = "bar"\n')
    assert load(str(path)).name == "bar"
    with pytest.raises(ProfileError, match=r"no such shipped profile.*Hint: use one of aodh"):
        load("nosuch")
    with pytest.raises(ProfileError, match=r"missing\.toml: cannot be read"):
        load(str(tmp_path / "missing.toml"))


@pytest.mark.parametrize(
    ("path", "purgeable"),
    [
        ("/var/lib/glance", True),
        ("/etc/glance", True),
        ("/var/lib", False),
        ("/var/lib/", False),
        ("/var/lib/../..", False),
        ("/", False),
        ("", False),
        ("var/lib/glance", False),
        ("/usr/lib/glance", False),
        ("/var/libx/glance", False),
    ],
)
def test_only_paths_strictly_below_a_service_root_are_purgeable(path: str, purgeable: bool) -> None:
    assert profile.is_purgeable(path) is purgeable


def test_keystone_key_repositories_belong_to_keystone_and_go_with_purge() -> None:
    directories = {directory.path: directory for directory in load("keystone").directories}
    for path in ("/etc/keystone/fernet-keys", "/etc/keystone/credential-keys"):
        directory = directories[path]
        assert (directory.mode, directory.owner, directory.group, directory.purge) == (
            0o700,
            "keystone",
            "keystone",
            True,
        )
