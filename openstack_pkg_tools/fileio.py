"""Reading and atomically replacing files, safely under directories others own.

A configuration file that a crash, a full disk or a killed postinst leaves
empty or half-written breaks a service. So every write here goes to a
temporary file in the same directory, is flushed to disk, and replaces the
target with one ``rename()``: a reader sees the old content or the new one,
never a mix. The owner and mode of an existing file are kept, and nothing is
written at all when the content would not change (so a second postinst run
touches no file and keeps every mtime).

Maintainer scripts run as root inside directories a service user owns
(``/var/lib/glance``, ``/var/log/glance``), so a name there may be a link
or a FIFO that user planted. Hence:

* a symbolic link is followed only when the directory that holds it is one
  no other user can change (owned by root or the caller, writable by its
  owner only), or when it is a sticky directory and the link is root's or
  the caller's: the rule of the kernel's ``protected_symlinks``. Anything
  else is refused by name (``_check_link``);
* only regular files are read or replaced: a FIFO, a device or a socket is
  refused before it is opened for reading (a FIFO would hang the reader);
* a write works relative to one open descriptor of the directory
  (``dir_fd``): the temporary file is created there with ``O_EXCL`` and
  ``O_NOFOLLOW``, gets its owner and mode before its first byte, and is
  renamed there, so a directory swapped in the middle changes nothing;
* ``open_directory`` and ``create_file`` give the same guarantees to code
  that keeps a file in a service's directory (SQLite, the dbsync log).

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

# stat.S_IMODE, S_IFMT and the file types, without importing stat.
_MODE_BITS = 0o7777
_FILE_TYPE_BITS = 0o170000
_SYMBOLIC_LINK = 0o120000
_REGULAR_FILE = 0o100000
_DIRECTORY = 0o040000
_STICKY = 0o1000
_KINDS = {
    0o140000: "a socket",
    _SYMBOLIC_LINK: "a symbolic link",
    0o060000: "a block device",
    _DIRECTORY: "a directory",
    0o020000: "a character device",
    0o010000: "a FIFO (named pipe)",
}
_MOST_HOPS = 40  # symbolic links followed in a row, as Linux's MAXSYMLINKS
# errno values (Linux), without importing errno.
_ELOOP = 40
_ENOTDIR = 20
_EEXIST = 17


class MissingFileError(ConfigFileError):
    """The file does not exist (the one read error a caller may want to create the file after)."""


def kind_of(mode: int) -> str:
    """``"a FIFO (named pipe)"``, ``"a directory"``...: what a stat mode says a name is."""
    return _KINDS.get(mode & _FILE_TYPE_BITS, "a regular file")


def _is_regular(mode: int) -> bool:
    return mode & _FILE_TYPE_BITS == _REGULAR_FILE


def _split(path: str) -> tuple[str, str]:
    """``("some/dir/", "name")``; the directory is "" (the current one) or ends with "/"."""
    head, slash, name = path.rpartition("/")
    return head + slash, name


def trusted_directory(info: posix.stat_result) -> bool:
    """Whether no user other than root and the caller can change the entries of a directory."""
    return info.st_uid in (0, posix.geteuid()) and not info.st_mode & 0o022


def _check_link(path: str, link: posix.stat_result) -> None:
    """Refuse to follow the link at ``path`` when another user may have planted it."""
    directory = _split(path)[0] or "."
    try:
        holder = posix.stat(directory)
    except OSError as error:
        raise ConfigFileError(path, f"cannot check its directory: {error.strerror}.") from None
    if trusted_directory(holder):
        return
    if holder.st_mode & _STICKY and link.st_uid in (0, posix.geteuid()):
        return
    raise ConfigFileError(
        path,
        f"is a symbolic link in {directory}, which user {holder.st_uid} or others can change: "
        "refusing to follow it.",
        hint="give the link's target instead, or make the directory writable by root only.",
    )


def _lstat(path: str) -> posix.stat_result | None:
    try:
        return posix.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise ConfigFileError(path, "a part of the path is not a directory.") from None
    except PermissionError:
        raise ConfigFileError(
            path, "permission denied while reading.", hint="run as root or as the file's owner."
        ) from None
    except OSError as error:
        raise ConfigFileError(path, f"cannot be looked up: {error.strerror}.") from None


def _resolved(path: str) -> tuple[str, posix.stat_result | None]:
    """The file ``path`` names and its status: a link is followed, hop by hop, where the rule allows.

    Each link of a chain is checked where it stands, so a root-owned link
    cannot lead root on to a link another user planted.
    """
    for _hop in range(_MOST_HOPS):
        info = _lstat(path)
        if info is None or info.st_mode & _FILE_TYPE_BITS != _SYMBOLIC_LINK:
            return path, info
        _check_link(path, info)
        try:
            target = posix.readlink(path)
        except OSError as error:
            raise ConfigFileError(path, f"cannot read this symbolic link: {error.strerror}.") from None
        path = target if target.startswith("/") else _split(path)[0] + target
    raise ConfigFileError(path, "too many levels of symbolic links.", hint="check where the links lead.")


def _refuse_special(path: str, info: posix.stat_result) -> None:
    if not _is_regular(info.st_mode):
        what = kind_of(info.st_mode)
        if what == "a directory":
            raise ConfigFileError(path, "is a directory, not a file.")
        raise ConfigFileError(
            path, f"is {what}, not a regular file: refusing to use it.", hint="give a regular file."
        )


def open_regular(path: str) -> int:
    """A read-only descriptor of the regular file ``path``; links followed by the rule above.

    Never blocks on a FIFO (it is refused before being opened) and never
    opens a device. A file another writer replaces in the meantime (by a
    rename, as ``atomic_write`` does) is looked up again.
    """
    for _attempt in range(100):
        fd = _open_checked(path)
        if fd >= 0:
            return fd
    raise ConfigFileError(path, "is being replaced over and over while being opened.", hint="run again.")


def _open_checked(path: str) -> int:
    """``open_regular``'s one try: -1 when the name named another file at the open."""
    target, info = _resolved(path)
    if info is None:
        raise MissingFileError(path, "no such file.", hint="check the path, or create the file first.")
    _refuse_special(path, info)
    flags = posix.O_RDONLY | posix.O_NONBLOCK | posix.O_NOFOLLOW | posix.O_CLOEXEC
    try:
        fd = posix.open(target, flags)
    except FileNotFoundError:
        return -1  # removed or being replaced: look again
    except PermissionError:
        raise ConfigFileError(
            path, "permission denied while reading.", hint="run as root or as the file's owner."
        ) from None
    except OSError as error:
        if error.errno == _ELOOP:
            return -1  # a link replaced the file after the check: the check decides again
        raise ConfigFileError(path, f"cannot be read: {error.strerror}.") from None
    opened = posix.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
        posix.close(fd)
        return -1
    return fd


def read_fd(fd: int, path: str, limit: int | None = None) -> bytes:
    """Everything left to read from ``fd`` (at most ``limit`` bytes, else an error naming ``path``)."""
    chunks: list[bytes] = []
    total = 0
    try:
        while True:
            chunk = posix.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if limit is not None and total > limit:
                raise ConfigFileError(
                    path, f"is larger than {limit} bytes.", hint="check that it is the right file."
                )
            chunks.append(chunk)
    except OSError as error:
        raise ConfigFileError(path, f"cannot be read: {error.strerror}.") from None


def read_bytes(path: str, limit: int | None = None) -> bytes:
    """The content of the regular file ``path``, or a ConfigFileError that says why not."""
    fd = open_regular(path)
    try:
        return read_fd(fd, path, limit)
    finally:
        posix.close(fd)


def file_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file ``path`` names (a link's target), or None when missing."""
    info = _resolved(path)[1]
    return None if info is None else (info.st_dev, info.st_ino)


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
    gid). A symbolic link is followed (so the link stays a link) when the
    rule of the module's docstring allows it. Nothing is written when the
    file already holds ``data``. Anything but a regular file is refused.
    """
    pieces: list[bytes | memoryview] = [data] if isinstance(data, bytes) else data
    target, current = _resolved(path)
    if current is not None:
        _refuse_special(path, current)
        if _same_content(target, pieces, current):
            return False
    if current is None:
        _replace(target, pieces, new_file_mode, new_file_owner)
    else:
        _replace(target, pieces, current.st_mode & _MODE_BITS, (current.st_uid, current.st_gid))
    return True


def _same_content(path: str, pieces: list[bytes | memoryview], current: posix.stat_result) -> bool:
    if current.st_size != sum(len(piece) for piece in pieces):
        return False
    try:
        fd = posix.open(path, posix.O_RDONLY | posix.O_NONBLOCK | posix.O_NOFOLLOW | posix.O_CLOEXEC)
    except OSError:
        return False
    try:
        opened = posix.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (current.st_dev, current.st_ino):
            return False
        return read_fd(fd, path) == b"".join(pieces)
    except ConfigFileError:
        return False
    finally:
        posix.close(fd)


def open_directory(path: str) -> int:
    """A descriptor of the directory ``path``, to create and rename files relative to it.

    A link as the last component is followed by the rule of the module's
    docstring.
    """
    flags = posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC
    try:
        return posix.open(path or ".", flags | posix.O_NOFOLLOW)
    except OSError as error:
        if error.errno not in (_ELOOP, _ENOTDIR):
            raise _directory_error(path, error) from None
    info = _lstat(path)
    if info is None or info.st_mode & _FILE_TYPE_BITS != _SYMBOLIC_LINK:
        raise ConfigFileError(path, f"is {kind_of(info.st_mode) if info else 'missing'}, not a directory.")
    _check_link(path.rstrip("/"), info)
    try:
        return posix.open(path, flags)
    except OSError as error:
        raise _directory_error(path, error) from None


def _directory_error(path: str, error: OSError) -> ConfigFileError:
    if isinstance(error, FileNotFoundError):
        return MissingFileError(path, "no such directory.", hint="create it first.")
    return ConfigFileError(path, f"cannot open this directory: {error.strerror}.", hint="run as root.")


def create_file(directory_fd: int, name: str, mode: int, owner: tuple[int, int] | None, where: str) -> int:
    """A new file ``name`` in the directory ``directory_fd``, open for writing.

    Never follows a link and never opens an existing file (``O_EXCL``); the
    mode and owner are set before a byte is written. ``where`` is the path
    messages name. Raises FileExistsError when the name is taken.
    """
    flags = posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW | posix.O_CLOEXEC
    fd = posix.open(name, flags, 0o600, dir_fd=directory_fd)
    try:
        posix.fchmod(fd, mode)
        if owner is not None:
            _chown_kept(fd, where, owner)
    except BaseException:
        posix.close(fd)
        _unlink_quietly(name, directory_fd)
        raise
    return fd


def _replace(target: str, pieces: list[bytes | memoryview], mode: int, owner: tuple[int, int] | None) -> None:
    # Termination signals are held while a temporary file exists: one that
    # arrived between creating it and the ``try`` that removes it would leave
    # it behind. A held signal is delivered once the write is over.
    import signal  # noqa: PLC0415 (writers only; a small built-in module)

    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGHUP, signal.SIGINT})
    try:
        _replace_unsignalled(target, pieces, mode, owner)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _replace_unsignalled(
    target: str, pieces: list[bytes | memoryview], mode: int, owner: tuple[int, int] | None
) -> None:
    directory, name = _split(target)
    try:
        directory_fd = open_directory(directory)
    except ConfigFileError as error:
        raise ConfigFileError(
            target,
            f"cannot create a temporary file beside it: {error.message}",
            hint=error.hint or "run as root.",
        ) from None
    try:
        fd, temp_name = _create_temporary(directory_fd, name, target, mode, owner)
        try:
            try:
                _write_all(fd, pieces)
                posix.fsync(fd)
            finally:
                posix.close(fd)
            posix.rename(temp_name, name, src_dir_fd=directory_fd, dst_dir_fd=directory_fd)
        except BaseException as error:
            _unlink_quietly(temp_name, directory_fd)
            if isinstance(error, OSError):
                # A full disk (ENOSPC), an I/O error: the old file is still whole.
                raise ConfigFileError(
                    target,
                    f"cannot be written: {error.strerror}; the file was left as it was.",
                    hint="free some space or fix the file system, then run again.",
                ) from None
            raise
        try:
            posix.fsync(directory_fd)  # the rename is durable once the directory entry is
        except OSError as error:
            raise ConfigFileError(
                target, f"was written but cannot be synced to disk: {error.strerror}."
            ) from None
    finally:
        posix.close(directory_fd)


def _write_all(fd: int, pieces: list[bytes | memoryview]) -> None:
    """Write ``pieces`` in order with writev(), resuming after a short write."""
    pending = [memoryview(piece) for piece in pieces if len(piece)]
    while pending:
        written = posix.writev(fd, pending[:_MOST_BUFFERS])
        while pending and written >= len(pending[0]):
            written -= len(pending.pop(0))
        if pending:
            pending[0] = pending[0][written:]


def _create_temporary(
    directory_fd: int, name: str, target: str, mode: int, owner: tuple[int, int] | None
) -> tuple[int, str]:
    """A new file beside the target, with its final mode and owner: its fd and name.

    Written by hand rather than with ``tempfile``, whose import costs more
    than a maintainer script's whole edit of a configuration file. A
    temporary file a killed run left behind keeps its hidden name: nothing
    reads it, and ``remove_stale_temporaries`` deletes it under the lock.
    """
    for _attempt in range(100):
        temp_name = f".{name}.{posix.urandom(6).hex()}{TEMP_SUFFIX}"
        try:
            return create_file(directory_fd, temp_name, mode, owner, target), temp_name
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


def _unlink_quietly(name: str, directory_fd: int) -> None:
    try:
        posix.unlink(name, dir_fd=directory_fd)
    except FileNotFoundError:
        return  # already gone


# -- one writer at a time ------------------------------------------------------

LOCK_TIMEOUT = 60.0
STALE_AFTER = 60.0  # seconds: a temporary file this old under the lock is a killed run's


class FileLock:
    """An exclusive lock that serializes the edits of one file across processes.

    The lock is taken with ``flock`` on the file itself, which every
    writer replaces by a rename: a writer that was waiting on the old
    file finds, once it holds the lock, that the path names another file,
    and locks that one instead. A file that does not exist yet is locked
    through its directory until it is created. Use ``FileLock.acquire``.
    """

    def __init__(self, fd: int, path: str, content: bytes | None) -> None:
        self._fd: int | None = fd
        self.path = path
        self.content = content  # of the file locked, or None when it did not exist

    @classmethod
    def acquire(cls, path: str, timeout: float = LOCK_TIMEOUT) -> "FileLock":
        """Wait (at most ``timeout`` seconds) until this process alone edits ``path``."""
        import fcntl  # noqa: PLC0415 (writers only; a small built-in module)
        import time  # noqa: PLC0415

        deadline = time.monotonic() + timeout
        while True:
            identity = file_identity(path)
            fd = open_regular(path) if identity is not None else open_directory(_split(path)[0])
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise ConfigFileError(
                                path,
                                f"another process has been editing it for {timeout:g} s.",
                                hint="find the process that holds it (fuser), then run again.",
                            ) from None
                        time.sleep(0.005)
                # The path must still name the very file locked. Compared with the open
                # descriptor's inode, which cannot be reused while it is held open (the
                # identity seen before opening can be: a later file may take its number).
                locked = posix.fstat(fd)
                held = None if identity is None else (locked.st_dev, locked.st_ino)
                if file_identity(path) == held:
                    # Its content, not its inode, mtime and size, tells whether it changed since a
                    # caller read it: a replaced file may reuse all three within one clock tick.
                    lock = cls(fd, path, read_fd(fd, path) if identity else None)
                    fd = -1
                    lock.remove_stale_temporaries()
                    return lock
            finally:
                if fd >= 0:
                    posix.close(fd)

    def release(self) -> None:
        """Let the next writer in (closing the descriptor drops the lock)."""
        if self._fd is not None:
            posix.close(self._fd)
            self._fd = None

    def remove_stale_temporaries(self) -> None:
        """Delete the temporary files of this path that a killed writer left behind.

        Only hidden regular files named like this module's temporaries of
        this very file, and older than any write takes, are removed: under
        the lock nobody else is writing them.
        """
        import time  # noqa: PLC0415

        directory, name = _split(self.path)
        prefix, size = f".{name}.", len(name) + 2 + 12 + len(TEMP_SUFFIX)
        try:
            names = posix.listdir(directory or ".")
        except OSError:
            return  # an unreadable directory: the leftovers stay, harmless
        now = time.time()
        for entry in names:
            if len(entry) != size or not entry.startswith(prefix) or not entry.endswith(TEMP_SUFFIX):
                continue
            path = directory + entry
            info = _lstat(path)
            if info is not None and _is_regular(info.st_mode) and now - info.st_mtime > STALE_AFTER:
                try:
                    posix.unlink(path)
                except OSError:
                    continue
