"""SQLite: one file per service, ``/var/lib/<svc>/<svc>.sqlite``.

The directory is created if missing (0750, owned by the service user); the
file is created by opening it, and kept owned by the service user with
mode 0640 (the service writes it; its group may read it).

A new file is switched to write-ahead logging: OpenStack services keep read
transactions open between requests, and in SQLite's default journal mode an
open reader makes every write of another connection fail with "database is
locked" (Keystone's first catalog write does). In WAL mode readers never
block the writer. The mode is a property of the file, so it is set once.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import sqlite3

from . import Change, DatabaseError, DatabaseSpec, Outcome, validate

FILE_MODE = 0o640
DIRECTORY_MODE = 0o750
# What SQLite keeps beside a database in WAL mode while it is open.
WAL_SUFFIXES = ("-wal", "-shm")


class SqliteBackend:
    """A service's SQLite file."""

    def ensure(self, spec: DatabaseSpec) -> Outcome:
        """Create the directory and the file, owned by the service user, mode 0640."""
        validate(spec)
        owner = _owner(spec)
        path = spec.sqlite_path
        directory = os.path.dirname(path)
        changes: list[Change] = []
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=DIRECTORY_MODE)
            os.chown(directory, *owner)
        if not os.path.exists(path):
            # Created with the final mode, so it is never readable by others.
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
            _use_write_ahead_log(path)
            changes.append(Change.CREATED_DATABASE)
        status = os.stat(path)
        if (status.st_uid, status.st_gid) != owner:
            os.chown(path, *owner)
            changes.append(Change.CHANGED_OWNER)
        if status.st_mode & 0o7777 != FILE_MODE:
            os.chmod(path, FILE_MODE)
            changes.append(Change.CHANGED_MODE)
        self.check(spec)
        return Outcome(tuple(changes))

    def drop(self, spec: DatabaseSpec) -> Outcome:
        """Remove the file and its write-ahead log (the directory belongs to the package)."""
        validate(spec)
        for leftover in WAL_SUFFIXES:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(spec.sqlite_path + leftover)
        try:
            os.unlink(spec.sqlite_path)
        except FileNotFoundError:
            return Outcome()
        return Outcome((Change.DROPPED_DATABASE,))

    def check(self, spec: DatabaseSpec) -> None:
        """Open the file and read from it."""
        validate(spec)
        path = spec.sqlite_path
        if not os.path.exists(path):
            raise DatabaseError(
                f"The SQLite database {path} does not exist.", hint="run 'pkgos db ensure' first."
            )
        try:
            connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
            try:
                connection.execute("PRAGMA schema_version").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as error:
            raise DatabaseError(
                f"Cannot open the SQLite database {path}: {error}.",
                hint="check that the file is a SQLite database and readable.",
            ) from None


def _use_write_ahead_log(path: str) -> None:
    # The -wal and -shm files this connection makes go away when it closes.
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL").fetchone()
    finally:
        connection.close()


def _owner(spec: DatabaseSpec) -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(spec.user)
    except KeyError:
        raise DatabaseError(
            f"The system user {spec.user!r} that should own {spec.sqlite_path} does not exist.",
            hint="create the service's system user first.",
        ) from None
    return entry.pw_uid, entry.pw_gid
