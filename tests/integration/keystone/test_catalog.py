"""Registering services in a real Keystone: create, re-run, repair, update."""

from __future__ import annotations

from typing import Any

from openstack_pkg_tools.keystone import (
    Action,
    Endpoints,
    KeystoneClient,
    ServiceSpec,
    endpoint_url,
    register_service,
)
from tests.servers.keystone import KeystoneServer

FOUR = [
    ServiceSpec(
        "glance",
        "image",
        Endpoints("https://cloud.example.org:9292", "http://192.0.2.10:9292", "http://10.0.0.10:9292"),
    ),
    ServiceSpec(
        "nova",
        "compute",
        Endpoints(
            "https://cloud.example.org:8774/v2.1", "http://192.0.2.10:8774/v2.1", "http://10.0.0.10:8774/v2.1"
        ),
    ),
    ServiceSpec(
        "cinder",
        "volumev3",
        Endpoints.same("http://192.0.2.10:8776/v3/%(project_id)s"),
        description="OpenStack Block Storage",
    ),
    ServiceSpec("placement", "placement", Endpoints.same("http://controller.example.org:8778")),
]


def catalog_of(client: KeystoneClient, spec: ServiceSpec) -> dict[str, list[str]]:
    """interface -> URLs of ``spec``'s service in its region, as Keystone holds them."""
    services = [s for s in client.get("/services", {"type": spec.type})["services"] if s["name"] == spec.name]
    assert len(services) == 1, f"{spec.name}: {len(services)} services"
    endpoints: list[dict[str, Any]] = client.get("/endpoints", {"service_id": services[0]["id"]})["endpoints"]
    found: dict[str, list[str]] = {}
    for endpoint in endpoints:
        if endpoint["region_id"] == spec.region:
            found.setdefault(endpoint["interface"], []).append(endpoint["url"])
    return found


def expected(spec: ServiceSpec) -> dict[str, list[str]]:
    return {str(interface): [url] for interface, url in spec.endpoints.items()}


def test_register_four_services_then_rerun_writes_nothing(keystone: KeystoneServer) -> None:
    first = KeystoneClient(keystone.credentials())
    for spec in FOUR:
        report = register_service(first, spec)
        assert [c.action for c in report.changes] == [Action.CREATE_SERVICE] + [Action.CREATE_ENDPOINT] * 3
    assert first.counts.writes == 4 * 4
    check = KeystoneClient(keystone.credentials())
    for spec in FOUR:
        assert catalog_of(check, spec) == expected(spec)

    again = KeystoneClient(keystone.credentials())
    for spec in FOUR:
        assert register_service(again, spec).changes == ()
    assert again.counts.writes == 0
    assert again.counts.reads > 0


def test_changed_url_is_exactly_one_update(keystone: KeystoneServer, client: KeystoneClient) -> None:
    spec = ServiceSpec("pkgostest-urls", "pkgostest-urls", Endpoints.same("http://192.0.2.20:9000"))
    register_service(client, spec)
    moved = ServiceSpec(
        spec.name,
        spec.type,
        Endpoints("http://192.0.2.20:9000", "http://192.0.2.21:9000", "http://192.0.2.20:9000"),
    )
    after = KeystoneClient(keystone.credentials())
    report = register_service(after, moved)
    assert [(c.action, str(c.interface)) for c in report.changes] == [(Action.UPDATE_ENDPOINT, "internal")]
    assert after.counts.writes == 1
    assert catalog_of(after, moved) == expected(moved)


def test_endpoint_deleted_by_hand_is_created_exactly_once(
    keystone: KeystoneServer, client: KeystoneClient
) -> None:
    spec = ServiceSpec("pkgostest-repair", "pkgostest-repair", Endpoints.same("http://192.0.2.30:9001"))
    register_service(client, spec)
    service = client.get("/services", {"type": spec.type})["services"][0]
    admin = [
        e
        for e in client.get("/endpoints", {"service_id": service["id"]})["endpoints"]
        if e["interface"] == "admin"
    ]
    client.request("DELETE", f"/endpoints/{admin[0]['id']}")
    repair = KeystoneClient(keystone.credentials())
    report = register_service(repair, spec)
    assert [(c.action, str(c.interface)) for c in report.changes] == [(Action.CREATE_ENDPOINT, "admin")]
    assert repair.counts.writes == 1
    assert catalog_of(repair, spec) == expected(spec)


def test_half_registered_service_is_finished_by_a_rerun(client: KeystoneClient) -> None:
    # What an interrupted run leaves: the service, one endpoint, in a new region.
    spec = ServiceSpec(
        "pkgostest-half", "pkgostest-half", Endpoints.same("http://192.0.2.31:9002"), region="RegionHalf"
    )
    client.post("/regions", {"region": {"id": "RegionHalf"}})
    service = client.post("/services", {"service": {"name": spec.name, "type": spec.type}})["service"]
    body = {
        "service_id": service["id"],
        "interface": "public",
        "region_id": "RegionHalf",
        "url": spec.endpoints.public,
    }
    client.post("/endpoints", {"endpoint": body})
    report = register_service(client, spec)
    assert [str(c.interface) for c in report.changes] == ["internal", "admin"]
    assert catalog_of(client, spec) == expected(spec)


def test_ipv6_endpoints_and_a_new_region(keystone: KeystoneServer, client: KeystoneClient) -> None:
    url = endpoint_url("http", "2001:db8::5", 9696)
    assert url == "http://[2001:db8::5]:9696"
    spec = ServiceSpec("pkgostest-v6", "network", Endpoints.same(url), region="RegionSix")
    report = register_service(client, spec)
    assert report.changes[0].action == Action.CREATE_REGION
    assert catalog_of(client, spec) == expected(spec)
    assert register_service(KeystoneClient(keystone.credentials()), spec).changes == ()


def test_dry_run_writes_nothing(keystone: KeystoneServer, client: KeystoneClient) -> None:
    spec = ServiceSpec("pkgostest-dry", "pkgostest-dry", Endpoints.same("http://192.0.2.40:9003"))
    report = register_service(client, spec, dry_run=True)
    assert report.lines()[0] == "would create service pkgostest-dry (type pkgostest-dry)"
    assert len(report.changes) == 4
    assert client.counts.writes == 0
    assert client.get("/services", {"type": spec.type})["services"] == []
