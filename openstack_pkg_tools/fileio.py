"""Reading and atomically replacing files.

A configuration file that a crash, a full disk or a killed postinst leaves
empty or half-written breaks a service. So every write here goes to a
temporary file in the same directory, is flushed to disk, and replaces the
target with one ``rename()``: a reader sees the old content or the new one,
never a mix. The owner and mode of an existing file are kept, and nothing is
written at all when the content would not change (so a second postinst run
touches no file and keeps every mtime).

Every maintainer script that edits a file imports this module, so it calls
``posix``, the built-in module behind ``os`` that the interpreter has
already loaded when it starts, instead of importing ``os``: that import
(``os.path``, ``_collections_abc``) costs about 2 ms, more than the rest of
an edit of a 10,000-line ``nova.conf``. The toolkit runs on Debian only.
"""

import posix

from .errors import ConfigFileError

TEMP_SUFFIX = ".pkgos-tmp"

# The most buffers one writev() call takes (IOV_MAX on Linux).
_MOST_BUFFERS = 1024

# stat.S_IMODE, S_IFMT and S_IFLNK, without importing stat.
_MODE_BITS = 0o7777
_FILE_TYPE_BITS = 0o170000
_SYMBOLIC_LINK = 0o120000


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
    data: bytes | list[bytes | memoryview],
    *,
    new_file_mode: int = 0o644,
    new_file_owner: tuple[int, int] | None = None,
) -> bool:
    """Make ``path`` hold exactly ``data``; return True if it was written.

    ``data`` is the content, or a list of its pieces in order: a caller
    holding the content in pieces need not join them, since they are
    written with one system call. An existing file keeps its owner and
    mode; a new one gets ``new_file_mode`` and ``new_file_owner`` (uid,
    gid). A symbolic link is followed, so the link stays a link. Nothing is
    written when the file already holds ``data``.
    """
    pieces: list[bytes | memoryview] = [data] if isinstance(data, bytes) else data
    target = _link_target(path)
    try:
        current = posix.stat(target)
    except FileNotFoundError:
        current = None
    if current is not None and _same_content(target, pieces, current):
        return False
    if current is None:
        _replace(target, pieces, new_file_mode, new_file_owner)
    else:
        _replace(target, pieces, current.st_mode & _MODE_BITS, (current.st_uid, current.st_gid))
    return True


def _link_target(path: str) -> str:
    """The file that ``path`` names: the target of a symbolic link, or ``path``.

    The rename replaces the last component only, and a directory reached
    through a link is the same directory either way, so only a link as the
    last component needs resolving (and ``os.path``, imported just then).
    """
    try:
        is_link = posix.lstat(path).st_mode & _FILE_TYPE_BITS == _SYMBOLIC_LINK
    except OSError:
        return path  # missing (a new file) or unreadable: the stat that follows says which
    if not is_link:
        return path
    import os.path  # noqa: PLC0415 (links only; see the module's docstring)

    return os.path.realpath(path)


def _same_content(path: str, pieces: list[bytes | memoryview], current: posix.stat_result) -> bool:
    if current.st_size != sum(len(piece) for piece in pieces):
        return False
    try:
        with open(path, "rb") as handle:
            return handle.read() == b"".join(pieces)
    except OSError:
        return False


def _replace(target: str, pieces: list[bytes | memoryview], mode: int, owner: tuple[int, int] | None) -> None:
    head, slash, name = target.rpartition("/")
    directory = head + slash  # "" (the current directory), "/" or "some/dir/"
    fd, temp_path = _create_temporary(directory, name, target)
    try:
        # Mode and owner are set before any byte is written, so a secret in
        # the new content is never readable by others, even for an instant.
        posix.fchmod(fd, mode)
        if owner is not None:
            _chown_kept(fd, target, owner)
        try:
            _write_all(fd, pieces)
            posix.fsync(fd)
        finally:
            posix.close(fd)
        posix.rename(temp_path, target)
    except BaseException:
        _unlink_quietly(temp_path)
        raise
    _fsync_directory(directory or ".")


def _write_all(fd: int, pieces: list[bytes | memoryview]) -> None:
    """Write ``pieces`` in order with writev(), resuming after a short write."""
    pending = [memoryview(piece) for piece in pieces if len(piece)]
    while pending:
        written = posix.writev(fd, pending[:_MOST_BUFFERS])
        while pending and written >= len(pending[0]):
            written -= len(pending.pop(0))
        if pending:
            pending[0] = pending[0][written:]


def _create_temporary(directory: str, name: str, target: str) -> tuple[int, str]:
    """A new, private (0600) file beside the target: its fd and path.

    Written by hand rather than with ``tempfile``, whose import costs more
    than a maintainer script's whole edit of a configuration file.
    """
    for _attempt in range(100):
        path = f"{directory}.{name}.{posix.urandom(6).hex()}{TEMP_SUFFIX}"
        try:
            flags = posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW | posix.O_CLOEXEC
            return posix.open(path, flags, 0o600), path
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
        posix.fchown(fd, uid, gid)
    except PermissionError:
        raise ConfigFileError(
            target,
            f"cannot keep its owner {uid}:{gid} when rewriting it.",
            hint="run as root, or as the file's owner.",
        ) from None


def _unlink_quietly(path: str) -> None:
    try:
        posix.unlink(path)
    except FileNotFoundError:
        return  # already gone


def _fsync_directory(directory: str) -> None:
    # The rename is durable only once the directory entry reaches the disk.
    fd = posix.open(directory, posix.O_RDONLY | posix.O_DIRECTORY)
    try:
        posix.fsync(fd)
    finally:
        posix.close(fd)
