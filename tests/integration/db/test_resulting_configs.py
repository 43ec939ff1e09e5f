"""The config files the nova and neutron packages' postinsts leave, read whole by oslo.config.

Every package of each profile is configured into one set of files, as on
an all-in-one node: its fixed settings, then its plans from a preseed-like
set of answers applied as postinst applies them (asked settings,
``transport_url``, ``[keystone_authtoken]``; the service user is not
created, so no Keystone is needed, and the databases' URLs are read back
by the migration tests). The files are then read by oslo.config with the
services' own option definitions (python3-nova, python3-neutron), with
keystonemiddleware's and keystoneauth's options for ``[keystone_authtoken]``
and oslo.messaging's for ``transport_url``, as the services load them.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from openstack_pkg_tools import steps
from openstack_pkg_tools.maintscript import apply
from openstack_pkg_tools.maintscript.plans import plans
from openstack_pkg_tools.profile import ServiceProfile
from openstack_pkg_tools.questions import families, of_family, prefix_of
from tests.integration.db.cloud import empty_configs, oslo_values, relocated

ADDRESS = "192.0.2.21"
KEYSTONE = "http://192.0.2.10:5000"
REGION = "RegionTwo"
# Characters oslo.config and URLs treat specially, in every password.
SECRET = "s3cret$&|@:/%#"
# The transport URL as oslo.messaging gives it back: the password percent-encoded.
RABBIT = f"rabbit://openstack:{quote(SECRET, safe='')}"


def _answers(profile: ServiceProfile, package: str) -> dict[str, str]:
    """What a generated all-in-one preseed answers for ``package`` (no database, no new users)."""
    prefix = prefix_of(profile, package)
    answers = {
        question.name: question.default_for(prefix)
        for family in families(profile, package)
        for question in of_family(family)
    }
    given = {
        "configure_rabbit": "true",
        "rabbit-host": "192.0.2.10",
        "rabbit-userid": "openstack",
        "rabbit-password": SECRET,
        "configure_ksat": "true",
        "ksat-public-url": KEYSTONE,
        "ksat-region": REGION,
        "ksat-create-service-user": "false",
        "ksat-service-password": SECRET,
        "configure_placement": "true",
        "placement_admin_password": SECRET,
        "placement_os_region_name": REGION,
        "configure_neutron": "true",
        "neutron_url": "http://192.0.2.10:9696",
        "neutron_admin_password": SECRET,
        "metadata_secret": SECRET,
        "configure_nova": "true",
        "nova_auth_url": KEYSTONE,
        "nova_region": REGION,
        "nova_service_password": SECRET,
        "configure": "true",
        "nova_metadata_host": "192.0.2.10",
        "linuxbridge-physical-interface-mappings": "provider:eth1",
        "cinder_os_region_name": REGION,
    }
    return answers | {name: value for name, value in given.items() if name in answers}


def _configure_every_package(profile: ServiceProfile) -> None:
    """Each package's fixed settings and applied plans, twice: the second run writes nothing."""
    for run in range(2):
        done = []
        for package in profile.packages:
            done += steps.write_settings(profile.settings_for(package))
            done += apply.apply_plans(profile, plans(profile, package, _answers(profile, package), ADDRESS))
        assert bool(done) == (run == 0), done


AUTHTOKEN = """
def authtoken(conf):
    from keystoneauth1 import loading
    loading.load_auth_from_conf_options(conf, "keystone_authtoken")  # the password plugin's options
    ks = conf.keystone_authtoken
    return [ks.www_authenticate_uri, ks.auth_url, ks.region_name, ks.auth_type, ks.username, ks.password,
            ks.project_name, ks.user_domain_name, ks.project_domain_name]
"""


def _authtoken(username: str) -> list[str]:
    return [KEYSTONE, KEYSTONE, REGION, "password", username, SECRET, "service", "Default", "Default"]


def test_novas_resulting_nova_conf(workdir: str) -> None:
    nova = relocated("nova", os.path.join(workdir, "etc"), "root", config_arg=True)
    empty_configs(nova)
    _configure_every_package(nova)
    values = json.loads(
        oslo_values(
            AUTHTOKEN
            + f"""
import json
import keystonemiddleware.auth_token  # registers [keystone_authtoken] as nova's API pipeline does
import nova.conf
import oslo_messaging
from keystoneauth1 import loading
conf = nova.conf.CONF
conf(["--config-file", "{nova.configs[0].target}"], project="nova")
transport = oslo_messaging.TransportURL.parse(conf)
values = {{"transport": [str(transport), transport.hosts[0].password], "authtoken": authtoken(conf)}}
for group in ("placement", "neutron"):
    loading.load_auth_from_conf_options(conf, group)
    section = conf[group]
    values[group] = [section.auth_url, section.region_name, section.username, section.password]
values["other"] = [conf.my_ip, conf.neutron.endpoint_override, conf.neutron.service_metadata_proxy,
                   conf.neutron.metadata_proxy_shared_secret, conf.scheduler.discover_hosts_in_cells_interval,
                   conf.cinder.os_region_name]
print(json.dumps(values))
"""
        )
    )
    assert values == {
        "transport": [f"{RABBIT}@192.0.2.10:5672/", SECRET],
        "authtoken": _authtoken("nova"),
        "placement": [KEYSTONE, REGION, "placement", SECRET],
        "neutron": [KEYSTONE, REGION, "neutron", SECRET],
        "other": [ADDRESS, "http://192.0.2.10:9696", True, SECRET, 300, REGION],
    }


def test_neutrons_resulting_files(workdir: str) -> None:
    etc = os.path.join(workdir, "etc")
    neutron = relocated("neutron", etc, "root", config_arg=False)
    agent = os.path.join(etc, "plugins", "ml2", "linuxbridge_agent.ini")
    empty_configs(neutron, agent)
    _configure_every_package(neutron)
    values = json.loads(
        oslo_values(
            AUTHTOKEN
            + f"""
import json
import keystonemiddleware.auth_token
import oslo_messaging
from keystoneauth1 import loading
from oslo_config import cfg
from neutron.common import config
from neutron.conf import experimental
from neutron.conf.agent import common as agent_common
from neutron.conf.agent.metadata import config as metadata
from neutron.conf.plugins.ml2 import config as ml2
from neutron.conf.plugins.ml2.drivers import linuxbridge
from neutron.conf.agent import securitygroups_rpc
config.register_common_config_options()
experimental.register_experimental_opts()
ml2.register_ml2_plugin_opts()
agent_common.register_interface_driver_opts_helper(cfg.CONF)
server = cfg.CONF
files = ["{etc}/neutron.conf", "{etc}/plugins/ml2/ml2_conf.ini"]
server(["--config-file=" + path for path in files], project="neutron")
transport = oslo_messaging.TransportURL.parse(server)
loading.load_auth_from_conf_options(server, "nova")
values = {{
    "transport": [str(transport), transport.hosts[0].password],
    "authtoken": authtoken(server),
    "nova": [server.nova.auth_url, server.nova.region_name, server.nova.username, server.nova.password],
    "server": [server.core_plugin, server.auth_strategy, server.interface_driver,
               server.experimental.linuxbridge, server.ml2.type_drivers, server.ml2.mechanism_drivers],
}}
meta = cfg.ConfigOpts()
metadata.register_meta_conf_opts(metadata.METADATA_PROXY_HANDLER_OPTS, meta)
meta(["--config-file", "{etc}/metadata_agent.ini"], project="neutron")
values["metadata"] = [meta.metadata_proxy_shared_secret, meta.nova_metadata_host]
lb = cfg.ConfigOpts()
linuxbridge.register_linuxbridge_opts(lb)
securitygroups_rpc.register_securitygroups_opts(lb)
lb(["--config-file", "{agent}"], project="neutron")
values["agent"] = [lb.LINUX_BRIDGE.physical_interface_mappings, lb.VXLAN.enable_vxlan, lb.VXLAN.local_ip,
                   lb.VXLAN.l2_population, lb.SECURITYGROUP.firewall_driver]
print(json.dumps(values))
"""
        )
    )
    assert values == {
        "transport": [f"{RABBIT}@192.0.2.10:5672/", SECRET],
        "authtoken": _authtoken("neutron"),
        "nova": [KEYSTONE, REGION, "nova", SECRET],
        "server": [
            "ml2",
            "keystone",
            "linuxbridge",
            True,
            ["flat", "vlan", "vxlan"],
            ["linuxbridge", "l2population"],
        ],
        "metadata": [SECRET, "192.0.2.10"],
        "agent": [["provider:eth1"], True, ADDRESS, True, "iptables"],
    }
