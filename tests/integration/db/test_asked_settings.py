"""Asked settings through postinst's plan and apply, read back by the services' own options.

nova-common's [placement], [neutron] and my_ip, neutron-common's [nova],
the metadata agent's and the linuxbridge agent's answers are planned and
applied to real config files as postinst does; oslo.config then reads
them with nova's and neutron's option definitions (keystoneauth's
password plugin for the credentials, as the services load them).
"""

from __future__ import annotations

import json
import os

from openstack_pkg_tools.maintscript import apply
from openstack_pkg_tools.maintscript.plans import plans
from openstack_pkg_tools.profile import ServiceProfile
from openstack_pkg_tools.questions import families, of_family, prefix_of
from tests.integration.db.cloud import empty_configs, oslo_values, relocated

ADDRESS = "192.0.2.21"
# oslo.config would read a single "$" as a variable: the writer escapes it.
PASSWORD = "pl$ce-pass"


def _postinst(profile: ServiceProfile, package: str, **changes: str) -> list[str]:
    """Plan every answer of ``package`` (template defaults, then ``changes``), then apply the plans."""
    prefix = prefix_of(profile, package)
    answers = {
        question.name: question.default_for(prefix)
        for family in families(profile, package)
        for question in of_family(family)
    }
    return apply.apply_plans(profile, plans(profile, package, answers | changes, ADDRESS))


def test_nova_reads_its_placement_neutron_and_my_ip_answers(workdir: str) -> None:
    nova = relocated("nova", os.path.join(workdir, "etc"), "root", config_arg=True)
    empty_configs(nova)
    answers = {
        "ksat-public-url": "http://192.0.2.10:5000",
        "ksat-region": "RegionTwo",
        "configure_placement": "true",
        "placement_admin_password": PASSWORD,
        "placement_os_region_name": "RegionTwo",
        "configure_neutron": "true",
        "neutron_url": "http://192.0.2.10:9696",
        "neutron_admin_password": "neutron-pass",
        "metadata_secret": "meta$secret",
        "my-ip": "",
    }
    assert _postinst(nova, "nova-common", **answers)
    assert _postinst(nova, "nova-common", **answers) == []  # a second configure rewrites nothing
    conf = nova.configs[0].target
    values = json.loads(
        oslo_values(f"""
import json
import nova.conf
from keystoneauth1 import loading
conf = nova.conf.CONF
conf(["--config-file", "{conf}"], project="nova")
values = {{"my_ip": conf.my_ip}}
for group in ("placement", "neutron"):
    loading.load_auth_from_conf_options(conf, group)  # registers the password plugin's options
    section = conf[group]
    values[group] = [section.auth_type, section.auth_url, section.username, section.password,
                     section.project_name, section.user_domain_name, section.project_domain_name,
                     section.region_name]
values["neutron_extra"] = [conf.neutron.endpoint_override, conf.neutron.service_metadata_proxy,
                           conf.neutron.metadata_proxy_shared_secret]
print(json.dumps(values))
""")
    )
    assert values == {
        "my_ip": ADDRESS,
        "placement": [
            "password",
            "http://192.0.2.10:5000",
            "placement",
            PASSWORD,
            "service",
            "Default",
            "Default",
            "RegionTwo",
        ],
        "neutron": [
            "password",
            "http://192.0.2.10:5000",
            "neutron",
            "neutron-pass",
            "service",
            "Default",
            "Default",
            "RegionTwo",
        ],
        "neutron_extra": ["http://192.0.2.10:9696", True, "meta$secret"],
    }


def test_neutron_and_its_agents_read_their_answers(workdir: str) -> None:
    etc = os.path.join(workdir, "etc")
    neutron = relocated("neutron", etc, "root", config_arg=False)
    agent = os.path.join(etc, "plugins", "ml2", "linuxbridge_agent.ini")
    empty_configs(neutron, agent)
    assert _postinst(
        neutron,
        "neutron-common",
        configure_nova="true",
        nova_auth_url="http://192.0.2.10:5000",
        nova_region="RegionTwo",
        nova_service_password=PASSWORD,
    )
    assert _postinst(
        neutron,
        "neutron-metadata-agent",
        configure="true",
        metadata_secret="meta$secret",
        nova_metadata_host="192.0.2.10",
    )
    lb = {"linuxbridge-physical-interface-mappings": "provider:eth1", "linuxbridge-local-ip": ""}
    assert _postinst(neutron, "neutron-linuxbridge-agent", **lb)
    assert _postinst(neutron, "neutron-linuxbridge-agent", **lb) == []
    values = json.loads(
        oslo_values(f"""
import json
from keystoneauth1 import loading
from oslo_config import cfg
from neutron.conf import common
from neutron.conf.agent.metadata import config as metadata
from neutron.conf.plugins.ml2.drivers import linuxbridge
server = cfg.ConfigOpts()
common.register_nova_opts(server)
loading.register_auth_conf_options(server, "nova")
server(["--config-file", "{etc}/neutron.conf"], project="neutron")
loading.load_auth_from_conf_options(server, "nova")  # registers the password plugin's options
nova = server.nova
values = {{"nova": [nova.auth_type, nova.auth_url, nova.username, nova.password, nova.project_name,
                   nova.user_domain_name, nova.project_domain_name, nova.region_name]}}
meta = cfg.ConfigOpts()
metadata.register_meta_conf_opts(metadata.METADATA_PROXY_HANDLER_OPTS, meta)
meta(["--config-file", "{etc}/metadata_agent.ini"], project="neutron")
values["metadata"] = [meta.metadata_proxy_shared_secret, meta.nova_metadata_host]
agent = cfg.ConfigOpts()
linuxbridge.register_linuxbridge_opts(agent)
agent(["--config-file", "{agent}"], project="neutron")
values["agent"] = [agent.LINUX_BRIDGE.physical_interface_mappings, agent.VXLAN.enable_vxlan,
                   agent.VXLAN.local_ip]
print(json.dumps(values))
""")
    )
    assert values == {
        "nova": [
            "password",
            "http://192.0.2.10:5000",
            "nova",
            PASSWORD,
            "service",
            "Default",
            "Default",
            "RegionTwo",
        ],
        "metadata": ["meta$secret", "192.0.2.10"],
        "agent": [["provider:eth1"], True, ADDRESS],
    }
