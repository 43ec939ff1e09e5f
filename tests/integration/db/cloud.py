"""Shipped profiles moved into a test's directory, with the services' programs run from their libraries.

Debian's nova-common, placement-common and neutron-common would bring
their own maintainer scripts along; the tests install only the libraries
(python3-nova, python3-placement, python3-neutron) and run each program
from its console entry point, with ``--config-file`` pointing at the
test's copy of the config file.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess

from openstack_pkg_tools.db import AdminLogin, DatabaseSpec, Engine, backend_for
from openstack_pkg_tools.inifile import IniFile
from openstack_pkg_tools.profile import ServiceProfile, load
from tests.servers.mariadb import MariaDB

PYTHON = "/usr/bin/python3"
# The console entry points of Debian's /usr/bin programs (the packages' entry_points.txt).
ENTRY_POINTS = {
    "nova-manage": "nova.cmd.manage",
    "placement-manage": "placement.cmd.manage",
    "neutron-db-manage": "neutron.db.migration.cli",
}
# The database and message-queue password of every service: the characters
# a URL keeps as they are, as nova's profile asks (map_cell0 decodes the URL).
PASSWORD = "pkgos-Test_pass.word~1"


def program(name: str, config: str | None = None) -> tuple[str, ...]:
    """The argv that runs Debian's ``name`` from its library (with its config file, if given)."""
    module = ENTRY_POINTS[name]
    code = f"import sys; from {module} import main; sys.exit(main())"
    return (PYTHON, "-c", code, *(("--config-file", config) if config else ()))


def relocated(name: str, etc: str, user: str, *, config_arg: bool) -> ServiceProfile:
    """The shipped profile ``name`` with /etc/<name> moved to ``etc``, run as ``user``.

    Its programs run from their libraries; with ``config_arg`` each gets
    ``--config-file`` with the profile's first config (nova-manage and
    placement-manage read /etc/<name>/ by default, neutron-db-manage's
    command line names its files). Logs go to /var/log/pkgostest-<name>.
    """
    shipped = load(name)

    def path(text: str) -> str:
        return text.replace(f"/etc/{name}", etc)

    first = path(shipped.configs[0].target)

    def command(argv: tuple[str, ...]) -> tuple[str, ...]:
        head = program(argv[0], first if config_arg else None)
        return (*head, *(path(arg) for arg in argv[1:]))

    cells = shipped.cells and dataclasses.replace(
        shipped.cells, config=path(shipped.cells.config), command=command(shipped.cells.command)
    )
    return dataclasses.replace(
        shipped,
        name=f"pkgostest-{name}",
        user=dataclasses.replace(shipped.user, name=user),
        configs=tuple(dataclasses.replace(c, target=path(c.target)) for c in shipped.configs),
        databases=tuple(
            dataclasses.replace(d, config=path(d.config), sync=tuple(command(c) for c in d.sync))
            for d in shipped.databases
        ),
        settings=tuple(dataclasses.replace(s, config=path(s.config)) for s in shipped.settings),
        asks=tuple(dataclasses.replace(a, config=path(a.config)) for a in shipped.asks),
        cells=cells,
        messaging=shipped.messaging
        and dataclasses.replace(shipped.messaging, configs=tuple(map(path, shipped.messaging.configs))),
        authtoken=shipped.authtoken
        and dataclasses.replace(shipped.authtoken, configs=tuple(map(path, shipped.authtoken.configs))),
    )


def create_databases(mariadb: MariaDB, profile: ServiceProfile) -> list[DatabaseSpec]:
    """Each database of the profile, prefixed pkgostest_, with its URL in its config directive.

    The names keep nova's rule that cell0 is the main database's name with
    ``_cell0`` (map_cell0 derives it from ``[database] connection``).
    """
    specs = []
    for database in profile.databases:
        spec = DatabaseSpec(
            Engine.MYSQL,
            f"pkgostest_{database.name}",
            profile.name.replace("-", "_"),
            PASSWORD,
            port=mariadb.port,
            admin=AdminLogin(socket=mariadb.socket),
        )
        backend_for(spec.engine).ensure(spec)
        if database.section:
            with IniFile(database.config, create=True) as conf:
                conf.set(database.section, database.directive, spec.url().render())
        specs.append(spec)
    return specs


def drop_databases(specs: list[DatabaseSpec]) -> None:
    """Drop what ``create_databases`` made."""
    for spec in specs:
        backend_for(spec.engine).drop(spec)


def empty_configs(profile: ServiceProfile, *extra: str) -> None:
    """The profile's config files (and ``extra`` ones) as empty files the service user can read."""
    for path in [*(config.target for config in profile.configs), *extra]:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a"):
            pass
        os.chmod(path, 0o644)


def oslo_values(code: str) -> str:
    """Run ``code`` in a fresh Debian interpreter (each service registers its options globally)."""
    result = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout
