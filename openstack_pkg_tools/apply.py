"""The applying layer of postinst: each checked plan handed to the layer that does it.

``plans.py`` turns debconf answers into checked, typed plans before anything
changes; the functions here make each plan so, through the database,
message-queue and Keystone layers, each step idempotent. They return lines
for postinst's summary, which name objects but never a secret.
"""

from __future__ import annotations

import secrets

from . import dbsync, rabbit
from .db import AdminLogin, DatabaseSpec, Engine, backend_for
from .inifile import IniFile
from .plans import DatabasePlan, Plans, TransportPlan
from .profile import ServiceProfile
from .questions import LOCAL_HOSTS
from .urls import TransportUrl


def apply_plans(profile: ServiceProfile, planned: Plans) -> list[str]:
    """Apply the database, message queue, authtoken and catalog plans, in that order."""
    done: list[str] = []
    if planned.database is not None:
        done += ensure_databases(profile, planned.database)
    if planned.transport is not None:
        done += write_transport_url(planned.transport)
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
    done = []
    for database, spec in zip(plan.databases, database_specs(profile, plan), strict=True):
        outcome = backend_for(spec.engine).ensure(spec)
        if outcome.changed:
            done.append(f"database {spec.name} on {spec.where}: {', '.join(outcome.changes)}")
        if database.section:
            with IniFile(database.config) as conf:
                conf.set(database.section, database.directive, spec.url().render())
                if conf.changed:
                    done.append(f"wrote [{database.section}] {database.directive} in {database.config}")
    commands = tuple(command for database in plan.databases for command in database.sync)
    if commands:
        dbsync.sync(dbsync.SyncPlan(profile.name, commands, user=profile.user.name))
        done.append(f"ran the database migrations of {profile.name}")
    return done


def drop_databases(profile: ServiceProfile, plan: DatabasePlan) -> list[str]:
    """Remove the databases and their user (postrm purge, when the admin agrees)."""
    done = []
    for spec in database_specs(profile, plan):
        outcome = backend_for(spec.engine).drop(spec)
        if outcome.changed:
            done.append(f"database {spec.name} on {spec.where}: {', '.join(outcome.changes)}")
    return done


def write_transport_url(plan: TransportPlan) -> list[str]:
    """``[DEFAULT] transport_url`` in every config file of the service."""
    url = TransportUrl.single(plan.host, user=plan.user, password=plan.password or None)
    return [
        f"wrote transport_url in {path}" for path in plan.configs if rabbit.write_transport_url(path, url)
    ]
