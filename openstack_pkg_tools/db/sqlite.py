"""SQLite: one file per service, ``/var/lib/<svc>/<svc>.sqlite``.

The directory is created if missing (0750, owned by the service user); the
file is created by opening it, and kept owned by the service user with
mode 0640 (the service writes it; its group may read it).

The directory belongs to the service user, who may plant a link or a FIFO
under the file's name: every step works relative to one descriptor of the
directory, never follows a link and changes the owner through a
descriptor of the file itself (``fchown``), so root never gives away or
writes another file. A new file is made and switched to WAL mode in a
private directory of root's inside it, reached through ``/proc/self/fd``
(the service user can rename that directory but not enter it), then
linked into place, failing if the name was taken meanwhile.

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
import stat

from ..errors import ConfigFileError
from ..fileio import create_file, kind_of, open_directory
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
        directory, name = os.path.split(path)
        changes: list[Change] = []
        if not os.path.lexists(directory):
            os.makedirs(directory, mode=DIRECTORY_MODE)
            os.chown(directory, *owner, follow_symlinks=False)
        directory_fd = open_directory(directory)
        try:
            if _entry(directory_fd, name, path) is None:
                _create(directory_fd, name, path)
                changes.append(Change.CREATED_DATABASE)
            fd = _open_file(directory_fd, name, path)
            try:
                status = os.fstat(fd)
                if (status.st_uid, status.st_gid) != owner:
                    os.fchown(fd, *owner)
                    changes.append(Change.CHANGED_OWNER)
                if stat.S_IMODE(status.st_mode) != FILE_MODE:
                    os.fchmod(fd, FILE_MODE)
                    changes.append(Change.CHANGED_MODE)
            finally:
                os.close(fd)
        finally:
            os.close(directory_fd)
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

    def drop_database(self, spec: DatabaseSpec) -> Outcome:
        """The same as ``drop``: a SQLite database has no user of its own."""
        return self.drop(spec)

    def check(self, spec: DatabaseSpec) -> None:
        """Open the file and read from it.

        The file is opened here (no link followed) and SQLite reads it
        through ``/proc/self/fd`` as immutable: a journal the directory's
        owner planted beside it is never rolled back into it by root.
        """
        validate(spec)
        path = spec.sqlite_path
        directory, name = os.path.split(path)
        try:
            directory_fd = open_directory(directory)
        except ConfigFileError:
            directory_fd = -1
        try:
            if directory_fd < 0 or _entry(directory_fd, name, path) is None:
                raise DatabaseError(
                    f"The SQLite database {path} does not exist.", hint="run 'pkgos db ensure' first."
                )
            fd = _open_file(directory_fd, name, path)
        finally:
            if directory_fd >= 0:
                os.close(directory_fd)
        try:
            connection = sqlite3.connect(f"file:/proc/self/fd/{fd}?mode=ro&immutable=1", uri=True)
            try:
                connection.execute("PRAGMA schema_version").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as error:
            raise DatabaseError(
                f"Cannot open the SQLite database {path}: {error}.",
                hint="check that the file is a SQLite database and readable.",
            ) from None
        finally:
            os.close(fd)


def _entry(directory_fd: int, name: str, path: str) -> os.stat_result | None:
    """The status of ``name`` (not following a link); None when missing; a link or special file refused."""
    try:
        status = os.stat(name, dir_fd=directory_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(status.st_mode):
        raise DatabaseError(
            f"{path} is {kind_of(status.st_mode)}, not a SQLite file: refusing to use it.",
            hint="remove it (someone who can write the directory put it there), then run again.",
        )
    return status


def _open_file(directory_fd: int, name: str, path: str) -> int:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=directory_fd)
    except OSError as error:
        raise DatabaseError(f"Cannot open the SQLite database {path}: {error.strerror}.") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DatabaseError(f"{path} is not a regular file: refusing to use it.")
    return fd


def _create(directory_fd: int, name: str, path: str) -> None:
    """Make ``name`` a new WAL-mode SQLite file (root's, 0640), or fail if the name is taken."""
    private = f".pkgos-{os.urandom(6).hex()}"
    os.mkdir(private, 0o700, dir_fd=directory_fd)
    private_fd = os.open(private, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory_fd)
    try:
        made = os.fstat(private_fd)
        if made.st_uid != os.geteuid() or stat.S_IMODE(made.st_mode) != 0o700:
            raise DatabaseError(f"The private directory made beside {path} was swapped: refusing to go on.")
        os.close(create_file(private_fd, name, FILE_MODE, None, path))
        _use_write_ahead_log(f"/proc/self/fd/{private_fd}/{name}")
        try:
            os.link(name, name, src_dir_fd=private_fd, dst_dir_fd=directory_fd, follow_symlinks=False)
        except FileExistsError:
            raise DatabaseError(
                f"{path} appeared while it was being created.", hint="check who writes there, then run again."
            ) from None
    finally:
        for leftover in (name, *(name + suffix for suffix in WAL_SUFFIXES)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover, dir_fd=private_fd)
        os.close(private_fd)
        with contextlib.suppress(OSError):
            os.rmdir(private, dir_fd=directory_fd)


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
