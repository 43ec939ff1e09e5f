"""Databases the toolkit created whose first migration has not finished.

MariaDB commits each ``CREATE TABLE`` on its own: a first migration that
is killed or fails half-way leaves some of the service's tables and no
record of the revision that made them, and every later run stops on
"table already exists". Such a database holds nothing but that half-made
schema (the service's unit starts only after its postinst succeeded), so
the toolkit, which created it, drops it and creates it anew before
migrating again (see ``maintscript.apply.ensure_databases``).

Which databases are in that state is kept as one empty file per database
in ``STATE_DIR``: written right after the toolkit created the database,
removed once every migration of the service has succeeded, and on purge.
The directory is root's own and nobody else may write it: a file planted
there would make root drop a database.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterator

from .db import DatabaseSpec
from .errors import ConfigFileError
from .fileio import create_file, open_directory, trusted_directory

STATE_DIR = "/var/lib/openstack-pkg-tools/unmigrated"


def begin(spec: DatabaseSpec) -> None:
    """Record that ``spec``'s database was just created and is not migrated yet."""
    os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
    with _state_dir() as directory_fd, contextlib.suppress(FileExistsError):
        os.close(create_file(directory_fd, _entry_name(spec), 0o600, None, STATE_DIR))


def pending(spec: DatabaseSpec) -> bool:
    """Whether ``spec``'s database was created by the toolkit and never migrated to the end."""
    if not os.path.lexists(STATE_DIR):
        return False
    with _state_dir() as directory_fd:
        try:
            status = os.stat(_entry_name(spec), dir_fd=directory_fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
    return stat.S_ISREG(status.st_mode)


def finish(spec: DatabaseSpec) -> None:
    """Forget ``spec``'s database: it is migrated, or it was dropped."""
    if not os.path.lexists(STATE_DIR):
        return
    with _state_dir() as directory_fd, contextlib.suppress(FileNotFoundError):
        os.unlink(_entry_name(spec), dir_fd=directory_fd)


def _entry_name(spec: DatabaseSpec) -> str:
    """The database's name, then a digest of engine, server and name (one server may be any length)."""
    key = f"{spec.engine}\0{spec.where}\0{spec.name}".encode()
    return f"{spec.name}-{hashlib.sha256(key).hexdigest()[:16]}"


@contextlib.contextmanager
def _state_dir() -> Iterator[int]:
    """A descriptor of ``STATE_DIR``, refused unless root alone can write it; closed at the end."""
    directory_fd = open_directory(STATE_DIR)
    try:
        if not trusted_directory(os.fstat(directory_fd)):
            raise ConfigFileError(
                STATE_DIR,
                "can be written by users other than root: refusing to trust what it records.",
                hint=f"make it root's own: chown root:root {STATE_DIR} && chmod 0700 {STATE_DIR}.",
            )
        yield directory_fd
    finally:
        os.close(directory_fd)
