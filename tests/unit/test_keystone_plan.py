"""The reconcile's planner: the exact writes for each state of Keystone."""

from __future__ import annotations

from openstack_pkg_tools.keystone import (
    Action,
    CatalogState,
    EndpointRecord,
    Endpoints,
    Interface,
    ServiceSpec,
    ServiceUserSpec,
    UserState,
    plan_catalog,
    plan_user,
)
from openstack_pkg_tools.keystone.reconcile import Report

SPEC = ServiceSpec(
    "nova",
    "compute",
    Endpoints(
        "https://cloud.example.org:8774/v2.1",
        "http://192.0.2.10:8774/v2.1",
        "http://[2001:db8::10]:8774/v2.1",
    ),
    region="RegionTwo",
)
CURRENT = (
    EndpointRecord("e1", Interface.PUBLIC, "RegionTwo", SPEC.endpoints.public),
    EndpointRecord("e2", Interface.INTERNAL, "RegionTwo", SPEC.endpoints.internal),
    EndpointRecord("e3", Interface.ADMIN, "RegionTwo", SPEC.endpoints.admin),
)


def test_fresh_keystone_gets_region_service_and_three_endpoints() -> None:
    changes = plan_catalog(SPEC, CatalogState(region_exists=False))
    assert [change.action for change in changes] == [
        Action.CREATE_REGION,
        Action.CREATE_SERVICE,
        Action.CREATE_ENDPOINT,
        Action.CREATE_ENDPOINT,
        Action.CREATE_ENDPOINT,
    ]
    assert [(c.interface, c.url) for c in changes[2:]] == list(SPEC.endpoints.items())


def test_nothing_to_do_when_everything_is_there() -> None:
    assert plan_catalog(SPEC, CatalogState(True, "s1", CURRENT)) == ()


def test_changed_url_is_one_update_of_that_endpoint() -> None:
    old = EndpointRecord("e2", Interface.INTERNAL, "RegionTwo", "http://192.0.2.99:8774/v2.1")
    (change,) = plan_catalog(SPEC, CatalogState(True, "s1", (CURRENT[0], old, CURRENT[2])))
    assert (change.action, change.endpoint_id, change.url) == (
        Action.UPDATE_ENDPOINT,
        "e2",
        SPEC.endpoints.internal,
    )
    assert (
        str(change)
        == f"update endpoint nova internal (http://192.0.2.99:8774/v2.1 -> {SPEC.endpoints.internal})"
    )


def test_missing_endpoint_is_one_create() -> None:
    (change,) = plan_catalog(SPEC, CatalogState(True, "s1", CURRENT[:2]))
    assert (change.action, change.interface) == (Action.CREATE_ENDPOINT, Interface.ADMIN)


def test_endpoints_of_other_regions_are_left_alone() -> None:
    elsewhere = tuple(EndpointRecord("x" + e.id, e.interface, "RegionOne", "http://old:1") for e in CURRENT)
    changes = plan_catalog(SPEC, CatalogState(True, "s1", elsewhere + CURRENT))
    assert changes == ()


def test_duplicates_left_by_older_tools_are_not_duplicated_again() -> None:
    dup = EndpointRecord("e9", Interface.PUBLIC, "RegionTwo", "http://stale:1")
    assert plan_catalog(SPEC, CatalogState(True, "s1", (dup, *CURRENT))) == ()


USER = ServiceUserSpec("nova", "pw", roles=("service", "admin"))
ROLES = {"service": "r-s", "admin": "r-a"}


def test_new_user_is_created_and_given_its_roles() -> None:
    state = UserState("default", "default", "p1", None, False, ROLES)
    assert [(c.action, c.target) for c in plan_user(USER, state)] == [
        (Action.CREATE_USER, "nova"),
        (Action.ASSIGN_ROLE, "service"),
        (Action.ASSIGN_ROLE, "admin"),
    ]


def test_settled_user_needs_nothing() -> None:
    state = UserState("default", "default", "p1", "u1", True, ROLES, frozenset({"r-s", "r-a"}))
    assert plan_user(USER, state) == ()


def test_changed_password_and_missing_role() -> None:
    state = UserState(
        "default", "default", "p1", "u1", False, {"service": None, "admin": "r-a"}, frozenset({"r-a"})
    )
    assert [(c.action, c.target) for c in plan_user(USER, state)] == [
        (Action.UPDATE_PASSWORD, "nova"),
        (Action.CREATE_ROLE, "service"),
        (Action.ASSIGN_ROLE, "service"),
    ]


def test_missing_project_is_created_first() -> None:
    state = UserState("default", "default", None, "u1", True, ROLES, frozenset())
    changes = plan_user(ServiceUserSpec("nova", "pw"), state)
    assert [c.action for c in changes] == [Action.CREATE_PROJECT, Action.ASSIGN_ROLE]


def test_report_lines_say_would_on_a_dry_run() -> None:
    changes = plan_catalog(SPEC, CatalogState(True, "s1", CURRENT[:2]))
    assert Report(changes, applied=False).lines() == [
        f"would create endpoint nova admin ({SPEC.endpoints.admin})"
    ]
    assert Report((), applied=True).lines() == ["nothing to change"]
