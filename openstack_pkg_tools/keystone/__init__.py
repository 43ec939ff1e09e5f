"""Keystone: register services and their users idempotently, in-process.

The reconcile reads what Keystone holds, plans the difference with the
desired state (``plan``, pure functions) and applies only that, through one
keystoneauth1 session (``client``). No child process is started, and no
password reaches a log line or an error message.

Usage from a maintainer script::

    from openstack_pkg_tools import keystone

    client = keystone.KeystoneClient(keystone.AdminCredentials(auth_url, "admin", password))
    spec = keystone.ServiceSpec("glance", "image", keystone.Endpoints.same(url), region="regionOne")
    keystone.register_service(client, spec)
    keystone.ensure_service_user(client, keystone.ServiceUserSpec("glance", glance_password))
"""

from __future__ import annotations

from .client import (
    KeystoneAuthError,
    KeystoneClient,
    KeystoneError,
    KeystoneUnreachableError,
    RequestCounts,
    RetryPolicy,
)
from .model import (
    AdminCredentials,
    Endpoints,
    Interface,
    ServiceSpec,
    ServiceUserSpec,
    check_region,
    check_url,
    endpoint_url,
)
from .plan import Action, CatalogState, Change, EndpointRecord, UserState, plan_catalog, plan_user
from .reconcile import (
    Report,
    ensure_project,
    ensure_role,
    ensure_roles,
    ensure_service_user,
    register_service,
)

__all__ = [
    "Action",
    "AdminCredentials",
    "CatalogState",
    "Change",
    "EndpointRecord",
    "Endpoints",
    "Interface",
    "KeystoneAuthError",
    "KeystoneClient",
    "KeystoneError",
    "KeystoneUnreachableError",
    "Report",
    "RequestCounts",
    "RetryPolicy",
    "ServiceSpec",
    "ServiceUserSpec",
    "UserState",
    "check_region",
    "check_url",
    "endpoint_url",
    "ensure_project",
    "ensure_role",
    "ensure_roles",
    "ensure_service_user",
    "plan_catalog",
    "plan_user",
    "register_service",
]
