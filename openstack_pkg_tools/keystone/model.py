"""What the Keystone reconcile is asked for: typed inputs, checked on creation.

Every value is validated when its dataclass is built, so bad input (a region
name Keystone would refuse, an endpoint URL with an unbracketed IPv6
address) is refused before the first request is sent.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from enum import StrEnum

from ..errors import InvalidValueError
from ..urls import check_host, redact_url

# The pattern Debian's packages have always checked region names against.
# The patterns are used with fullmatch: "$" would match before a trailing newline.
REGION_PATTERN = re.compile(r"[_a-zA-Z0-9][_.a-zA-Z0-9-]*[_.a-zA-Z0-9]")
# Service names and types: what the catalog uses (image, volumev3, key-manager).
NAME_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
# The substitutions Keystone fills in an endpoint URL; kept as they are.
_URL_TEMPLATE = re.compile(r"%\((?:project_id|tenant_id|user_id)\)s")
DEFAULT_DOMAIN = "Default"


class Interface(StrEnum):
    """The three interfaces of a catalog endpoint."""

    PUBLIC = "public"
    INTERNAL = "internal"
    ADMIN = "admin"


# The region a setting gets when nobody names one: Debian's templates' regionOne,
# the same in the debconf questions, [keystone_authtoken], the bootstrap and pkgos.
DEFAULT_REGION = "regionOne"


def check_region(region: str) -> str:
    """Return ``region`` if Keystone and Debian's packages accept it as a name."""
    if not REGION_PATTERN.fullmatch(region):
        raise InvalidValueError(
            f"Invalid region name {region!r}.",
            hint="use letters, digits, '_', '.' and '-' (at least two characters), e.g. regionOne.",
        )
    return region


def check_name(kind: str, name: str) -> str:
    """Return ``name`` if it is a usable service name or type (``kind`` says which)."""
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidValueError(
            f"Invalid {kind} {name!r}.",
            hint=f"use letters, digits, '_', '.' and '-' for the {kind}, e.g. glance or image.",
        )
    return name


def endpoint_url(proto: str, host: str, port: int | None = None, path: str = "") -> str:
    """Build ``proto://host:port/path``, with an IPv6 host in brackets."""
    host = check_host(host.strip("[]"))
    shown = f"[{host}]" if ":" in host else host
    netloc = shown if port is None else f"{shown}:{port}"
    if path and not path.startswith("/"):
        path = "/" + path
    return check_url(f"{proto}://{netloc}{path}")


def check_url(url: str) -> str:
    """Return ``url`` if it is a usable endpoint URL, else say what is wrong."""

    def refuse(problem: str, hint: str) -> InvalidValueError:
        # A URL given with user:password@ is quoted without the password.
        return InvalidValueError(f"Invalid endpoint URL {redact_url(url)!r}: {problem}.", hint=hint)

    example = "e.g. http://192.0.2.10:9292, https://[2001:db8::10]:8776/v3/%(project_id)s"
    try:
        parts = urllib.parse.urlsplit(_URL_TEMPLATE.sub("", url))
    except ValueError as error:  # "Invalid IPv6 URL": a bracket without its pair
        raise refuse(str(error), example) from None
    if parts.scheme not in ("http", "https"):
        raise refuse("the scheme must be http or https", example)
    if "@" in parts.netloc:
        raise refuse("it must not hold a user name or password", example)
    if parts.netloc.count(":") > 1 and not parts.netloc.startswith("["):
        raise refuse("an IPv6 address must be in brackets", example)
    if parts.query or parts.fragment:
        raise refuse("it must not have a query or fragment", example)
    try:
        port = parts.port
    except ValueError as error:
        raise refuse(str(error), f"give a port from 1 to 65535 ({example}).") from None
    if port == 0:
        raise refuse("port 0", example)
    try:
        check_host(parts.hostname or "")
    except InvalidValueError as error:
        raise refuse(error.message.rstrip("."), error.hint) from None
    return url


@dataclass(frozen=True)
class Endpoints:
    """The URLs of a service's public, internal and admin endpoints."""

    public: str
    internal: str
    admin: str

    def __post_init__(self) -> None:
        for _interface, url in self.items():
            check_url(url)

    @classmethod
    def same(cls, url: str) -> Endpoints:
        """One URL for all three interfaces."""
        return cls(url, url, url)

    def items(self) -> tuple[tuple[Interface, str], ...]:
        """(interface, URL) pairs in the order public, internal, admin."""
        return (
            (Interface.PUBLIC, self.public),
            (Interface.INTERNAL, self.internal),
            (Interface.ADMIN, self.admin),
        )


@dataclass(frozen=True)
class ServiceSpec:
    """A catalog entry: the service, its region and its three endpoints."""

    name: str
    type: str
    endpoints: Endpoints
    region: str = DEFAULT_REGION
    description: str = ""

    def __post_init__(self) -> None:
        check_name("service name", self.name)
        check_name("service type", self.type)
        check_region(self.region)


@dataclass(frozen=True)
class ServiceUserSpec:
    """A service's own Keystone user, its project and its roles there."""

    username: str
    password: str = field(repr=False)
    project: str = "service"
    roles: tuple[str, ...] = ("service",)
    user_domain: str = DEFAULT_DOMAIN
    project_domain: str = DEFAULT_DOMAIN

    def __post_init__(self) -> None:
        if not self.username or not self.project or not self.roles:
            raise InvalidValueError(
                f"Incomplete service user {self.username!r}: a user name, a project and a role are needed.",
                hint="give the user name, the project (default service) and a role (default service).",
            )
        if not self.password:
            raise InvalidValueError(
                f"No password for the service user {self.username!r}.",
                hint="pass the password on stdin or in a 0600 file.",
            )


@dataclass(frozen=True)
class AdminCredentials:
    """How the reconcile authenticates: a Keystone v3 user scoped to a project."""

    auth_url: str
    username: str
    password: str = field(repr=False)
    project_name: str = "admin"
    user_domain_name: str = DEFAULT_DOMAIN
    project_domain_name: str = DEFAULT_DOMAIN
    cacert: str | None = None

    def __post_init__(self) -> None:
        check_url(self.auth_url)
        if not self.username or not self.password or not self.project_name:
            raise InvalidValueError(
                f"Incomplete Keystone admin credentials for {redact_url(self.auth_url)}: "
                "a user name, a password and a project are needed.",
                hint="set OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME, or name a cloud in clouds.yaml.",
            )

    @property
    def identity_v3(self) -> str:
        """The auth URL ending in /v3 (so no version discovery request is needed)."""
        base = self.auth_url.rstrip("/")
        return base if base.endswith("/v3") else base + "/v3"

    def who(self) -> str:
        """The user, project and URL, for error messages (never the password)."""
        return (
            f'user "{self.username}" (domain "{self.user_domain_name}", project "{self.project_name}") '
            f"at {redact_url(self.auth_url)}"
        )
