"""The default user's password: read from stdin or a file, hashed, never shown."""

from __future__ import annotations

import os

from ..errors import InvalidValueError
from ..run import run
from ..secretfile import read_secret_file, read_secret_stdin


def read_password(source: str) -> str:
    """The password from ``source``: ``-`` for stdin, else a file readable only by its owner.

    Both are read by ``secretfile``. A value that is neither is refused
    without being echoed: it may be the password itself, typed on the
    command line as the reference tool wants.
    """
    if source == "-":
        return read_secret_stdin("password")
    if not os.path.lexists(source):
        raise InvalidValueError(
            "The --password argument is neither '-' nor an existing file.",
            hint="a password on the command line shows in ps: pipe it in with '-p -' "
            "or put it in a mode 0600 file and pass its path.",
        )
    return read_secret_file(source)


def hash_password(password: str) -> str:
    """The SHA-512 crypt hash of ``password`` (computed by openssl, the password on its stdin)."""
    result = run(
        ["openssl", "passwd", "-6", "-stdin"],
        stdin=password + "\n",
        hint="install openssl.",
        secrets=(password,),
    )
    return result.stdout.strip()
