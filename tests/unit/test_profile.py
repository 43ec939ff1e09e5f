"""Service profiles: the shipped ones load, and every mistake names the file and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openstack_pkg_tools import profile
from openstack_pkg_tools.profile import LeftoverAction, ProfileError, load, parse

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
    # map_cell0 percent-decodes the URL it derives for cell0 (see nova.toml).
    assert [database.percent_in_url for database in nova.databases] == [True, True, False]
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


# A profile with one config file, before a setting's keys.
SETTING = 'name = "foo"\n[[config]]\nsource = "a.conf"\n[[setting]]\n'


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
        # A pattern in its last part only: one folder's files.
        ('name = "foo"\n[[config]]\nsource = "meta*/x.json"\n', "config[1].source"),
        ('name = "foo"\n[[config]]\nsource = "../*.json"\n', "config[1].source"),
        ("name = \n", "foo.toml: not valid TOML"),
        (
            'name = "foo"\n[[config]]\nsource = "foo.conf"\n'
            '[keystone_bootstrap]\nroles = ["member", "Member"]\n',
            "keystone_bootstrap.roles[2]: 'Member' is named twice",
        ),
        (
            'name = "foo"\n[[config]]\nsource = "foo.conf"\n[keystone_bootstrap]\nroles = ["a role"]\n',
            "keystone_bootstrap.roles[1]: 'a role' does not match",
        ),
        (
            'name = "foo"\n[[config]]\nsource = "foo.conf"\n'
            '[keystone_bootstrap]\nuwsgi = "keystone-uwsgi.ini"\n',
            "keystone_bootstrap.uwsgi: 'keystone-uwsgi.ini' is not an absolute",
        ),
        # A trailing newline is not part of a name ("$" would have let it through).
        ('name = "foo\\n"\n', "foo.toml: name: 'foo\\n' does not match"),
        (
            'name = "foo"\n[[catalog]]\npackage = "foo-api\\n"\ntype = "x"\nport = 1\ndescription = "x"\n',
            "catalog[1].package",
        ),
        ('name = "foo"\n[user]\ngroups = ["libvirt"]\n', "user.groups: unknown key"),
        ('name = "foo"\n[[membership]]\npackage = "foo-compute"\n', "membership[1].group: missing"),
        ('name = "foo"\n[[config]]\nsource = "a.conf"\npackage = "Foo"\n', "config[1].package: 'Foo'"),
        ('name = "foo"\n[[config]]\nsource = "a.conf"\nmode = "640"\n', "config[1].mode: '640'"),
        ('name = "foo"\n[[config]]\nsource = "a.conf"\n[[config]]\nsource = "a.conf"\n', "config[2].target"),
        ('name = "foo"\n[[setting]]\nsection = "a"\nkey = "b"\nvalue = "c"\n', "setting[1].config: missing"),
        (
            SETTING + 'section = "a b"\nkey = "b"\nvalue = "c"\n',
            "setting[1].section: 'a b' does not match",
        ),
        (
            SETTING + 'section = "a"\nkey = "b"\nvalue = 60\n',
            "setting[1].value: expected a string",
        ),
        (
            SETTING + 'section = "a"\nkey = "b"\nvalue = "x\\ny"\n',
            "setting[1].value: contains a line break",
        ),
        (
            SETTING + 'section = "a"\nkey = "b"\nvalue = "1"\n'
            '[[setting]]\nsection = "A"\nkey = "b"\nvalue = "2"\n',
            "setting[2].key: [A] b in /etc/foo/a.conf is set twice",
        ),
        (
            'name = "foo"\n[[config]]\nsource = "a.conf"\n[cells]\nnames = []\ncommand = ["x"]\n',
            "cells.names: names no",
        ),
        (
            'name = "foo"\n[[config]]\nsource = "a.conf"\n[cells]\nnames = ["cell0"]\ncommand = ["x"]\n',
            "cells.names: cell0 is made",
        ),
        (
            'name = "foo"\n[[config]]\nsource = "a.conf"\n[cells]\nnames = ["cell1"]\n',
            "cells.command: missing",
        ),
        (
            'name = "foo"\n[keystone_authtoken]\nconfigs = ["/etc/foo/a"]\nroles = []\n',
            "keystone_authtoken.roles: names no",
        ),
        (
            'name = "foo"\n[keystone_authtoken]\nconfigs = ["/etc/foo/a"]\nroles = ["a dmin"]\n',
            "keystone_authtoken.roles[1]: 'a dmin'",
        ),
        ('name = "foo"\n[[service]]\nname = "Foo Bar"\n', "service[1].name: 'Foo Bar' does not match"),
        (
            'name = "foo"\n[[leftover]]\npath = "/etc/foo/x"\n[[leftover]]\npath = "/etc/foo/x"\n',
            "leftover[2].path: /etc/foo/x is named twice",
        ),
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


# Debian 12's packages of the services the cloud needs (neutron-server and
# glance are empty transitional packages there).
DEBIAN_PACKAGES = {
    "keystone": {"keystone"},
    "glance": {"glance-common", "glance-api"},
    "placement": {"placement-common", "placement-api"},
    "nova": {
        "nova-common", "nova-api", "nova-conductor", "nova-scheduler", "nova-compute",
        "nova-compute-qemu", "nova-compute-kvm",
    },
    "neutron": {
        "neutron-common", "neutron-api", "neutron-rpc-server", "neutron-linuxbridge-agent",
        "neutron-dhcp-agent", "neutron-metadata-agent",
    },
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DEBIAN_PACKAGES))
def test_the_cloud_profiles_name_only_debian_packages(name: str) -> None:
    assert set(load(name).packages) <= DEBIAN_PACKAGES[name]


def test_nova_joins_libvirt_only_from_the_compute_packages_and_has_a_login_shell() -> None:
    nova = load("nova")
    assert nova.user.shell == "/bin/sh"
    joining = {package for package in DEBIAN_PACKAGES["nova"] if nova.memberships_for(package)}
    assert joining == {"nova-compute-qemu", "nova-compute-kvm"}
    assert [m.group for m in nova.memberships_for("nova-compute-qemu")] == ["libvirt"]
    assert [c.source for c in nova.configs_for("nova-common")] == [
        "nova.conf",
        "api-paste.ini",
        "logging.conf",
    ]
    assert nova.cells is not None and nova.cells.names == ("cell1",)
    assert nova.cells.config == "/etc/nova/nova.conf" and nova.cells.command == ("nova-manage",)
    interval = nova.settings_for("nova-scheduler")
    assert [(s.section, s.key, s.value, s.enforce) for s in interval] == [
        ("scheduler", "discover_hosts_in_cells_interval", "300", False)
    ]
    assert nova.settings_for("nova-common") == ()


def test_neutron_files_and_settings_by_package() -> None:
    neutron = load("neutron")
    assert [e.package for e in neutron.catalog] == ["neutron-api"]
    common = {c.target: (c.mode, c.owner, c.group) for c in neutron.configs_for("neutron-common")}
    assert common == {
        "/etc/neutron/neutron.conf": (0o660, "root", None),
        "/etc/neutron/api-paste.ini": (0o640, "root", None),
        "/etc/neutron/plugins/ml2/ml2_conf.ini": (0o640, "root", None),
        "/etc/neutron/dhcp_agent.ini": (0o640, "root", None),
        "/etc/neutron/l3_agent.ini": (0o640, "root", None),
        "/etc/neutron/plugins/ml2/openvswitch_agent.ini": (0o640, "neutron", "neutron"),
    }
    leftovers = {(o.path, o.package, o.action, o.rename_to) for o in neutron.leftovers_for("neutron-common")}
    assert leftovers == {
        ("/etc/neutron/policy.json", "neutron-common", "rename", "/etc/neutron/disabled.policy.json.old"),
        ("/etc/default/neutron", "neutron-common", "keep", ""),
    }
    [metadata] = neutron.configs_for("neutron-metadata-agent")
    assert (metadata.target, metadata.mode, metadata.owner, metadata.group) == (
        "/etc/neutron/metadata_agent.ini", 0o640, "neutron", "neutron",
    )  # fmt: skip
    assert neutron.databases[0].sync == (
        (
            "neutron-db-manage", "--config-file", "/etc/neutron/neutron.conf",
            "--config-file", "/etc/neutron/plugins/ml2/ml2_conf.ini", "upgrade", "head",
        ),
    )  # fmt: skip
    settings = {(s.config, s.section, s.key): s.value for s in neutron.settings_for("neutron-common")}
    assert settings[("/etc/neutron/neutron.conf", "experimental", "linuxbridge")] == "true"
    assert settings[("/etc/neutron/plugins/ml2/ml2_conf.ini", "ml2", "mechanism_drivers")] == (
        "linuxbridge,l2population"
    )
    assert {s.config for s in neutron.settings_for("neutron-linuxbridge-agent")} == {
        "/etc/neutron/plugins/ml2/linuxbridge_agent.ini"
    }
    assert neutron.authtoken is not None and neutron.authtoken.roles == ("service", "admin")


def test_directories_belong_to_a_package_for_creation_and_purge() -> None:
    neutron = load("neutron")
    mine = {d.path for d in neutron.directories_for("neutron-dhcp-agent")}
    assert mine == {"/etc/neutron", "/var/lib/neutron", "/var/log/neutron"}
    assert {d.path for d in neutron.directories_for("neutron-common")} == mine | {
        "/var/lib/neutron/dhcp", "/etc/neutron/server.conf.d", "/etc/neutron/agent.conf.d",
        "/etc/neutron/plugins", "/etc/neutron/plugins/ml2",
    }  # fmt: skip
    assert neutron.purged_by("neutron-dhcp-agent") == ()
    assert {d.path for d in neutron.purged_by("neutron-common")} == {
        d.path for d in neutron.directories_for("neutron-common")
    }


def test_glance_installs_debians_eleven_config_files_its_metadefs_and_the_keystone_flavor() -> None:
    glance = load("glance")
    files = [c for c in glance.configs_for("glance-common") if not c.is_pattern]
    assert len(files) == 11 and all(c.owner == "root" for c in files)
    [metadefs] = [c for c in glance.configs_for("glance-common") if c.is_pattern]
    assert (metadefs.source, metadefs.target, metadefs.owner, metadefs.group, metadefs.mode) == (
        "metadefs/*.json", "/etc/glance/metadefs", "glance", "glance", 0o640,
    )  # fmt: skip
    directories = {d.path: d for d in glance.purged_by("glance-common")}
    assert set(directories) >= {
        "/var/lib/glance/images", "/var/lib/glance/image-cache", "/etc/glance/metadefs",
    }  # fmt: skip
    assert (directories["/etc/glance/metadefs"].owner, directories["/etc/glance/metadefs"].purge) == (
        "glance", True,
    )  # fmt: skip
    # Debian gives /etc/glance to glance; the profile keeps it root's, on every configure.
    etc = directories["/etc/glance"]
    assert (etc.owner, etc.group, etc.mode, etc.enforce_mode, etc.purge) == (
        "root",
        "glance",
        0o750,
        True,
        False,
    )
    assert {(e.path, e.action) for e in glance.leftovers_for("glance-common")} == {
        ("/etc/glance/policy.json", "rename"),
        ("/etc/glance/glance-registry.conf", "keep"),
        ("/etc/glance/glance-registry-paste.ini", "keep"),
    }
    [flavor] = glance.settings_for("glance-common")
    assert (flavor.config, flavor.section, flavor.key, flavor.value) == (
        "/etc/glance/glance-api.conf", "paste_deploy", "flavor", "keystone",
    )  # fmt: skip
    assert glance.messaging is not None and glance.messaging.configs == ("/etc/glance/glance-api.conf",)


def test_a_config_below_a_subdirectory_keeps_its_path_and_roles_default_to_service() -> None:
    loaded = parse(
        'name = "foo"\n[[config]]\nsource = "plugins/x/y.ini"\n[keystone_authtoken]\n',
        "foo.toml",
    )
    assert loaded.configs[0].target == "/etc/foo/plugins/x/y.ini"
    assert loaded.configs[0].package == "foo-common"
    assert loaded.authtoken is not None and loaded.authtoken.roles == ("service",)


def test_keystone_bootstraps_the_service_project_and_debians_roles() -> None:
    bootstrap = load("keystone").bootstrap
    assert bootstrap is not None and bootstrap.project == "service"
    assert {"admin", "member", "reader", "service", "heat_stack_owner", "heat_stack_user"} <= set(
        bootstrap.roles
    )
    assert load("nova").bootstrap is None


def test_keystone_enables_its_service_removes_debians_old_policy_and_purges_etc_keystone() -> None:
    profile = load("keystone")
    assert [(service.name, service.package) for service in profile.services_for("keystone")] == [
        ("keystone", "keystone")
    ]
    assert [(entry.path, entry.action) for entry in profile.leftovers_for("keystone")] == [
        ("/etc/keystone/policy.json", "remove")
    ]
    assert "/etc/keystone" in {
        directory.path for directory in profile.purged_by("keystone") if directory.purge
    }
    assert load("glance").services == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[leftover]]\npath = "/etc/foo/x"\naction = "burn"',
            "leftover[1].action: 'burn' is not one of keep",
        ),
        (
            '[[leftover]]\npath = "/etc/foo/x"\naction = "rename"',
            "leftover[1].rename_to: is given with action",
        ),
        ('[[leftover]]\npath = "/etc/foo/x"\nrename_to = "/etc/foo/y"', "leftover[1].rename_to: is given"),
        ('[[leftover]]\npath = "/usr/bin/x"', "leftover[1].path: /usr/bin/x is not below one of"),
        (
            '[[leftover]]\npath = "/etc/foo/x"\naction = "rename"\nrename_to = "/bin/y"',
            "leftover[1].path: /bin/y is not below",
        ),
        ('[[file]]\npath = "/usr/lib/foo.log"', "file[1].path: /usr/lib/foo.log is not below one of"),
        ('[[file]]\npath = "/var/log/foo/x.log"\nmode = "644"', "file[1].mode"),
    ],
)
def test_leftover_and_file_mistakes_are_named(text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=re.escape(message)):
        parse(f'name = "foo"\n{text}\n', "foo.toml")


def test_a_leaving_belongs_to_its_packages_and_names_only_the_host() -> None:
    profile = parse(
        'name = "foo"\n[[leaving]]\npackages = ["foo-a", "foo-b"]\ntext = "on {host}: x"\n'
        '[[leaving]]\ntext = "y"\n',
        "foo.toml",
    )
    assert [entry.text for entry in profile.leavings_for("foo-b")] == ["on {host}: x"]
    assert [entry.text for entry in profile.leavings_for("foo-common")] == ["y"]
    assert {"foo-a", "foo-b"} <= set(profile.packages)
    with pytest.raises(ProfileError, match=re.escape("leaving[1].text: may name {host} and no other")):
        parse('name = "foo"\n[[leaving]]\ntext = "{hostname}"\n', "foo.toml")


def test_leftovers_and_state_files_belong_to_the_profiles_package_by_default() -> None:
    profile = parse(
        'name = "foo"\n[[file]]\npath = "/var/log/foo/m.log"\n'
        '[[leftover]]\npath = "/etc/foo/policy.json"\naction = "rename"\nrename_to = "/etc/foo/old.json"\n'
        '[[leftover]]\npackage = "foo-api"\npath = "/etc/default/foo-api"\n',
        "foo.toml",
    )
    assert [(f.path, f.owner, f.group, f.mode) for f in profile.files_for("foo-common")] == [
        ("/var/log/foo/m.log", "foo", "foo", 0o640)
    ]
    assert [entry.action for entry in profile.leftovers_for("foo-common")] == [LeftoverAction.RENAME]
    assert [entry.action for entry in profile.leftovers_for("foo-api")] == [LeftoverAction.KEEP]
    assert "foo-api" in profile.packages
