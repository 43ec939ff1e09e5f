"""The default user's password: read from stdin or a file, hashed, never shown."""

from __future__ import annotations

import os
import stat
import sys

from ..errors import InvalidValueError
from ..run import run


def read_password(source: str) -> str:
    """The password from ``source``: ``-`` for stdin, else a file readable only by its owner.

    A value that is neither is refused without being echoed: it may be the
    password itself, typed on the command line as the reference tool wants.
    """
    if source == "-":
        text = sys.stdin.read()
    else:
        try:
            info = os.stat(source)
        except OSError:
            raise InvalidValueError(
                "The --password argument is neither '-' nor an existing file.",
                hint="a password on the command line shows in ps: pipe it in with '-p -' "
                "or put it in a mode 0600 file and pass its path.",
            ) from None
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise InvalidValueError(
                f"Password file {source} is readable by others.", hint=f"chmod 600 {source}."
            )
        with open(source) as handle:
            text = handle.read()
    password = text.removesuffix("\n")
    if not password:
        raise InvalidValueError("The password is empty.", hint="give a non-empty password, or no --password.")
    return password


def hash_password(password: str) -> str:
    """The SHA-512 crypt hash of ``password`` (computed by openssl, the password on its stdin)."""
    result = run(["openssl", "passwd", "-6", "-stdin"], stdin=password + "\n", hint="install openssl.")
    return result.stdout.strip()
