"""Read Keystone's state, plan the difference, apply it: the reconcile.

``register_service`` and ``ensure_service_user`` are what a maintainer
script calls. Each reads what Keystone holds, computes the changes with
``plan`` (pure), and, unless it is a dry run, applies them in order through
the one client. Running either again changes nothing; after a failure,
running it again finishes the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import log
from .client import KeystoneClient, KeystoneError
from .model import Interface, ServiceSpec, ServiceUserSpec
from .plan import Action, CatalogState, Change, EndpointRecord, UserState, plan_catalog, plan_user


@dataclass(frozen=True)
class Report:
    """What a reconcile found to do and whether it did it."""

    changes: tuple[Change, ...]
    applied: bool

    def lines(self) -> list[str]:
        """One line per change, as a dry run or a run prints them."""
        verb = "" if self.applied else "would "
        return [f"{verb}{change}" for change in self.changes] or ["nothing to change"]


def register_service(client: KeystoneClient, spec: ServiceSpec, *, dry_run: bool = False) -> Report:
    """Make the catalog hold ``spec``: region, service, three endpoints."""
    state = read_catalog(client, spec)
    changes = plan_catalog(spec, state)
    if not dry_run:
        _apply_catalog(client, spec, state, changes)
    return Report(changes, applied=not dry_run)


def ensure_service_user(client: KeystoneClient, spec: ServiceUserSpec, *, dry_run: bool = False) -> Report:
    """Make Keystone hold the service user of ``spec``, its password and roles."""
    state = read_user(client, spec)
    changes = plan_user(spec, state)
    if not dry_run:
        _apply_user(client, spec, state, changes)
    return Report(changes, applied=not dry_run)


def ensure_project(client: KeystoneClient, name: str, domain: str, description: str = "") -> bool:
    """Create the project ``name`` in ``domain`` if missing; True if created."""
    domain = domain_id(client, domain)
    if _find(client, "projects", {"name": name, "domain_id": domain}) is not None:
        return False
    with log.step(f"Creating project {name}"):
        client.post("/projects", {"project": {"name": name, "domain_id": domain, "description": description}})
    return True


def ensure_role(client: KeystoneClient, name: str) -> bool:
    """Create the global role ``name`` if missing; True if created."""
    if _find(client, "roles", {"name": name}) is not None:
        return False
    create_role(client, name)
    return True


def ensure_roles(client: KeystoneClient, names: tuple[str, ...]) -> list[str]:
    """Create each global role of ``names`` that is missing; return those created.

    One listing instead of one lookup per role (Debian's keystone makes
    fifteen). A name found only in another case is looked up by name as
    ``ensure_role`` does, so the database decides as before (MariaDB's
    comparison ignores case, SQLite's does not); so is every name when
    Keystone truncates the list (``[DEFAULT] list_limit``).
    """
    listing = client.get("/roles")
    if listing.get("truncated"):
        return [name for name in names if ensure_role(client, name)]
    found = {str(role["name"]) for role in listing.get("roles", [])}
    folded = {name.casefold() for name in found}
    created = []
    for name in names:
        if name in found:
            continue
        if name.casefold() in folded:
            if ensure_role(client, name):
                created.append(name)
            continue
        create_role(client, name)
        created.append(name)
    return created


def create_role(client: KeystoneClient, name: str) -> None:
    """Create the global role ``name``."""
    with log.step(f"Creating role {name}"):
        client.post("/roles", {"role": {"name": name}})


# -- reading ---------------------------------------------------------------


def read_catalog(client: KeystoneClient, spec: ServiceSpec) -> CatalogState:
    """Keystone's region, service (by name and type) and endpoints for ``spec``."""
    region_exists = client.exists(f"/regions/{spec.region}")
    services = client.get("/services", {"type": spec.type}).get("services", [])
    matching = [service for service in services if service.get("name") == spec.name]
    if not matching:
        return CatalogState(region_exists)
    service_id = str(matching[0]["id"])
    found = client.get("/endpoints", {"service_id": service_id}).get("endpoints", [])
    endpoints = tuple(
        EndpointRecord(
            str(e["id"]), Interface(e["interface"]), str(e.get("region_id") or e.get("region")), e["url"]
        )
        for e in found
        if e.get("interface") in tuple(Interface)
    )
    return CatalogState(region_exists, service_id, endpoints)


def read_user(client: KeystoneClient, spec: ServiceUserSpec) -> UserState:
    """Keystone's domains, project, user, password check and role assignments for ``spec``."""
    user_domain = domain_id(client, spec.user_domain)
    same = spec.project_domain == spec.user_domain
    project_domain = user_domain if same else domain_id(client, spec.project_domain)
    project = _find(client, "projects", {"name": spec.project, "domain_id": project_domain})
    user = _find(client, "users", {"name": spec.username, "domain_id": user_domain})
    role_ids: dict[str, str | None] = {}
    for role in spec.roles:
        found = _find(client, "roles", {"name": role})
        role_ids[role] = None if found is None else str(found["id"])
    project_id = None if project is None else str(project["id"])
    if user is None:
        return UserState(user_domain, project_domain, project_id, None, False, role_ids)
    user_id = str(user["id"])
    password_ok = client.password_works(user_id, spec.password)
    assigned: frozenset[str] = frozenset()
    if project_id is not None:
        query = {"user.id": user_id, "scope.project.id": project_id}
        assignments = client.get("/role_assignments", query).get("role_assignments", [])
        assigned = frozenset(str(a["role"]["id"]) for a in assignments)
    return UserState(user_domain, project_domain, project_id, user_id, password_ok, role_ids, assigned)


def domain_id(client: KeystoneClient, name: str) -> str:
    """The id of the domain ``name``; domains are never created here."""
    found = _find(client, "domains", {"name": name})
    if found is None:
        raise KeystoneError(
            f'Keystone at {client.credentials.auth_url} has no domain "{name}".',
            hint="create the domain first, or use Default.",
        )
    return str(found["id"])


def _title(change: Change) -> str:
    """The change as a step title: capitalized, names and URLs kept as they are."""
    text = str(change)
    return text[:1].upper() + text[1:]


def _find(client: KeystoneClient, collection: str, query: dict[str, str]) -> dict[str, Any] | None:
    items = client.get(f"/{collection}", query).get(collection, [])
    return items[0] if items else None


# -- applying --------------------------------------------------------------


def _apply_catalog(
    client: KeystoneClient, spec: ServiceSpec, state: CatalogState, changes: tuple[Change, ...]
) -> None:
    service_id = state.service_id
    for change in changes:
        with log.step(_title(change)):
            if change.action is Action.CREATE_REGION:
                client.post("/regions", {"region": {"id": spec.region}})
            elif change.action is Action.CREATE_SERVICE:
                body = {
                    "name": spec.name,
                    "type": spec.type,
                    "description": spec.description,
                    "enabled": True,
                }
                service_id = str(client.post("/services", {"service": body})["service"]["id"])
            elif change.action is Action.CREATE_ENDPOINT:
                body = {
                    "service_id": service_id,
                    "interface": str(change.interface),
                    "region_id": spec.region,
                }
                client.post("/endpoints", {"endpoint": {**body, "url": change.url, "enabled": True}})
            elif change.action is Action.UPDATE_ENDPOINT:
                client.patch(f"/endpoints/{change.endpoint_id}", {"endpoint": {"url": change.url}})


def _apply_user(
    client: KeystoneClient, spec: ServiceUserSpec, state: UserState, changes: tuple[Change, ...]
) -> None:
    project_id, user_id = state.project_id, state.user_id
    role_ids = dict(state.role_ids)
    for change in changes:
        with log.step(_title(change)):
            if change.action is Action.CREATE_PROJECT:
                body = {
                    "name": spec.project,
                    "domain_id": state.project_domain_id,
                    "description": "Service project",
                }
                project_id = str(client.post("/projects", {"project": body})["project"]["id"])
            elif change.action is Action.CREATE_USER:
                body = {"name": spec.username, "domain_id": state.user_domain_id, "password": spec.password}
                user_id = str(client.post("/users", {"user": {**body, "enabled": True}})["user"]["id"])
            elif change.action is Action.UPDATE_PASSWORD:
                client.patch(f"/users/{user_id}", {"user": {"password": spec.password}})
            elif change.action is Action.CREATE_ROLE:
                role_ids[change.target] = str(
                    client.post("/roles", {"role": {"name": change.target}})["role"]["id"]
                )
            elif change.action is Action.ASSIGN_ROLE:
                client.put(f"/projects/{project_id}/users/{user_id}/roles/{role_ids[change.target]}")
