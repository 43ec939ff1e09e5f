"""Secret options of the commands: ``--NAME-stdin`` or ``--NAME-file FILE``, never the secret itself."""

from __future__ import annotations

import argparse

from ..secretfile import read_secret_file, read_secret_stdin


def add_secret_options(
    parser: argparse.ArgumentParser, name: str, what: str, *, required: bool = False
) -> None:
    """Add ``--NAME-stdin`` and ``--NAME-file FILE``; ``required`` makes one of them mandatory."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument(f"--{name}-stdin", action="store_true", help=f"read {what} from stdin")
    group.add_argument(f"--{name}-file", metavar="FILE", help=f"read {what} from FILE (mode 0600)")


def read_secret(args: argparse.Namespace, name: str) -> str | None:
    """The secret given with ``--NAME-stdin`` or ``--NAME-file`` (see ``secretfile``), or None."""
    attribute = name.replace("-", "_")
    if getattr(args, f"{attribute}_stdin"):
        return read_secret_stdin(name.replace("-", " "))
    path = getattr(args, f"{attribute}_file")
    return read_secret_file(path) if path else None
