"""Reading secrets for commands: from stdin or from a file only the owner can read."""

from __future__ import annotations

import argparse
import os
import stat
import sys

from ..errors import InvalidValueError
from ..fileio import read_bytes


def strip_newline(value: str) -> str:
    """``value`` without one trailing line break (what ``echo`` or a file editor adds)."""
    if value.endswith("\n"):
        value = value[:-1]
        if value.endswith("\r"):
            value = value[:-1]
    return value


def from_stdin() -> str:
    """A secret read from stdin (one trailing newline dropped)."""
    return strip_newline(sys.stdin.read())


def from_file(path: str) -> str:
    """A secret read from ``path``, which must not be readable by group or others."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = 0
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidValueError(
            f"The password file {path} is readable by other users (mode {stat.S_IMODE(mode):04o}).",
            hint=f"chmod 600 {path}",
        )
    return strip_newline(read_bytes(path).decode("utf-8"))


def add_secret_options(parser: argparse.ArgumentParser, name: str, what: str) -> None:
    """Add ``--NAME-stdin`` and ``--NAME-file FILE`` (never the secret itself)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(f"--{name}-stdin", action="store_true", help=f"read {what} from stdin")
    group.add_argument(f"--{name}-file", metavar="FILE", help=f"read {what} from FILE (mode 0600)")


def read_secret(args: argparse.Namespace, name: str) -> str | None:
    """The secret given with ``--NAME-stdin`` or ``--NAME-file``, or None."""
    attribute = name.replace("-", "_")
    if getattr(args, f"{attribute}_stdin"):
        return from_stdin()
    path = getattr(args, f"{attribute}_file")
    return from_file(path) if path else None
