"""The difference between what is wanted in Keystone and what it has.

Pure functions: they take the desired state and a snapshot of Keystone's
state (read beforehand), and return the changes to make, in order. Nothing
here sends a request, so every case is testable without a server, and a
dry run prints exactly what a real run would do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .model import Interface, ServiceSpec, ServiceUserSpec


class Action(StrEnum):
    """The closed set of changes the reconcile can make."""

    CREATE_REGION = "create region"
    CREATE_SERVICE = "create service"
    CREATE_ENDPOINT = "create endpoint"
    UPDATE_ENDPOINT = "update endpoint"
    CREATE_PROJECT = "create project"
    CREATE_USER = "create user"
    UPDATE_PASSWORD = "update password of user"  # noqa: S105 (a label, not a password)
    CREATE_ROLE = "create role"
    ASSIGN_ROLE = "assign role"


@dataclass(frozen=True)
class Change:
    """One write to Keystone: the action, the object it acts on, details."""

    action: Action
    target: str
    detail: str = ""
    interface: Interface | None = None
    url: str = ""
    endpoint_id: str = ""

    def __str__(self) -> str:
        text = f"{self.action} {self.target}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class EndpointRecord:
    """An endpoint as Keystone holds it."""

    id: str
    interface: Interface
    region: str
    url: str


@dataclass(frozen=True)
class CatalogState:
    """What Keystone holds for one service: region, service, its endpoints."""

    region_exists: bool
    service_id: str | None = None
    endpoints: tuple[EndpointRecord, ...] = ()


@dataclass(frozen=True)
class UserState:
    """What Keystone holds for one service user.

    ``role_ids`` maps each wanted role name to its id (None when missing);
    ``assigned`` holds the role ids the user has on the project.
    """

    user_domain_id: str
    project_domain_id: str
    project_id: str | None
    user_id: str | None
    password_ok: bool
    role_ids: Mapping[str, str | None]
    assigned: frozenset[str] = frozenset()


def plan_catalog(spec: ServiceSpec, state: CatalogState) -> tuple[Change, ...]:
    """The writes that make Keystone's catalog hold ``spec``, and no more."""
    changes: list[Change] = []
    if not state.region_exists:
        changes.append(Change(Action.CREATE_REGION, spec.region))
    if state.service_id is None:
        changes.append(Change(Action.CREATE_SERVICE, spec.name, f"type {spec.type}"))
    for interface, url in spec.endpoints.items():
        target = f"{spec.name} {interface}"
        current = [e for e in state.endpoints if e.interface == interface and e.region == spec.region]
        if not current:
            changes.append(Change(Action.CREATE_ENDPOINT, target, url, interface, url))
        elif all(endpoint.url != url for endpoint in current):
            # Of several (left by older tools), the first is kept up to date.
            endpoint = current[0]
            changes.append(
                Change(
                    Action.UPDATE_ENDPOINT, target, f"{endpoint.url} -> {url}", interface, url, endpoint.id
                )
            )
    return tuple(changes)


def plan_user(spec: ServiceUserSpec, state: UserState) -> tuple[Change, ...]:
    """The writes that give Keystone the service user of ``spec``."""
    changes: list[Change] = []
    if state.project_id is None:
        changes.append(Change(Action.CREATE_PROJECT, spec.project, f"domain {spec.project_domain}"))
    if state.user_id is None:
        changes.append(Change(Action.CREATE_USER, spec.username, f"domain {spec.user_domain}"))
    elif not state.password_ok:
        changes.append(Change(Action.UPDATE_PASSWORD, spec.username))
    fresh = state.user_id is None or state.project_id is None
    for role in spec.roles:
        role_id = state.role_ids.get(role)
        if role_id is None:
            changes.append(Change(Action.CREATE_ROLE, role))
        if fresh or role_id is None or role_id not in state.assigned:
            changes.append(Change(Action.ASSIGN_ROLE, role, f"to {spec.username} on project {spec.project}"))
    return tuple(changes)
