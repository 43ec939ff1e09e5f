"""The roles the profiles give nova's, neutron's and placement's users pass the services' own policies.

Each service user is made in a real Keystone with its profile's roles, logs
in, and the roles of its token are checked against the policy rule the
other service enforces on it, with that service's own default policies
(Debian 12's Zed, read from python3-nova, python3-neutron,
python3-placement): the call succeeds with the profile's roles and is
refused with the ``service`` role alone.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from keystoneauth1 import session
from keystoneauth1.identity import v3

from openstack_pkg_tools.maintscript import apply
from openstack_pkg_tools.maintscript.plans import AuthtokenPlan
from openstack_pkg_tools.profile import load
from tests.servers.keystone import KeystoneServer

# The user's service, the service that checks it (its policies' module) and the rule.
CALLS = {
    # neutron reports port events to nova with nova's credentials
    "nova": ("nova.policies", "os_compute_api:os-server-external-events:create"),
    # nova binds ports to hosts with neutron's credentials
    "neutron": ("neutron.conf.policies", "create_port:binding:host_id"),
    # nova records resource providers with placement's credentials
    "placement": ("placement.policies", "placement:resource_providers:create"),
}
ENFORCE = """
import importlib, json, sys
from oslo_config import cfg
from oslo_policy import policy
conf = cfg.ConfigOpts()
conf([], project="pkgostest")
enforcer = policy.Enforcer(conf)  # no policy file: the defaults, deprecated rules ORed in
enforcer.register_defaults(importlib.import_module(sys.argv[1]).list_rules())
creds = json.loads(sys.argv[3])
print(json.dumps(enforcer.enforce(sys.argv[2], {"project_id": "an-instance-owner"}, creds)))
"""


def allowed(module: str, rule: str, roles: list[str], project_id: str) -> bool:
    """What the service's default policies say to a token with ``roles`` (in a fresh interpreter)."""
    creds = json.dumps({"roles": roles, "project_id": project_id, "system_scope": None})
    result = subprocess.run(
        ["/usr/bin/python3", "-c", ENFORCE, module, rule, creds], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return bool(json.loads(result.stdout))


@pytest.mark.parametrize("service", sorted(CALLS))
def test_the_profiles_roles_pass_the_policy_the_other_service_enforces(
    keystone: KeystoneServer, service: str
) -> None:
    authtoken = load(service).authtoken
    assert authtoken is not None
    username, password = f"pkgostest-{service}-roles", "pkgos-Test-pass.1"
    plan = AuthtokenPlan(
        configs=(),
        section=authtoken.section,
        public_url=keystone.auth_url,
        region=keystone.region,
        username=username,
        project_name="service",
        password=password,
        create_user=True,
        admin_username=keystone.admin_username,
        admin_project_name=keystone.admin_project,
        admin_password=keystone.admin_password,
    )
    assert apply.ensure_service_user(plan, authtoken.roles)
    assert apply.ensure_service_user(plan, authtoken.roles) == []  # a second postinst changes nothing
    auth = v3.Password(
        auth_url=keystone.auth_url,
        username=username,
        password=password,
        project_name="service",
        user_domain_name="Default",
        project_domain_name="Default",
    )
    access = auth.get_access(session.Session())
    roles = sorted(access.role_names)
    assert set(authtoken.roles) <= set(roles)
    module, rule = CALLS[service]
    assert allowed(module, rule, roles, access.project_id)
    assert not allowed(module, rule, ["service"], access.project_id)
