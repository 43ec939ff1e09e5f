"""Keystone's own bootstrap, for the keystone package's postinst.

Each step is a plain function that a maintainer script can call on its own,
and each is idempotent:

* ``db_sync``: ``keystone-manage db_sync`` (changes nothing when the schema
  is current);
* ``setup_fernet_keys`` / ``setup_credential_keys``: create the key
  repositories, owned by the keystone user, only when they hold no key
  (so keys are never rotated or replaced by a re-run). Into an empty
  repository the keys are written directly, as ``keystone-manage
  fernet_setup`` / ``credential_setup`` leave them (``write_initial_keys``
  says why and how); anything else is left to those commands;
* ``bootstrap_admin``: ``keystone-manage bootstrap`` (admin user, project
  and role, the region and the three identity endpoints). The admin password
  reaches it in ``OS_BOOTSTRAP_PASSWORD``, the one variable keystone-manage
  reads it from, never on the command line. Without a password the step is
  skipped and the existing admin password is kept;
* ``ensure_service_project`` and ``ensure_email``: once Keystone serves
  requests, the ``service`` project and the standard roles, and the
  administrator's email, through one client.
"""

from __future__ import annotations

import base64
import grp
import os
import pwd
import secrets
from dataclasses import dataclass, field

from . import fileio, log
from .errors import InvalidValueError, PkgosError
from .inifile import IniFile
from .keystone import (
    Endpoints,
    KeystoneClient,
    RetryPolicy,
    check_region,
    ensure_project,
    ensure_roles,
)
from .keystone.model import DEFAULT_REGION
from .run import run

DEFAULT_CONFIG = "/etc/keystone/keystone.conf"
DEFAULT_FERNET_REPOSITORY = "/etc/keystone/fernet-keys/"
DEFAULT_CREDENTIAL_REPOSITORY = "/etc/keystone/credential-keys/"
# admin, member and reader come with keystone-manage bootstrap; service is
# the role OpenStack's guides give service users.
STANDARD_ROLES = ("admin", "member", "reader", "service")
MANAGE_TIMEOUT = 900.0


@dataclass(frozen=True)
class BootstrapSpec:
    """What the keystone package bootstraps, from its debconf answers."""

    endpoints: Endpoints | None
    config_file: str = DEFAULT_CONFIG
    system_user: str = "keystone"
    system_group: str = "keystone"
    admin_username: str = "admin"
    admin_project: str = "admin"
    admin_role: str = "admin"
    region: str = DEFAULT_REGION
    service_name: str = "keystone"
    extra_env: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        check_region(self.region)
        if not self.admin_username or not self.admin_project or not self.admin_role:
            raise InvalidValueError(
                "Keystone bootstrap needs an admin user name, project and role.",
                hint="answer keystone/admin-user, keystone/admin-tenant-name and keystone/admin-role-name.",
            )


def keystone_manage(spec: BootstrapSpec, *args: str, secret_env: dict[str, str] | None = None) -> None:
    """Run ``keystone-manage ARGS`` as the keystone user with its config file."""
    argv = ["keystone-manage", "--config-file", spec.config_file, *args]
    if pwd.getpwuid(os.getuid()).pw_name != spec.system_user:
        argv = ["runuser", "-u", spec.system_user, "--", *argv]
    env = dict(spec.extra_env)
    env.update(secret_env or {})
    # From / as the keystone user, as the migrations are (dbsync.SERVICE_CWD says why).
    run(argv, env=env, timeout=MANAGE_TIMEOUT, hint=f"see keystone's log and {spec.config_file}.", cwd="/")


def db_sync(spec: BootstrapSpec) -> None:
    """Create or upgrade Keystone's database schema."""
    with log.step("Upgrading Keystone's database (keystone-manage db_sync)"):
        keystone_manage(spec, "db_sync")


def key_repository(spec: BootstrapSpec, section: str, default: str) -> str:
    """The key repository keystone.conf names in ``[section] key_repository``."""
    conf = IniFile(spec.config_file)
    return conf.get(section, "key_repository") or default


def setup_fernet_keys(spec: BootstrapSpec) -> bool:
    """Create the fernet key repository if it holds no key; True if created."""
    repository = key_repository(spec, "fernet_tokens", DEFAULT_FERNET_REPOSITORY)
    # fernet_setup also sets up the receipts' repository when it is another
    # one (both default to DEFAULT_FERNET_REPOSITORY), and a max_active_keys
    # below 2 changes what its first rotation leaves: keys are written
    # directly only with one repository and Keystone's default count.
    conf = IniFile(spec.config_file)
    plain = all(
        os.path.abspath(conf.get(section, "key_repository") or DEFAULT_FERNET_REPOSITORY)
        == os.path.abspath(repository)
        and not conf.get(section, "max_active_keys")
        for section in ("fernet_tokens", "fernet_receipts")
    )
    return _setup_keys(spec, "fernet_setup", repository, direct=plain)


def setup_credential_keys(spec: BootstrapSpec) -> bool:
    """Create the credential key repository if it holds no key; True if created."""
    return _setup_keys(
        spec, "credential_setup", key_repository(spec, "credential", DEFAULT_CREDENTIAL_REPOSITORY)
    )


def _setup_keys(spec: BootstrapSpec, command: str, repository: str, *, direct: bool = True) -> bool:
    # Key 0 is the staged key every repository has once set up.
    if os.path.exists(os.path.join(repository, "0")):
        return False
    with log.step(f"Creating Keystone's key repository {repository}"):
        if not (direct and write_initial_keys(spec, repository)):
            owner = ["--keystone-user", spec.system_user, "--keystone-group", spec.system_group]
            keystone_manage(spec, command, *owner)
    return True


def write_initial_keys(spec: BootstrapSpec, repository: str) -> bool:
    """Write a new repository's keys as ``keystone-manage fernet_setup`` does; False if not done.

    Each of those commands is a Python start of Keystone's code (3 to 5 s
    here) for 88 bytes. What they leave in an empty repository, with
    Keystone's default ``max_active_keys`` (3, and always 3 for credentials):
    key ``0`` (staged) and ``1`` (primary), each ``Fernet.generate_key()``,
    the URL-safe base64 of 32 random bytes with no newline, mode 0600, owned
    by the keystone user and group. Keystone stays the judge: the token of
    the steps that follow the bootstrap is made and checked with these keys.

    Done only into an existing, empty directory of the keystone user that
    nobody else may enter; anything else (a missing repository, a key
    already there, another owner) is left to keystone-manage, which creates
    or refuses it itself. Files are created without following a link, key
    ``0`` last: it marks the repository as set up.
    """
    try:
        owner = (pwd.getpwnam(spec.system_user).pw_uid, grp.getgrnam(spec.system_group).gr_gid)
        directory = fileio.open_directory(repository)
    except (KeyError, PkgosError):
        return False
    try:
        info = os.fstat(directory)
        if info.st_uid != owner[0] or info.st_mode & 0o077 or os.listdir(directory):
            return False
        for name in ("1", "0"):
            fd = fileio.create_file(directory, name, 0o600, owner, os.path.join(repository, name))
            try:
                os.write(fd, base64.urlsafe_b64encode(secrets.token_bytes(32)))
                os.fsync(fd)
            finally:
                os.close(fd)
        os.fsync(directory)
    finally:
        os.close(directory)
    return True


def bootstrap_admin(spec: BootstrapSpec, admin_password: str | None) -> bool:
    """Run ``keystone-manage bootstrap``; skipped (False) without a password."""
    if not admin_password:
        log.info("No admin password given: keeping Keystone's admin user as it is")
        return False
    options = {
        "--bootstrap-username": spec.admin_username,
        "--bootstrap-project-name": spec.admin_project,
        "--bootstrap-role-name": spec.admin_role,
        "--bootstrap-service-name": spec.service_name,
    }
    if spec.endpoints is not None:
        # The region and the identity endpoints only when they are registered.
        options |= {
            "--bootstrap-region-id": spec.region,
            "--bootstrap-public-url": spec.endpoints.public,
            "--bootstrap-internal-url": spec.endpoints.internal,
            "--bootstrap-admin-url": spec.endpoints.admin,
        }
    argv = [item for pair in options.items() for item in pair]
    with log.step(f"Bootstrapping Keystone: admin user {spec.admin_username}, region {spec.region}"):
        keystone_manage(spec, "bootstrap", *argv, secret_env={"OS_BOOTSTRAP_PASSWORD": admin_password})
    return True


def bootstrap(spec: BootstrapSpec, admin_password: str | None) -> None:
    """Every step that needs no running Keystone, in order."""
    db_sync(spec)
    setup_fernet_keys(spec)
    setup_credential_keys(spec)
    bootstrap_admin(spec, admin_password)


# Patient enough for a Keystone the postinst has just started (uwsgi takes
# a few seconds to load it): about 45 s in all.
STARTING = RetryPolicy(attempts=8, first_delay=1.0, factor=1.5)


def ensure_service_project(
    client: KeystoneClient, project: str = "service", roles: tuple[str, ...] = STANDARD_ROLES
) -> list[str]:
    """Create the service project and the standard roles; return what was created."""
    domain = client.credentials.project_domain_name
    created = [f"project {project}"] if ensure_project(client, project, domain) else []
    created += [f"role {role}" for role in ensure_roles(client, roles)]
    return created


def ensure_email(client: KeystoneClient, email: str) -> bool:
    """Give the client's user, the administrator, ``email`` (Debian's package records it).

    True if it changed.
    """
    users = client.get("/users", {"name": client.credentials.username}).get("users", [])
    if not users or users[0].get("email") == email:
        return False
    client.patch(f"/users/{users[0]['id']}", {"user": {"email": email}})
    return True
