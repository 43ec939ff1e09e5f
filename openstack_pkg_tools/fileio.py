"""Reading and atomically replacing files.

A configuration file that a crash, a full disk or a killed postinst leaves
empty or half-written breaks a service. So every write here goes to a
temporary file in the same directory, is flushed to disk, and replaces the
target with one ``rename()``: a reader sees the old content or the new one,
never a mix. The owner and mode of an existing file are kept, and nothing is
written at all when the content would not change (so a second postinst run
touches no file and keeps every mtime).
"""

from __future__ import annotations

import errno
import os
import stat

from .errors import ConfigFileError

TEMP_SUFFIX = ".pkgos-tmp"


def read_bytes(path: str) -> bytes:
    """The content of ``path``, or a ConfigFileError that says why not."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise ConfigFileError(
            path, "no such file.", hint="check the path, or create the file first."
        ) from None
    except IsADirectoryError:
        raise ConfigFileError(path, "is a directory, not a file.") from None
    except PermissionError:
        raise ConfigFileError(
            path, "permission denied while reading.", hint="run as root or as the file's owner."
        ) from None
    except OSError as error:
        raise ConfigFileError(path, f"cannot be read: {error.strerror}.") from None


def atomic_write(
    path: str,
    data: bytes,
    *,
    new_file_mode: int = 0o644,
    new_file_owner: tuple[int, int] | None = None,
) -> bool:
    """Make ``path`` hold exactly ``data``; return True if it was written.

    An existing file keeps its owner and mode; a new one gets
    ``new_file_mode`` and ``new_file_owner`` (uid, gid). A symbolic link is
    followed, so the link stays a link. Nothing is written when the file
    already holds ``data``.
    """
    target = os.path.realpath(path)
    try:
        current = os.stat(target)
    except FileNotFoundError:
        current = None
    if current is not None and _same_content(target, data, current):
        return False
    if current is None:
        _replace(target, data, new_file_mode, new_file_owner)
    else:
        _replace(target, data, stat.S_IMODE(current.st_mode), (current.st_uid, current.st_gid))
    return True


def _same_content(path: str, data: bytes, current: os.stat_result) -> bool:
    if current.st_size != len(data):
        return False
    try:
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def _replace(target: str, data: bytes, mode: int, owner: tuple[int, int] | None) -> None:
    directory, name = os.path.split(target)
    fd, temp_path = _create_temporary(directory or ".", name, target)
    try:
        # Mode and owner are set before any byte is written, so a secret in
        # the new content is never readable by others, even for an instant.
        os.fchmod(fd, mode)
        if owner is not None:
            _chown_kept(fd, target, owner)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temp_path, target)
    except BaseException:
        _unlink_quietly(temp_path)
        raise
    _fsync_directory(directory or ".")


def _create_temporary(directory: str, name: str, target: str) -> tuple[int, str]:
    """A new, private (0600) file beside the target: its fd and path.

    Written by hand rather than with ``tempfile``, whose import costs more
    than a maintainer script's whole edit of a configuration file.
    """
    for _attempt in range(100):
        path = os.path.join(directory, f".{name}.{os.urandom(6).hex()}{TEMP_SUFFIX}")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            return os.open(path, flags, 0o600), path
        except FileExistsError:
            continue
        except OSError as error:
            raise ConfigFileError(
                target, f"cannot create a temporary file beside it: {error.strerror}.", hint="run as root."
            ) from None
    raise ConfigFileError(target, "cannot find a free temporary file name beside it.")


def _chown_kept(fd: int, target: str, owner: tuple[int, int]) -> None:
    uid, gid = owner
    try:
        os.fchown(fd, uid, gid)
    except PermissionError:
        raise ConfigFileError(
            target,
            f"cannot keep its owner {uid}:{gid} when rewriting it.",
            hint="run as root, or as the file's owner.",
        ) from None


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError as error:
        if error.errno != errno.ENOENT:
            raise


def _fsync_directory(directory: str) -> None:
    # The rename is durable only once the directory entry reaches the disk.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
