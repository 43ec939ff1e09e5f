"""The applying layer of postinst: each checked plan handed to the layer that does it.

``plans.py`` turns debconf answers into checked, typed plans before anything
changes; the functions here make each plan so, through the database,
message-queue and Keystone layers, each step idempotent. They return lines
for postinst's summary, which name objects but never a secret.
"""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Callable

from .. import (
    cells,
    dbsync,
    keystone,
    keystone_bootstrap,
    keystone_private,
    ksat,
    log,
    rabbit,
    steps,
    unmigrated,
)
from ..db import AdminLogin, Change, DatabaseSpec, Engine, backend_for
from ..errors import PkgosError
from ..inifile import IniFile
from ..profile import Database, ServiceProfile
from ..questions import LOCAL_HOSTS
from ..run import run
from ..urls import TransportUrl
from .plans import AuthtokenPlan, BootstrapPlan, CatalogPlan, DatabasePlan, Plans, TransportPlan
from .seeding import config_reader, database_seeds


def apply_plans(profile: ServiceProfile, planned: Plans) -> list[str]:
    """Apply the asked settings, then the database, message queue, authtoken and catalog plans.

    A service's cells are made after its migrations and once the message
    queue's URL is written, which a new cell takes from the config file.
    """
    done = steps.write_settings(planned.settings)
    if planned.database is not None:
        done += ensure_databases(profile, planned.database)
    if planned.bootstrap is not None:
        done += bootstrap_keystone(profile, planned.bootstrap)
    if planned.transport is not None:
        done += write_transport_url(planned.transport)
    if planned.database is not None and profile.cells is not None:
        done += cells.ensure_cells(cells.CellsPlan(profile.name, profile.user.name, profile.cells))
    if planned.migrate:
        done += migrate_configured(profile)
    if planned.authtoken is not None:
        done += write_authtoken(planned.authtoken)
        if planned.authtoken.create_user:
            authtoken = planned.authtoken
            roles = profile.authtoken.roles if profile.authtoken else ("service",)
            done += _keystone_step(profile, "the service user", lambda: ensure_service_user(authtoken, roles))
    if planned.catalog is not None:
        catalog = planned.catalog
        done += _keystone_step(profile, "the catalog registration", lambda: register_catalog(catalog))
    return done


def _keystone_step(profile: ServiceProfile, what: str, step: Callable[[], list[str]]) -> list[str]:
    """Run a step that needs Keystone; if it fails, fail postinst, saying how to finish.

    Everything before it is in place and the answers are kept (postinst
    forgets them only after a success), so once Keystone answers,
    ``dpkg --configure -a`` finishes the work: the reconcile is idempotent.
    A postinst that warned and succeeded would leave the service
    unregistered with its administrator's password forgotten.
    """
    try:
        return step()
    except PkgosError as error:
        raise keystone.KeystoneError(
            f"{what} of the {profile.name} service was not done: {error.message}",
            hint="start Keystone, or fix the Keystone answers with debconf-set-selections",
        ) from None


def _keystone_step_or_warn(profile: ServiceProfile, what: str, step: Callable[[], list[str]]) -> list[str]:
    """Run a step of Keystone's own bootstrap that needs it to answer; warn if it does not.

    Keystone's package may be forbidden to start its service (a
    policy-rc.d), and then nothing answers yet: a re-run finishes.
    """
    try:
        return step()
    except PkgosError as error:
        log.warning(
            f"{what} was not done: {error} The rest of the configuration is in place; when Keystone "
            f"answers, run: dpkg-reconfigure {profile.package} (answering yes to the Keystone questions)."
        )
        return []


def bootstrap_keystone(profile: ServiceProfile, plan: BootstrapPlan) -> list[str]:
    """Keystone's keys and administrator (its database is migrated by then), then, through
    Keystone's API, the service project, Debian's roles and the administrator's email.

    When nothing serves Keystone yet, the API steps go to a private
    Keystone (``keystone_private``), which loads while ``keystone-manage
    bootstrap`` runs, and the service starts after them; otherwise the
    service is started (a no-op when it runs) and they go to it.
    """
    done = []
    if keystone_bootstrap.setup_fernet_keys(plan.spec):
        done.append("created Keystone's fernet keys")
    if keystone_bootstrap.setup_credential_keys(plan.spec):
        done.append("created Keystone's credential keys")

    def administrator() -> bool:
        if not keystone_bootstrap.bootstrap_admin(plan.spec, plan.admin_password):
            # Without the password (forgotten after the first run) nothing below can log in.
            return False
        done.append(f"bootstrapped Keystone: administrator {plan.spec.admin_username}")
        return True

    def api_steps(url: str) -> list[str]:
        credentials = keystone.AdminCredentials(
            url, plan.spec.admin_username, plan.admin_password, project_name=plan.spec.admin_project
        )
        client = keystone.KeystoneClient(credentials, retry=keystone_bootstrap.STARTING)
        created = keystone_bootstrap.ensure_service_project(client, project=plan.project, roles=plan.roles)
        if plan.admin_email and keystone_bootstrap.ensure_email(client, plan.admin_email):
            created.append(f"email of {plan.spec.admin_username}")
        return [f"Keystone: created {item}" for item in created]

    def start_service() -> None:
        # As Debian's postinst does. A policy-rc.d may forbid it (exit 101):
        # API steps that need the service then warn, and a re-run finishes them.
        run(["invoke-rc.d", plan.start, "start"], ok_codes=(0, 101), timeout=300)

    what = "the service project and roles"
    if not plan.start:
        if administrator():
            log.info(
                "Keystone is not started by this package: once it runs, dpkg-reconfigure with "
                "create-admin-tenant answered yes creates the service project and roles."
            )
        return done
    app = keystone_private.served_by(plan.uwsgi)
    local = urllib.parse.urlsplit(plan.local_url)
    if (
        not plan.admin_password
        or app is None
        or keystone_private.something_listens(local.hostname or "", local.port or 80)
    ):
        if not administrator():
            return done
        start_service()
        return done + _keystone_step_or_warn(profile, what, lambda: api_steps(plan.local_url))
    with keystone_private.serving(plan.spec, app) as url:
        # Two processes for two cores: Keystone loads while keystone-manage bootstrap runs.
        administrator()
        done += _keystone_step_or_warn(profile, what, lambda: api_steps(url))
    start_service()
    return done


def generate_password() -> str:
    """A new random password: 32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


def database_specs(profile: ServiceProfile, plan: DatabasePlan) -> list[DatabaseSpec]:
    """One spec per database of the profile, all with the plan's server and login.

    An empty password means "generate one": on a later run the answer is
    seeded from the URL in the config file, so the password stays.
    """
    engine = Engine(plan.engine)
    password = plan.password or generate_password()
    local = plan.host.strip() in LOCAL_HOSTS
    # A local server is reached as its administrator without a password
    # (root over MariaDB's unix socket, postgres through peer authentication).
    admin = AdminLogin() if local else AdminLogin(plan.admin_user, plan.admin_password or None, plan.host)
    return [
        DatabaseSpec(
            engine,
            database.name,
            plan.user or profile.user.name,
            password,
            host=plan.host or "127.0.0.1",
            admin=admin,
            sqlite_dir=f"/var/lib/{profile.name}",
        )
        for database in plan.databases
    ]


def ensure_databases(profile: ServiceProfile, plan: DatabasePlan) -> list[str]:
    """Create databases, user and grants; write each connection URL; run db sync."""
    return ensure_and_migrate(profile, plan.databases, database_specs(profile, plan))


def ensure_and_migrate(
    profile: ServiceProfile, databases: tuple[Database, ...], specs: list[DatabaseSpec]
) -> list[str]:
    """Make each database of ``specs`` (for ``databases``), write its URL, then migrate them all.

    A database the toolkit created whose first migration did not finish
    (``unmigrated``) holds only a half-made schema: it is dropped and made
    anew first, so the migration starts from an empty database again.
    """
    done = []
    for database, spec in zip(databases, specs, strict=True):
        backend = backend_for(spec.engine)
        if unmigrated.pending(spec):
            backend.drop_database(spec)
            done.append(
                f"database {spec.name} on {spec.where}: dropped the half-made schema of a first "
                "migration that did not finish"
            )
        outcome = backend.ensure(spec)
        if Change.CREATED_DATABASE in outcome.changes:
            unmigrated.begin(spec)
        if outcome.changed:
            done.append(f"database {spec.name} on {spec.where}: {', '.join(outcome.changes)}")
        if database.section:
            with IniFile(database.config) as conf:
                conf.set(database.section, database.directive, spec.url().render())
                if conf.changed:
                    done.append(f"wrote [{database.section}] {database.directive} in {database.config}")
    done += sync_databases(profile, databases)
    for spec in specs:
        unmigrated.finish(spec)
    return done


def sync_databases(profile: ServiceProfile, databases: tuple[Database, ...]) -> list[str]:
    """Run the migration commands of ``databases``, as the service's user."""
    commands = tuple(command for database in databases for command in database.sync)
    if not commands:
        return []
    dbsync.sync(dbsync.SyncPlan(profile.name, commands, user=profile.user.name))
    return [f"ran the database migrations of {profile.name}"]


def migrate_configured(profile: ServiceProfile) -> list[str]:
    """The profile's migrations and cells again, with the URLs its own package wrote.

    nova-api's ``novaapi/configure_db``: Debian's nova-api runs ``api_db
    sync`` and the cells; here nova-common makes the databases, and a yes
    makes nova-api run the same idempotent steps. Before nova-common has
    written a URL there is nothing to migrate: a warning, not a failure.
    """
    if not database_seeds(profile, config_reader()):
        log.warning(
            f"{profile.package} has no database configured: no migration was run. Configure it "
            f"(dpkg-reconfigure {profile.package}), then dpkg-reconfigure this package."
        )
        return []
    done = sync_databases(profile, profile.databases)
    if profile.cells is not None:
        done += cells.ensure_cells(cells.CellsPlan(profile.name, profile.user.name, profile.cells))
    return done


def drop_databases(profile: ServiceProfile, plan: DatabasePlan) -> list[str]:
    """Remove the databases and their user (postrm purge, when the admin agrees)."""
    done = []
    for spec in database_specs(profile, plan):
        outcome = backend_for(spec.engine).drop(spec)
        unmigrated.finish(spec)
        if outcome.changed:
            done.append(f"database {spec.name} on {spec.where}: {', '.join(outcome.changes)}")
    return done


def write_transport_url(plan: TransportPlan) -> list[str]:
    """``[DEFAULT] transport_url`` in every config file of the service."""
    url = TransportUrl.single(plan.host, user=plan.user, password=plan.password or None)
    return [
        f"wrote transport_url in {path}" for path in plan.configs if rabbit.write_transport_url(path, url)
    ]


def write_authtoken(plan: AuthtokenPlan) -> list[str]:
    """``[keystone_authtoken]`` (or the profile's section for it) in every config file of the service."""
    values = ksat.AuthToken(
        www_authenticate_uri=plan.public_url,
        auth_url=plan.public_url,
        username=plan.username,
        password=plan.password,
        project_name=plan.project_name,
        region_name=plan.region,
    )
    return [
        f"wrote [{plan.section}] in {path}"
        for path in plan.configs
        if ksat.write_authtoken(path, values, plan.section)
    ]


def _admin_client(auth_url: str, username: str, password: str, project: str) -> keystone.KeystoneClient:
    return keystone.KeystoneClient(
        keystone.AdminCredentials(auth_url, username, password, project_name=project)
    )


def ensure_service_user(plan: AuthtokenPlan, roles: tuple[str, ...] = ("service",)) -> list[str]:
    """The service's Keystone user, its password and its roles (the profile's, default ``service``)."""
    client = _admin_client(plan.public_url, plan.admin_username, plan.admin_password, plan.admin_project_name)
    spec = keystone.ServiceUserSpec(plan.username, plan.password, project=plan.project_name, roles=roles)
    return [f"Keystone: {change}" for change in keystone.ensure_service_user(client, spec).changes]


def register_catalog(plan: CatalogPlan) -> list[str]:
    """The service and its three endpoints in the Keystone catalog."""
    client = _admin_client(
        plan.keystone_url, plan.admin_username, plan.admin_password, plan.admin_project_name
    )
    done = []
    for entry, urls in plan.services:
        spec = keystone.ServiceSpec(
            entry.name, entry.type, urls, region=plan.region, description=entry.description
        )
        done += [f"Keystone: {change}" for change in keystone.register_service(client, spec).changes]
    return done
