"""Nova's cells beyond cell0, made once and only once.

``nova-manage cell_v2 create_cell --name cell1`` is not idempotent: nova
does not make cell names unique, so a second run with other URLs adds a
second "cell1", and a run with the same URLs exits 2. Each cell is
therefore created only when ``cell_v2 list_cells`` does not show its name.
The cell takes ``[database] connection`` and ``[DEFAULT] transport_url``
from the config file, so no password goes on a command line, and the
commands run as the service user, like the migrations (``dbsync``).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from . import dbsync, log
from .errors import PkgosError, last_lines
from .inifile import IniFile
from .profile import Cells
from .run import run

# create_cell's exit codes (nova/cmd/manage.py, Zed).
MISSING_URL = 1
URLS_TAKEN = 2


class CellError(PkgosError):
    """A cell cannot be listed or created."""


@dataclass(frozen=True)
class CellsPlan:
    """The cells of ``service`` to make, with the commands run as ``user``."""

    service: str
    user: str
    cells: Cells


def cell_names(table: str) -> set[str]:
    """The cell names in ``list_cells``'s table (an unnamed cell is "")."""
    names = set()
    for line in table.splitlines():
        columns = [column.strip() for column in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and len(columns) > 1 and columns[1] != "UUID":
            names.add(columns[0])
    return names


def _argv(plan: CellsPlan, *args: str) -> list[str]:
    command = (*plan.cells.command, "cell_v2", *args)
    return dbsync.argv_for(dbsync.SyncPlan(plan.service, (command,), user=plan.user), command)


def list_cells(plan: CellsPlan) -> set[str]:
    """The names of the cells nova's API database maps (list_cells masks the passwords)."""
    result = run(
        _argv(plan, "list_cells"),
        hint=f"check {plan.cells.config}'s [api_database] connection.",
        cwd=dbsync.SERVICE_CWD,
    )
    return cell_names(result.stdout)


def missing_urls(config: str) -> list[str]:
    """The directives a new cell takes from ``config`` that it does not set."""
    conf = IniFile(config)
    wanted = (("database", "connection"), ("DEFAULT", "transport_url"))
    return [f"[{section}] {key}" for section, key in wanted if not conf.get(section, key)]


def ensure_cells(plan: CellsPlan) -> list[str]:
    """Create each cell ``list_cells`` does not show; what was done.

    Without a database or message-queue URL in the config file there is no
    cell to make yet: that is reported, and a later configure makes it.
    """
    missing = missing_urls(plan.cells.config)
    if missing:
        log.warning(
            f"cells {', '.join(plan.cells.names)} not created: {plan.cells.config} has no "
            f"{' or '.join(missing)} yet; they are made by the configure that writes them."
        )
        return []
    existing = list_cells(plan)
    done = []
    for name in plan.cells.names:
        if name in existing:
            continue
        argv = _argv(plan, "create_cell", "--name", name)
        result = run(argv, ok_codes=(0, MISSING_URL, URLS_TAKEN), cwd=dbsync.SERVICE_CWD)
        if result.exit_code == URLS_TAKEN:
            raise CellError(
                f"Cannot create cell {name}: another cell already uses the database and message-queue "
                f"URLs of {plan.cells.config}.",
                hint=f"see {shlex.join(_argv(plan, 'list_cells'))}; rename that cell to {name} "
                "(nova-manage cell_v2 update_cell) or give this one other URLs.",
            )
        if result.exit_code != 0:
            raise CellError(
                f"Cannot create cell {name}: {shlex.join(argv)} exited with code {result.exit_code}."
                + (f"\n{last_lines(result.stdout + result.stderr, 10)}"),
                hint=f"check [database] connection and transport_url in {plan.cells.config}.",
            )
        done.append(f"created {plan.service} cell {name}")
    return done
