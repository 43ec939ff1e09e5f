"""The catalog type, default port and path of the services Debian packages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownService:
    """A service's catalog type, description, port and URL path."""

    type: str
    description: str
    port: int
    path: str = ""


KNOWN_SERVICES = {
    "keystone": KnownService("identity", "OpenStack Identity", 5000, "/v3"),
    "glance": KnownService("image", "OpenStack Image", 9292),
    "nova": KnownService("compute", "OpenStack Compute", 8774, "/v2.1"),
    "placement": KnownService("placement", "Placement API", 8778),
    "neutron": KnownService("network", "OpenStack Networking", 9696),
    "cinder": KnownService("volumev3", "OpenStack Block Storage", 8776, "/v3/%(project_id)s"),
    "heat": KnownService("orchestration", "OpenStack Orchestration", 8004, "/v1/%(tenant_id)s"),
    "heat-cfn": KnownService("cloudformation", "OpenStack CloudFormation", 8000, "/v1"),
    "barbican": KnownService("key-manager", "OpenStack Key Manager", 9311),
    "designate": KnownService("dns", "OpenStack DNS", 9001),
    "octavia": KnownService("load-balancer", "OpenStack Load Balancer", 9876),
    "aodh": KnownService("alarming", "OpenStack Alarming", 8042),
    "gnocchi": KnownService("metric", "OpenStack Metric", 8041),
    "ironic": KnownService("baremetal", "OpenStack Bare Metal", 6385),
    "magnum": KnownService("container-infra", "OpenStack Container Infrastructure", 9511, "/v1"),
    "manila": KnownService("sharev2", "OpenStack Shared File Systems", 8786, "/v2"),
    "masakari": KnownService("instance-ha", "OpenStack Instance HA", 15868, "/v1/%(tenant_id)s"),
    "mistral": KnownService("workflowv2", "OpenStack Workflow", 8989, "/v2"),
    "trove": KnownService("database", "OpenStack Database", 8779, "/v1.0/%(tenant_id)s"),
    "zaqar": KnownService("messaging", "OpenStack Messaging", 8888),
    "watcher": KnownService("infra-optim", "OpenStack Infrastructure Optimization", 9322),
    "cloudkitty": KnownService("rating", "OpenStack Rating", 8889),
}
