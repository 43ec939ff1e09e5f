"""Debian's neutron packages, rewired, installed by apt-get in a Debian 12 node with systemd.

The node downloads the neutron packages its own apt would install (the
newest stable update), the host rewires them and signs an archive with
the toolkit's packages built from this tree, and the node installs
neutron-common, -api, -rpc-server, -linuxbridge-agent, -dhcp-agent and
-metadata-agent from it with nothing asked, from the database, nova,
metadata and linuxbridge answers a preseed gives, with Debian's MariaDB
in the node. The toolkit's postinsts create the database and run
neutron's migrations with ML2 to head, write every file and answer;
dpkg-reconfigure changes no byte; the purge drops the database and leaves
only what Debian's leaves.
"""

from __future__ import annotations

import configparser
import shutil
from pathlib import Path

import pytest

from openstack_pkg_tools.build.rewire import new_version
from tests.e2e.debhelpers import ROOT, pkgos, run
from tests.nodes import node
from tests.nodes.state import NodeState

pytestmark = pytest.mark.nodes

NEUTRON = (
    "neutron-common",
    "neutron-api",
    "neutron-rpc-server",
    "neutron-linuxbridge-agent",
    "neutron-dhcp-agent",
    "neutron-metadata-agent",
)
PRESEED = """\
neutron-common neutron/configure_db boolean true
neutron-common neutron/db-type select mysql
neutron-common neutron/db-host string localhost
neutron-common neutron/purge-db boolean true
neutron-common neutron/configure_nova boolean true
neutron-common neutron/nova_auth_url string http://192.0.2.10:5000
neutron-common neutron/nova_region string RegionOne
neutron-common neutron/nova_service_password password pkgostest-nova
neutron-metadata-agent neutron-metadata/configure boolean true
neutron-metadata-agent neutron-metadata/metadata_secret password pkgostest-metadata
neutron-metadata-agent neutron-metadata/nova_metadata_host string 192.0.2.10
neutron-linuxbridge-agent neutron/linuxbridge-physical-interface-mappings string provider:host0
neutron-linuxbridge-agent neutron/linuxbridge-local-ip string 172.29.84.200
"""
ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def _ok(target: NodeState, *argv: str, stdin: str = "") -> str:
    result = node.execute(target, list(argv), input=stdin, capture=True, environment=ENV)
    assert result.returncode == 0, (
        f"{argv} exited {result.returncode}: {result.stdout[-3000:]}{result.stderr}"
    )
    return result.stdout


def _ini(target: NodeState, path: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.read_string(_ok(target, "cat", path))
    return parser


def _archive(target: NodeState, work: Path) -> str:
    """The node's own neutron packages rewired, with the toolkit's, in a signed archive at /srv/archive."""
    _ok(target, "apt-get", "update", "-q")
    _ok(
        target,
        "sh",
        "-c",
        f"mkdir -p /root/debs && cd /root/debs && apt-get download {' '.join(NEUTRON)} neutron-server",
    )
    debs = work / "debs"
    debs.mkdir()
    for deb in (Path(target.directory) / "root" / "root" / "debs").glob("*.deb"):
        assert deb.is_file() and not deb.is_symlink()
        shutil.copyfile(deb, debs / deb.name)
    archive = work / "archive"
    pkgos("rewire", *map(str, sorted(debs.glob("*.deb"))), "--output-dir", str(archive))
    run(str(ROOT / "tools" / "build-debs"), str(work / "toolkit"))
    for deb in (work / "toolkit").glob("*.deb"):
        shutil.copy(deb, archive)
    pkgos("archive", str(archive), "--key-dir", str(work / "key"))
    node.copy_in(target, str(archive), "/srv")
    _ok(target, "chmod", "-R", "a+rX", "/srv/archive")
    line = "deb [signed-by=/srv/archive/archive-key.pgp] file:/srv/archive ./\n"
    _ok(target, "sh", "-c", "cat > /etc/apt/sources.list.d/pkgos.list", stdin=line)
    _ok(target, "apt-get", "update", "-q")
    return new_version(next(debs.glob("neutron-common_*.deb")).name.split("_")[1].replace("%3a", ":"))


def _checksums(target: NodeState) -> str:
    return _ok(target, "sh", "-c", "find /etc/neutron -type f | sort | xargs md5sum")


@pytest.mark.slow
def test_rewired_neutron_installs_writes_its_answers_reconfigures_unchanged_and_purges(
    started_node: NodeState, tmp_path: Path
) -> None:
    version = _archive(started_node, tmp_path)
    _ok(started_node, "apt-get", "install", "-y", "-q", "--no-install-recommends", "mariadb-server")
    _ok(started_node, "debconf-set-selections", stdin=PRESEED)
    _ok(started_node, "apt-get", "install", "-y", "-q", "--no-install-recommends", *NEUTRON)
    for package in NEUTRON:
        assert _ok(started_node, "dpkg-query", "-W", "-f", "${Version}", package) == version
    assert "pkgos maintscript" in _ok(started_node, "cat", "/var/lib/dpkg/info/neutron-common.postinst")

    neutron = _ini(started_node, "/etc/neutron/neutron.conf")
    nova = {
        "auth_url": "http://192.0.2.10:5000", "region_name": "RegionOne", "project_name": "service",
        "username": "nova", "password": "pkgostest-nova", "auth_type": "password",
        "user_domain_name": "Default", "project_domain_name": "Default",
    }  # fmt: skip
    assert {key: neutron["nova"][key] for key in nova} == nova
    assert neutron["experimental"]["linuxbridge"] == "true"
    assert neutron["database"]["connection"].startswith("mysql+pymysql://neutron:")
    migrate = (
        "neutron-db-manage --config-file /etc/neutron/neutron.conf "
        "--config-file /etc/neutron/plugins/ml2/ml2_conf.ini current"
    )
    assert "(head)" in _ok(started_node, "su", "-s", "/bin/sh", "-c", migrate, "neutron")
    assert neutron["DEFAULT"]["core_plugin"] == "ml2"
    ml2 = _ini(started_node, "/etc/neutron/plugins/ml2/ml2_conf.ini")
    assert ml2["ml2"]["mechanism_drivers"] == "linuxbridge,l2population"
    agent = _ini(started_node, "/etc/neutron/plugins/ml2/linuxbridge_agent.ini")
    assert agent["linux_bridge"]["physical_interface_mappings"] == "provider:host0"
    assert (agent["vxlan"]["enable_vxlan"], agent["vxlan"]["local_ip"]) == ("true", "172.29.84.200")
    metadata = _ini(started_node, "/etc/neutron/metadata_agent.ini")
    assert metadata["DEFAULT"]["metadata_proxy_shared_secret"] == "pkgostest-metadata"
    assert metadata["DEFAULT"]["nova_metadata_host"] == "192.0.2.10"
    assert _ini(started_node, "/etc/neutron/dhcp_agent.ini")["DEFAULT"]["interface_driver"] == "linuxbridge"
    files = ("neutron.conf", "metadata_agent.ini", "plugins/ml2/openvswitch_agent.ini")
    modes = _ok(started_node, "stat", "-c", "%n %a %U:%G", *(f"/etc/neutron/{name}" for name in files))
    assert modes.splitlines() == [
        "/etc/neutron/neutron.conf 660 root:neutron",
        "/etc/neutron/metadata_agent.ini 640 neutron:neutron",
        "/etc/neutron/plugins/ml2/openvswitch_agent.ini 640 neutron:neutron",
    ]

    # An older release's policy.json is moved aside by the next configure; nothing else changes.
    before = _checksums(started_node).splitlines()
    _ok(started_node, "sh", "-c", "echo '{}' > /etc/neutron/policy.json")
    for package in NEUTRON:
        _ok(started_node, "dpkg-reconfigure", package)
    moved = _ok(started_node, "md5sum", "/etc/neutron/disabled.policy.json.old").strip()
    assert sorted(_checksums(started_node).splitlines()) == sorted([*before, moved])

    _ok(started_node, "timeout", "300", "dpkg", "--purge", *reversed(NEUTRON))
    leftovers = "find /etc/neutron /var/lib/neutron /var/log/neutron /etc/default/neutron 2>/dev/null; true"
    left = _ok(started_node, "sh", "-c", leftovers).split()
    # The copy moved aside goes with the purge too (a [[leftover]]'s renamed copy), as nova-common's
    # does in Debian; Debian's neutron-common left it.
    assert left == []
    assert _ok(started_node, "debconf-show", "neutron-common", "neutron-metadata-agent") == ""
    assert "neutron" not in _ok(started_node, "mariadb", "-N", "-e", "SHOW DATABASES").split()
