"""The ``pkgos`` command: argument parsing and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__
from .errors import PkgosError

# Each module of openstack_pkg_tools.commands registers its own subcommands;
# this table says which module has which command, so that a run imports the
# one module it needs (shell scripts call pkgos ini many times), and --help
# all of them. A unit test checks the table against what modules register.
COMMANDS = {
    "ini": "ini",
    "db": "db",
    "dbsync": "db",
    "rabbit": "rabbit",
    "keystone": "keystone",
    "maintscript": "maintscript",
    "merge-templates": "maintscript",
    "gen-maintscripts": "maintscript",
    "gen-debian": "maintscript",
    "profile": "maintscript",
    "metapkg": "metapkg",
    "preseed": "preseed",
    "build-image": "image",
    "image-test": "image",
    "image-upload": "image",
    "rewire": "rewire",
    "archive": "rewire",
}

DESCRIPTION = """\
Configure OpenStack services on Debian from debconf answers, and help
packagers build the maintainer scripts that do it.
"""

EPILOG = """\
exit status: 0 on success, 1 when 'ini get' finds the key unset or 'preseed
check' finds problems, 2 on any error (bad input, a failed command); the
message names the file or object and how to fix it. Secrets are read from
stdin or from files, never from the command line.
"""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``pkgos`` argument parser: for ``command`` only when it is known, else complete."""
    parser = argparse.ArgumentParser(
        prog="pkgos",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for module in modules:
        importlib.import_module(f"{__package__}.commands.{module}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pkgos`` with ``argv``; return the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments else None
    return run_handler(build_parser(command).parse_args(arguments))


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
