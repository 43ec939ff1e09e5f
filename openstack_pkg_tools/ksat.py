"""``[keystone_authtoken]``: what keystonemiddleware needs to check tokens.

``write_authtoken`` makes a service's config file hold the section the
password auth plugin reads, and migrates the directives of older releases
(``admin_user``, ``admin_tenant_name``, ``admin_password``, ``auth_uri``,
``auth_host``, ``auth_protocol``, ``auth_port``) so that no stale value is
left for keystonemiddleware to warn about or, worse, prefer.
``names_of`` gives a directive's legacy names too, for the seeding of
debconf's questions from the current values (``maintscript/seeding.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .inifile import IniFile, oslo_literal
from .keystone.model import DEFAULT_DOMAIN, DEFAULT_REGION, check_region, check_url

SECTION = "keystone_authtoken"
# Old name -> current name.
RENAMED = {
    "admin_user": "username",
    "admin_tenant_name": "project_name",
    "admin_password": "password",
    "auth_uri": "www_authenticate_uri",
}
# Pieces of the old auth URL, replaced by auth_url as a whole.
OBSOLETE = ("auth_host", "auth_protocol", "auth_port")


@dataclass(frozen=True)
class AuthToken:
    """The values of ``[keystone_authtoken]`` for one service."""

    www_authenticate_uri: str
    auth_url: str
    username: str
    password: str = field(repr=False)
    project_name: str = "service"
    region_name: str = DEFAULT_REGION
    user_domain_name: str = DEFAULT_DOMAIN
    project_domain_name: str = DEFAULT_DOMAIN
    memcached_servers: str = ""

    def __post_init__(self) -> None:
        check_url(self.www_authenticate_uri)
        check_url(self.auth_url)
        check_region(self.region_name)

    def directives(self) -> list[tuple[str, str]]:
        """(key, value) pairs in the order they are written."""
        pairs = [
            ("www_authenticate_uri", self.www_authenticate_uri),
            ("auth_url", self.auth_url),
            ("auth_type", "password"),
            ("region_name", self.region_name),
            ("project_domain_name", self.project_domain_name),
            ("user_domain_name", self.user_domain_name),
            ("project_name", self.project_name),
            ("username", self.username),
            ("password", self.password),
        ]
        if self.memcached_servers:
            pairs.append(("memcached_servers", self.memcached_servers))
        return pairs


def names_of(key: str) -> tuple[str, ...]:
    """``key`` and the legacy names that held its value, current name first."""
    return (key, *(old for old, new in RENAMED.items() if new == key))


def migrate_legacy(conf: IniFile, section: str = SECTION) -> list[str]:
    """Move legacy directives to their current names; return the old names seen."""
    seen = [old for old, new in RENAMED.items() if conf.rename(section, old, section, new)]
    seen += [old for old in OBSOLETE if conf.comment_out(section, old)]
    return seen


def write_authtoken(path: str, values: AuthToken, section: str = SECTION) -> bool:
    """Make ``path``'s ``[keystone_authtoken]`` hold ``values``; True if written.

    ``section`` is another name for it, for a service that reads these
    options elsewhere (a paste filter section such as ``filter:authtoken``).
    The file is written once, atomically, and only when its content
    changes; its owner and mode are kept (it holds a password: Debian's
    packages install it 0640 root:<service>).
    """
    with IniFile(path) as conf:
        migrate_legacy(conf, section)
        for key, value in values.directives():
            # Literal values: oslo.config would take "$x" in a password for
            # a reference to another option.
            conf.set(section, key, oslo_literal(value))
        return conf.save()
