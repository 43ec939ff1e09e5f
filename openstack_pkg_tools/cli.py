"""The ``pkgos`` command: argument parsing and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .commands import db, image, ini, keystone, maintscript, metapkg, preseed, rabbit
from .errors import PkgosError

# Each group module registers its own subcommands.
COMMAND_GROUPS = (ini, db, rabbit, keystone, maintscript, metapkg, preseed, image)

DESCRIPTION = """\
Configure OpenStack services on Debian from debconf answers, and help
packagers build the maintainer scripts that do it.
"""

EPILOG = """\
exit status: 0 on success, 1 when 'ini get' finds the key unset or 'preseed
check' finds problems, 2 on any error (bad input, a failed command); the
message names the file or object and how to fix it. Secrets are read from stdin or from files, never from
the command line.
"""


def build_parser() -> argparse.ArgumentParser:
    """The complete ``pkgos`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="pkgos",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pkgos`` with ``argv``; return the exit code."""
    return run_handler(build_parser().parse_args(argv))


def run_handler(args: argparse.Namespace) -> int:
    """Run the handler ``args`` selected; turn the toolkit's errors into exit code 2."""
    try:
        return int(args.handler(args))
    except PkgosError as error:
        print(f"pkgos: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("pkgos: interrupted", file=sys.stderr)
        return 130
