"""The nova, placement and neutron profiles run the services' real migrations on MariaDB.

Nova gets its API database, cell0 and cell1 (made once: a second run
changes nothing), placement its database, neutron its database with the
ML2 options at head; the settings the profiles fix are then read back by
oslo.config with each service's own option definitions.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from openstack_pkg_tools import cells, steps
from openstack_pkg_tools.maintscript import apply
from openstack_pkg_tools.maintscript.plans import TransportPlan, asked_settings_plan
from openstack_pkg_tools.questions import Family
from openstack_pkg_tools.rabbit import RabbitAccount, ensure_account
from tests.integration.db.cloud import (
    PASSWORD,
    create_databases,
    drop_databases,
    empty_configs,
    oslo_values,
    program,
    relocated,
)
from tests.integration.db.helpers import tables
from tests.servers.mariadb import MariaDB
from tests.servers.rabbitmq import RabbitMQ

# The broker is shared by the session's tests: an account of this test's own.
RABBIT_USER = "pkgostest-cells-nova"


def _system_user(name: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True
        )
    return name


@pytest.fixture
def etc(workdir: str) -> Iterator[str]:
    """The test's /etc/<svc>, and /var/log/pkgostest-* that the migrations log to, removed after."""
    yield os.path.join(workdir, "etc")
    for name in ("nova", "placement", "neutron"):
        shutil.rmtree(f"/var/log/pkgostest-{name}", ignore_errors=True)


@pytest.mark.slow
def test_nova_api_database_cell0_and_cell1_once(mariadb: MariaDB, rabbitmq: RabbitMQ, etc: str) -> None:
    user = _system_user("pkgostest-nova")
    nova = relocated("nova", etc, user, config_arg=True)
    empty_configs(nova)
    specs = create_databases(mariadb, nova)
    try:
        assert nova.cells is not None
        conf = nova.cells.config
        ensure_account(RabbitAccount(RABBIT_USER, PASSWORD))
        # The order of apply_plans: migrations, transport_url, then the cells.
        assert apply.sync_databases(nova, nova.databases) == ["ran the database migrations of pkgostest-nova"]
        plan = cells.CellsPlan(nova.name, user, nova.cells)
        assert cells.ensure_cells(plan) == []  # no transport_url yet: nothing to make a cell of
        apply.write_transport_url(TransportPlan(rabbitmq.host, RABBIT_USER, PASSWORD, (conf,)))
        assert cells.ensure_cells(plan) == ["created pkgostest-nova cell cell1"]
        listed = subprocess.run(
            [*nova.cells.command, "cell_v2", "list_cells"], capture_output=True, text=True, check=True
        ).stdout
        assert cells.cell_names(listed) == {"cell0", "cell1"}
        assert PASSWORD not in listed and "****" in listed
        # A re-run (nova-api's novaapi/configure_db, or a second postinst) migrates again and
        # shows the same cells.
        assert apply.migrate_configured(nova) == ["ran the database migrations of pkgostest-nova"]
        again = subprocess.run(
            [*nova.cells.command, "cell_v2", "list_cells"], capture_output=True, text=True, check=True
        ).stdout
        assert again == listed
        main, api, cell0 = specs
        assert {"cell_mappings", "host_mappings", "request_specs"} <= tables(api)
        assert {"instances", "compute_nodes"} <= tables(main) and "instances" in tables(cell0)
        read = json.loads(
            oslo_values(f"""
import json
import nova.conf
import oslo_messaging
conf = nova.conf.CONF
conf(["--config-file", "{conf}"], project="nova")
oslo_messaging.TransportURL.parse(conf)  # registers transport_url, as nova's RPC setup does
print(json.dumps([conf.database.connection, conf.api_database.connection, conf.transport_url]))
""")
        )
        assert read[:2] == [main.url().render(), api.url().render()]
        assert read[2] == f"rabbit://{RABBIT_USER}:{PASSWORD}@{rabbitmq.host}:5672/"
    finally:
        drop_databases(specs)
        rabbitmq.ctl("delete_user", RABBIT_USER)


@pytest.mark.slow
def test_placement_database(mariadb: MariaDB, etc: str) -> None:
    user = _system_user("pkgostest-placement")
    placement = relocated("placement", etc, user, config_arg=True)
    empty_configs(placement)
    [spec] = create_databases(mariadb, placement)
    try:
        apply.sync_databases(placement, placement.databases)
        assert {"resource_providers", "inventories", "allocations"} <= tables(spec)
    finally:
        drop_databases([spec])


@pytest.mark.slow
def test_neutron_database_with_ml2_at_head_and_its_settings_read_by_oslo(
    mariadb: MariaDB, rabbitmq: RabbitMQ, etc: str
) -> None:
    user = _system_user("pkgostest-neutron")
    neutron = relocated("neutron", etc, user, config_arg=False)
    agent = os.path.join(etc, "plugins", "ml2", "linuxbridge_agent.ini")
    empty_configs(neutron, agent)
    for package in ("neutron-common", "neutron-dhcp-agent", "neutron-linuxbridge-agent"):
        assert steps.write_settings(neutron.settings_for(package))
        assert steps.write_settings(neutron.settings_for(package)) == []
    [spec] = create_databases(mariadb, neutron)
    try:
        apply.sync_databases(neutron, neutron.databases)
        files = [arg for arg in neutron.databases[0].sync[0] if arg.endswith((".conf", ".ini"))]
        assert files == [f"{etc}/neutron.conf", f"{etc}/plugins/ml2/ml2_conf.ini"]
        current = subprocess.run(
            [*program("neutron-db-manage"), *(f"--config-file={path}" for path in files), "current"],
            capture_output=True,
            text=True,
            check=True,
        )
        # One revision per alembic branch (expand and contract), each at its head.
        revisions = [line for line in current.stdout.splitlines() if re.fullmatch(r"[0-9a-f]{12}\b.*", line)]
        assert len(revisions) == 2 and all(line.endswith(" (head)") for line in revisions), current.stdout
        assert {"networks", "ports", "ml2_port_bindings", "ml2_vxlan_allocations"} <= tables(spec)
    finally:
        drop_databases([spec])
    values = json.loads(
        oslo_values(f"""
import json
from oslo_config import cfg
from neutron.conf import common, experimental
from neutron.conf.agent import common as agent, dhcp, securitygroups_rpc
from neutron.conf.plugins.ml2 import config as ml2
from neutron.conf.plugins.ml2.drivers import linuxbridge
from oslo_db import options as db_options
common.register_core_common_config_opts()
db_options.set_defaults(cfg.CONF)  # [database], as neutron's own commands register it
experimental.register_experimental_opts()
ml2.register_ml2_plugin_opts()
agent.register_interface_driver_opts_helper(cfg.CONF)
server = cfg.CONF
files = ["{etc}/neutron.conf", "{etc}/plugins/ml2/ml2_conf.ini"]
server(["--config-file=" + path for path in files], project="neutron")
values = {{
    "core_plugin": server.core_plugin, "auth_strategy": server.auth_strategy,
    "interface_driver": server.interface_driver, "linuxbridge": server.experimental.linuxbridge,
    "connection": server.database.connection,
    "type_drivers": server.ml2.type_drivers, "tenant_network_types": server.ml2.tenant_network_types,
    "mechanism_drivers": server.ml2.mechanism_drivers,
}}
agent_conf = cfg.ConfigOpts()
linuxbridge.register_linuxbridge_opts(agent_conf)
securitygroups_rpc.register_securitygroups_opts(agent_conf)
agent_conf(["--config-file", "{agent}"], project="neutron")
values |= {{
    "firewall_driver": agent_conf.SECURITYGROUP.firewall_driver,
    "enable_security_group": agent_conf.SECURITYGROUP.enable_security_group,
    "l2_population": agent_conf.VXLAN.l2_population,
}}
dhcp_conf = cfg.ConfigOpts()
dhcp.register_agent_dhcp_opts(dhcp_conf)
agent.register_interface_driver_opts_helper(dhcp_conf)
dhcp_conf(["--config-file", "{etc}/dhcp_agent.ini"], project="neutron")
values["dhcp_interface_driver"] = dhcp_conf.interface_driver
print(json.dumps(values))
""")
    )
    assert values == {
        "core_plugin": "ml2",
        "auth_strategy": "keystone",
        "interface_driver": "linuxbridge",
        "linuxbridge": True,
        "connection": spec.url().render(),
        "type_drivers": ["flat", "vlan", "vxlan"],
        "tenant_network_types": ["vxlan"],
        "mechanism_drivers": ["linuxbridge", "l2population"],
        "firewall_driver": "iptables",
        "enable_security_group": True,
        "l2_population": True,
        "dhcp_interface_driver": "linuxbridge",
    }


def test_nova_conf_read_by_novas_own_options(etc: str) -> None:
    nova = relocated("nova", etc, "root", config_arg=True)
    empty_configs(nova)
    for package in nova.packages:
        steps.write_settings(nova.settings_for(package))
    # nova-common's asked [cinder] os_region_name (nova/cinder_os_region_name).
    answers = {"cinder_os_region_name": "RegionTwo"}
    steps.write_settings(asked_settings_plan(nova, "nova-common", answers, "", {Family.CINDER_REGION}))
    assert nova.cells is not None
    values = json.loads(
        oslo_values(f"""
import json
import nova.conf
conf = nova.conf.CONF
conf(["--config-file", "{nova.cells.config}"], project="nova")
print(json.dumps({{"interval": conf.scheduler.discover_hosts_in_cells_interval,
                  "cinder_region": conf.cinder.os_region_name}}))
""")
    )
    assert values == {"interval": 300, "cinder_region": "RegionTwo"}
