"""Asked settings: nova's [placement] and [neutron], neutron's [nova], my_ip, the metadata and
linuxbridge agents; who asks them under which prefix, the plans' directives and their refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from openstack_pkg_tools import steps
from openstack_pkg_tools.errors import InvalidValueError
from openstack_pkg_tools.inifile import IniFile
from openstack_pkg_tools.maintscript.plans import plans
from openstack_pkg_tools.profile import ProfileError, ServiceProfile, load, parse
from openstack_pkg_tools.questions import Family, families, of_family, owner_of, prefix_of

NOVA = "/etc/nova/nova.conf"
NEUTRON = "/etc/neutron/neutron.conf"
METADATA = "/etc/neutron/metadata_agent.ini"
LINUXBRIDGE = "/etc/neutron/plugins/ml2/linuxbridge_agent.ini"
ADDRESS = "192.0.2.21"


def defaults(profile: ServiceProfile, package: str, **changes: str) -> dict[str, str]:
    """The package's answers as its templates' defaults give them, with ``changes``."""
    prefix = prefix_of(profile, package)
    answers = {
        question.name: question.default_for(prefix)
        for family in families(profile, package)
        for question in of_family(family)
    }
    return answers | changes


def directives(profile: ServiceProfile, package: str, answers: dict[str, str]) -> list[tuple[str, ...]]:
    return [(s.config, s.section, s.key, s.value) for s in plans(profile, package, answers, ADDRESS).settings]


NOVA_ANSWERS = {
    "ksat-public-url": "https://keystone.example.org:5000",
    "ksat-region": "RegionTwo",
    "configure_placement": "true",
    "placement_admin_password": "pl$ce pass",
    "placement_os_region_name": "RegionTwo",
    "configure_neutron": "true",
    "neutron_url": "http://192.0.2.10:9696",
    "neutron_admin_password": "neutron-pass",
    "metadata_secret": "s3cret$",
    "my-ip": "",
    "cinder_os_region_name": "RegionTwo",
}


def test_who_asks_which_family_under_which_prefix() -> None:
    nova, neutron = load("nova"), load("neutron")
    assert families(nova, "nova-common") == (
        Family.DB,
        Family.RABBIT,
        Family.KSAT,
        Family.PLACEMENT,
        Family.NEUTRON,
        Family.MY_IP,
        Family.CINDER_REGION,
    )
    assert families(neutron, "neutron-common")[-1] is Family.NOVA
    assert families(neutron, "neutron-metadata-agent") == (Family.METADATA,)
    assert families(neutron, "neutron-linuxbridge-agent") == (Family.LINUXBRIDGE,)
    # Debian's neutron-metadata-agent asks under its own prefix; the agent under neutron/.
    assert prefix_of(neutron, "neutron-metadata-agent") == "neutron-metadata"
    assert prefix_of(neutron, "neutron-linuxbridge-agent") == "neutron"
    assert owner_of(neutron, Family.METADATA) == ("neutron-metadata-agent",)
    assert owner_of(nova, Family.PLACEMENT) == ("nova-common",)


def test_nova_writes_placement_neutron_and_my_ip() -> None:
    nova = load("nova")
    assert directives(nova, "nova-common", defaults(nova, "nova-common", **NOVA_ANSWERS)) == [
        (NOVA, "placement", "project_name", "service"),
        (NOVA, "placement", "username", "placement"),
        (NOVA, "placement", "password", "pl$ce pass"),
        (NOVA, "placement", "region_name", "RegionTwo"),
        (NOVA, "placement", "auth_type", "password"),
        (NOVA, "placement", "user_domain_name", "Default"),
        (NOVA, "placement", "project_domain_name", "Default"),
        (NOVA, "placement", "auth_url", "https://keystone.example.org:5000"),
        (NOVA, "neutron", "endpoint_override", "http://192.0.2.10:9696"),
        (NOVA, "neutron", "project_name", "service"),
        (NOVA, "neutron", "username", "neutron"),
        (NOVA, "neutron", "password", "neutron-pass"),
        (NOVA, "neutron", "metadata_proxy_shared_secret", "s3cret$"),
        (NOVA, "neutron", "auth_type", "password"),
        (NOVA, "neutron", "user_domain_name", "Default"),
        (NOVA, "neutron", "project_domain_name", "Default"),
        (NOVA, "neutron", "service_metadata_proxy", "true"),
        (NOVA, "neutron", "auth_url", "https://keystone.example.org:5000"),
        (NOVA, "neutron", "region_name", "RegionTwo"),
        # Empty: the default route's address.
        (NOVA, "DEFAULT", "my_ip", ADDRESS),
        (NOVA, "cinder", "os_region_name", "RegionTwo"),
    ]


def test_an_empty_address_on_a_machine_without_a_default_route_is_refused_naming_the_question() -> None:
    nova = load("nova")
    with pytest.raises(
        InvalidValueError, match=r"^nova/my-ip is empty, and this machine has no default route"
    ):
        plans(nova, "nova-common", defaults(nova, "nova-common"), "")
    neutron = load("neutron")
    answers = defaults(neutron, "neutron-linuxbridge-agent", **{"linuxbridge-enable-vxlan": "true"})
    with pytest.raises(InvalidValueError, match=r"^neutron/linuxbridge-local-ip is empty"):
        plans(neutron, "neutron-linuxbridge-agent", answers, "")


def test_a_family_whose_switch_is_no_writes_nothing_and_my_ip_is_always_written() -> None:
    nova = load("nova")
    answers = defaults(nova, "nova-common", **{"my-ip": "2001:db8::5"})
    assert directives(nova, "nova-common", answers) == [
        (NOVA, "DEFAULT", "my_ip", "2001:db8::5"),
        (NOVA, "cinder", "os_region_name", "regionOne"),
    ]


def test_neutron_writes_nova_and_the_agents_their_files() -> None:
    neutron = load("neutron")
    answers = defaults(
        neutron,
        "neutron-common",
        configure_nova="true",
        nova_auth_url="http://192.0.2.10:5000",
        nova_region="RegionTwo",
        nova_service_password="nova-pass",
    )
    assert directives(neutron, "neutron-common", answers) == [
        (NEUTRON, "nova", "auth_url", "http://192.0.2.10:5000"),
        (NEUTRON, "nova", "region_name", "RegionTwo"),
        (NEUTRON, "nova", "project_name", "service"),
        (NEUTRON, "nova", "username", "nova"),
        (NEUTRON, "nova", "password", "nova-pass"),
        (NEUTRON, "nova", "auth_type", "password"),
        (NEUTRON, "nova", "user_domain_name", "Default"),
        (NEUTRON, "nova", "project_domain_name", "Default"),
    ]
    metadata = defaults(
        neutron,
        "neutron-metadata-agent",
        configure="true",
        metadata_secret="s3cret$",
        nova_metadata_host="ctl",
    )
    assert directives(neutron, "neutron-metadata-agent", metadata) == [
        (METADATA, "DEFAULT", "metadata_proxy_shared_secret", "s3cret$"),
        (METADATA, "DEFAULT", "nova_metadata_host", "ctl"),
    ]
    agent = defaults(
        neutron,
        "neutron-linuxbridge-agent",
        **{"linuxbridge-physical-interface-mappings": "provider:eth1, ext:bond0.12"},
    )
    assert directives(neutron, "neutron-linuxbridge-agent", agent) == [
        (LINUXBRIDGE, "linux_bridge", "physical_interface_mappings", "provider:eth1,ext:bond0.12"),
        (LINUXBRIDGE, "vxlan", "enable_vxlan", "true"),
        (LINUXBRIDGE, "vxlan", "local_ip", ADDRESS),
    ]


@pytest.mark.parametrize(
    ("package", "change", "message"),
    [
        ("nova-common", {"placement_admin_username": " "}, r"nova/placement_admin_username is empty"),
        ("nova-common", {"placement_admin_password": ""}, r"nova/placement_admin_password is empty"),
        (
            "nova-common",
            {"placement_os_region_name": "a b"},
            r"nova/placement_os_region_name is 'a b', not a",
        ),
        ("nova-common", {"neutron_url": "ftp://n:9696"}, r"nova/neutron_url is not an http:// or https://"),
        ("nova-common", {"neutron_admin_tenant_name": ""}, r"nova/neutron_admin_tenant_name is empty"),
        ("nova-common", {"metadata_secret": ""}, r"nova/metadata_secret is empty"),
        ("nova-common", {"my-ip": "compute1"}, r"nova/my-ip is 'compute1', not an IP address"),
        ("nova-common", {"my-ip": "10.0.0.300"}, r"nova/my-ip is '10.0.0.300', not an IP address"),
        ("nova-common", {"ksat-public-url": "keystone:5000"}, r"nova/ksat-public-url is not an http"),
        ("nova-common", {"ksat-region": ""}, r"nova/ksat-region is empty"),
        ("neutron-common", {"nova_auth_url": "http://"}, r"neutron/nova_auth_url is not an http"),
        ("neutron-common", {"nova_region": "-x"}, r"neutron/nova_region is '-x', not a region name"),
        ("neutron-common", {"nova_service_username": ""}, r"neutron/nova_service_username is empty"),
        ("neutron-common", {"nova_service_password": ""}, r"neutron/nova_service_password is empty"),
        ("neutron-metadata-agent", {"metadata_secret": ""}, r"neutron-metadata/metadata_secret is empty"),
        (
            "neutron-metadata-agent",
            {"nova_metadata_host": "nova host"},
            r"neutron-metadata/nova_metadata_host is 'nova host', not a host address",
        ),
        (
            "neutron-linuxbridge-agent",
            {"linuxbridge-physical-interface-mappings": "eth1"},
            r"neutron/linuxbridge-physical-interface-mappings is 'eth1', not physical-network:interface",
        ),
        (
            "neutron-linuxbridge-agent",
            {"linuxbridge-enable-vxlan": "yes"},
            r"neutron/linuxbridge-enable-vxlan is 'yes', not true or false",
        ),
        (
            "neutron-linuxbridge-agent",
            {"linuxbridge-local-ip": "2001:db8::zz"},
            r"neutron/linuxbridge-local-ip is '2001:db8::zz', not an IP address",
        ),
    ],
)
def test_bad_answers_are_refused_naming_the_question(
    package: str, change: dict[str, str], message: str
) -> None:
    profile = load(package.split("-", maxsplit=1)[0])
    switched = {"configure_placement": "true", "configure_neutron": "true", "configure_nova": "true"}
    answers = defaults(profile, package, **NOVA_ANSWERS) | switched | {"configure": "true"}
    answers |= {
        "nova_service_password": "p",
        "metadata_secret": "s",
        "linuxbridge-physical-interface-mappings": "",
    }
    with pytest.raises(InvalidValueError, match=message):
        plans(profile, package, answers | change, ADDRESS)


def test_a_password_on_several_lines_is_refused_without_being_quoted() -> None:
    nova = load("nova")
    answers = defaults(nova, "nova-common", **(NOVA_ANSWERS | {"placement_admin_password": "top\nHUSH"}))
    with pytest.raises(InvalidValueError) as raised:
        plans(nova, "nova-common", answers, ADDRESS)
    assert "nova/placement_admin_password is on several lines" in str(raised.value)
    assert "HUSH" not in f"{raised.value} {raised.value.hint}"


def test_asked_settings_are_written_escaped_once(tmp_path: Path) -> None:
    conf = tmp_path / "metadata_agent.ini"
    conf.write_text("[DEFAULT]\n#metadata_proxy_shared_secret =\n")
    profile = parse(
        'name = "neutron"\n[[config]]\nsource = "neutron.conf"\n'
        f'[[asks]]\nfamily = "metadata-agent"\npackage = "neutron-metadata-agent"\nconfig = "{conf}"\n',
        "test.toml",
    )
    answers = defaults(profile, "neutron-metadata-agent", configure="true", metadata_secret="a$b")
    settings = plans(profile, "neutron-metadata-agent", answers).settings
    assert steps.write_settings(settings) == [
        f"wrote [DEFAULT] metadata_proxy_shared_secret, [DEFAULT] nova_metadata_host in {conf}"
    ]
    assert steps.write_settings(settings) == []
    assert IniFile(str(conf)).get("DEFAULT", "metadata_proxy_shared_secret") == "a$$b"


@pytest.mark.parametrize(
    ("asks", "message"),
    [
        ('family = "swift"', r"asks\[1\]\.family"),
        ('family = "placement"\nprefix = "other"', r"nova-common would ask its questions under two prefixes"),
        (
            'family = "metadata-agent"\npackage = "nova-api"\nprefix = "api"',
            r"nova-api would ask its questions under two prefixes",
        ),
        ('family = "my-ip"\n[[asks]]\nfamily = "my-ip"', r"nova-common asks my-ip twice"),
        (
            'family = "neutron"\n[[asks]]\nfamily = "metadata-agent"',
            r"nova-common would ask nova/metadata_secret twice",
        ),
        (
            'family = "my-ip"\n[[setting]]\nsection = "DEFAULT"\nkey = "my_ip"\nvalue = "192.0.2.1"',
            r"my-ip writes \[DEFAULT\] my_ip in /etc/nova/nova.conf, a \[\[setting\]\] too",
        ),
        (
            'family = "placement"\npackage = "nova-api"',
            r"placement takes Keystone's URL from the ksat questions, which nova-api does not ask",
        ),
    ],
)
def test_bad_asks_entries_are_refused_by_the_profile(asks: str, message: str) -> None:
    text = (
        'name = "nova"\n[[config]]\nsource = "nova.conf"\n[keystone_authtoken]\n'
        '[[catalog]]\ntype = "compute"\nport = 8774\ndescription = "x"\n'
        f"[[asks]]\n{asks}\n"
    )
    with pytest.raises(ProfileError, match=message):
        parse(text, "nova.toml")
