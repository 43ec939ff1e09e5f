"""make demo's Tempest phase (demo/tempest.py): what it reads of Tempest's output, what it writes for it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from oslo_config import cfg

from demo import cloud, tempest

# The end of a ``tempest run`` as stestr's subunit-trace prints it.
OUTPUT = """\
{0} tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token [0.512s] ... ok
{1} tempest.api.compute.servers.test_create_server.ServersTestJSON.test_host_name_is_same_as_server_name \
... SKIPPED: Instance validation tests are disabled.
{1} tempest.api.compute.servers.test_create_server.ServersTestJSON.test_verify_created_server_vcpus \
... SKIPPED: Instance validation tests are disabled.
{0} setUpClass (tempest.api.network.test_ports.PortsIpV6TestJSON) ... SKIPPED: IPv6 is not enabled

======
Totals
======
Ran: 41 tests in 312.0151 sec.
 - Passed: 38
 - Skipped: 3
 - Expected Fail: 0
 - Unexpected Success: 0
 - Failed: 0
Sum of execute time for each test: 401.3 sec.
"""


def test_counts_are_tempests_totals() -> None:
    assert tempest.counts(OUTPUT) == tempest.Counts(ran=41, passed=38, skipped=3, failed=0)


def test_an_output_without_totals_is_an_error() -> None:
    with pytest.raises(cloud.CloudError, match="no totals"):
        tempest.counts(OUTPUT.split("======", maxsplit=1)[0])


def test_skip_reasons_name_each_test_and_skipped_class() -> None:
    reasons = tempest.skip_reasons(OUTPUT)
    assert reasons == {
        "Instance validation tests are disabled.": [
            "tempest.api.compute.servers.test_create_server.ServersTestJSON.test_host_name_is_same_as_server_name",
            "tempest.api.compute.servers.test_create_server.ServersTestJSON.test_verify_created_server_vcpus",
        ],
        "IPv6 is not enabled": ["tempest.api.network.test_ports.PortsIpV6TestJSON"],
    }


# The options checked, as (group, name): read back with oslo.config, as Tempest reads them.
CHECKED = [
    ("auth", "admin_password"),
    ("identity", "uri_v3"),
    ("compute", "image_ref"),
    ("compute", "flavor_ref"),
    ("compute", "fixed_network_name"),
    ("network-feature-enabled", "api_extensions"),
    ("service_available", "cinder"),
    ("validation", "run_validation"),
]


FAILED = """\
{0} tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_user_update [0.004433s] ... FAILED
{1} setUpClass (tempest.api.network.test_ports.PortsTestJSON) [0.100000s] ... FAILED
{1} tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_user_update_own_password [1.2s] ... ok
"""


def test_failed_tests_names_each_failed_test_and_failed_class_and_nothing_else() -> None:
    patterns = tempest.failed_tests(FAILED)
    assert patterns == [
        r"^tempest\.api\.identity\.admin\.v3\.test_users\.UsersV3TestJSON\.test_user_update\b",
        r"^tempest\.api\.network\.test_ports\.PortsTestJSON\.",
    ]
    ids = [
        "tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_user_update[id-2d223a0e,smoke]",
        "tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_user_update_own_password[id-ad71bd23]",
        "tempest.api.network.test_ports.PortsTestJSON.test_list_ports[id-cf95b358,smoke]",
        "tempest.api.network.test_ports.PortsIpV6TestJSON.test_list_ports[id-cf95b358,smoke]",
    ]
    # As tempest run --include-list matches them (re.search on each test id).
    chosen = [test for test in ids if any(re.search(pattern, test) for pattern in patterns)]
    assert chosen == [ids[0], ids[2]]


def test_tempest_conf_has_the_admin_and_what_the_cloud_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cloud, "passwords", lambda: {"keystone-admin": "pa$s"})
    run = cloud.Run(address="172.29.84.10")
    conf = tmp_path / "tempest.conf"
    conf.write_text(tempest.tempest_conf(run, "image-id", "flavor-id", ["port-security", "agent"]))
    options = cfg.ConfigOpts()
    for group, name in CHECKED:
        options.register_opt(cfg.StrOpt(name), group=group)
    options(args=[], default_config_files=[str(conf)])
    read = {(group, name): options[group][name] for group, name in CHECKED}
    assert read == {
        ("auth", "admin_password"): "pa$s",
        ("identity", "uri_v3"): "http://172.29.84.10:5000/v3",
        ("compute", "image_ref"): "image-id",
        ("compute", "flavor_ref"): "flavor-id",
        ("compute", "fixed_network_name"): cloud.NETWORK,
        ("network-feature-enabled", "api_extensions"): "port-security,agent",
        ("service_available", "cinder"): "false",
        ("validation", "run_validation"): "false",
    }
