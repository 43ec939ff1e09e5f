"""The one reader of secrets: a file only its owner can read, or stdin.

Every command that takes a password (``--password-file``, ``--admin-file``,
``image -p FILE``, ``ini set --stdin``) reads it here, with one set of
rules and one wording of their errors:

* the file is a regular file (a FIFO or a device is refused before it is
  opened), reached through a symbolic link only where ``fileio`` allows it;
* its mode gives group and others nothing (0600 or stricter): a secret
  others can read is already lost;
* it belongs to the caller or to root: a file another user owns holds what
  that user chose, and root would set that as a password;
* it is at most ``SECRET_LIMIT`` bytes (``STORE_LIMIT`` for a whole store),
  so a wrong path such as a disk image is refused rather than read;
* it is UTF-8; one trailing line break (``\\n`` or ``\\r\\n``, what ``echo``
  and editors add) is dropped, and an empty secret is refused.

No message ever quotes the content.
"""

from __future__ import annotations

import posix
import sys

from .errors import ConfigFileError, InvalidValueError
from .fileio import open_regular, read_fd

SECRET_LIMIT = 64 * 1024
STORE_LIMIT = 4 * 1024 * 1024


def strip_newline(value: str) -> str:
    """``value`` without one trailing line break (what ``echo`` or a file editor adds)."""
    if value.endswith("\n"):
        value = value[:-1]
        if value.endswith("\r"):
            value = value[:-1]
    return value


def read_secret_bytes(path: str, *, limit: int = STORE_LIMIT) -> bytes:
    """The whole content of the secret file ``path``, after the checks of the module's docstring."""
    fd = open_regular(path)
    try:
        info = posix.fstat(fd)
        mode = info.st_mode & 0o7777
        if mode & 0o077:
            raise ConfigFileError(
                path,
                f"holds a secret, but group or others may read it (mode {mode:04o}).",
                hint=f"chmod 600 {path}",
            )
        if info.st_uid not in (0, posix.geteuid()):
            raise ConfigFileError(
                path,
                f"holds a secret, but user {info.st_uid} owns it and could change it.",
                hint="make it belong to root or to the user who runs pkgos.",
            )
        return read_fd(fd, path, limit)
    finally:
        posix.close(fd)


def read_secret_file(path: str, *, whole: bool = False, limit: int | None = None) -> str:
    """The secret in the file ``path``, as text.

    By default one trailing line break is dropped and an empty secret is
    refused; ``whole=True`` returns the whole text as it is (a store of
    several secrets, such as a TOML file), up to ``STORE_LIMIT`` bytes.
    """
    data = read_secret_bytes(path, limit=limit or (STORE_LIMIT if whole else SECRET_LIMIT))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigFileError(
            path, "holds a secret that is not valid UTF-8.", hint="write it in UTF-8."
        ) from None
    if whole:
        return text
    secret = strip_newline(text)
    if not secret:
        raise ConfigFileError(path, "holds no secret: it is empty.", hint="write the secret into it.")
    return secret


def read_secret_stdin(what: str = "secret", *, allow_empty: bool = False) -> str:
    """A secret read from stdin: UTF-8, one trailing line break dropped, at most ``SECRET_LIMIT`` bytes."""
    stream = getattr(sys.stdin, "buffer", None)  # None when a test put a text stream there
    data = stream.read(SECRET_LIMIT + 1) if stream else sys.stdin.read(SECRET_LIMIT + 1).encode()
    if len(data) > SECRET_LIMIT:
        raise InvalidValueError(
            f"The {what} read from stdin is longer than {SECRET_LIMIT} bytes.", hint="check what is piped in."
        )
    try:
        secret = strip_newline(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidValueError(
            f"The {what} read from stdin is not valid UTF-8.", hint="pipe it in UTF-8."
        ) from None
    if not secret and not allow_empty:
        raise InvalidValueError(f"The {what} read from stdin is empty.", hint="pipe in a non-empty value.")
    return secret
