"""The debconf questions of the shared template families, and which package asks which.

The names, types and defaults are in ``templates/*.templates.j2``; this is
the order they are asked in, their priorities, and the answers some of them
depend on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from .debconf import Priority
from .profile import ServiceProfile


class Family(StrEnum):
    """The shared template families (see ``pkgos merge-templates``)."""

    DB = "db"
    RABBIT = "rabbit"
    KSAT = "ksat"
    ENDPOINT = "endpoint"


@dataclass(frozen=True)
class Question:
    """One question of a family: its name after ``<prefix>/``, its priority, and when it applies."""

    name: str
    priority: Priority = Priority.MEDIUM
    only_if: Condition | None = None


class Condition(StrEnum):
    """Earlier answers a question depends on."""

    REMOTE_DB = "remote-db"  # the database server is not this machine
    CREATES_USER = "creates-user"  # postinst creates the service user in Keystone


LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")


def holds(condition: Condition, answer: Callable[[str], str]) -> bool:
    """Whether ``condition`` holds, given the answers so far (by name without prefix)."""
    if condition is Condition.REMOTE_DB:
        return answer("db-type") != "sqlite" and answer("db-host").strip() not in LOCAL_HOSTS
    return answer("ksat-create-service-user") == "true"


# The yes/no question that opens each family; the others are asked only after a yes.
SWITCHES = {
    Family.DB: "configure_db",
    Family.RABBIT: "configure_rabbit",
    Family.KSAT: "configure_ksat",
    Family.ENDPOINT: "configure_api-endpoint",
}

DETAILS: Mapping[Family, tuple[Question, ...]] = {
    Family.DB: (
        Question("db-type", Priority.HIGH),
        Question("db-host", Priority.HIGH),
        Question("db-name"),
        Question("db-user"),
        Question("db-password", Priority.HIGH),
        Question("db-admin-user", Priority.MEDIUM, Condition.REMOTE_DB),
        Question("db-admin-password", Priority.HIGH, Condition.REMOTE_DB),
    ),
    Family.RABBIT: (
        Question("rabbit-host", Priority.HIGH),
        Question("rabbit-userid", Priority.HIGH),
        Question("rabbit-password", Priority.HIGH),
    ),
    Family.KSAT: (
        Question("ksat-public-url", Priority.HIGH),
        Question("ksat-region"),
        Question("ksat-service-username"),
        Question("ksat-service-project-name"),
        Question("ksat-service-password", Priority.HIGH),
        Question("ksat-create-service-user"),
        Question("ksat-admin-username", Priority.MEDIUM, Condition.CREATES_USER),
        Question("ksat-admin-project-name", Priority.MEDIUM, Condition.CREATES_USER),
        Question("ksat-admin-password", Priority.HIGH, Condition.CREATES_USER),
    ),
    Family.ENDPOINT: (
        Question("api-keystone-address", Priority.HIGH),
        Question("api-keystone-proto"),
        Question("api-keystone-admin-username", Priority.LOW),
        Question("api-keystone-admin-project-name", Priority.LOW),
        Question("api-keystone-admin-password", Priority.HIGH),
        Question("api-endpoint-address", Priority.HIGH),
        Question("api-endpoint-proto"),
        Question("api-endpoint-region-name"),
        Question("api-endpoint-public-url", Priority.LOW),
        Question("api-endpoint-internal-url", Priority.LOW),
        Question("api-endpoint-admin-url", Priority.LOW),
    ),
}

# Used once by postinst, then wiped from the debconf database.
VOLATILE_SECRETS = ("db-admin-password", "ksat-admin-password", "api-keystone-admin-password")
PURGE_DB = "purge-db"


def families(profile: ServiceProfile, package: str) -> tuple[Family, ...]:
    """The question families ``package``'s scripts handle."""
    common = package == profile.package
    wanted = [
        (Family.DB, common and bool(profile.databases)),
        (Family.RABBIT, common and profile.messaging is not None),
        (Family.KSAT, common and profile.authtoken is not None),
        (Family.ENDPOINT, bool(profile.catalog_for(package))),
    ]
    return tuple(family for family, needed in wanted if needed)
