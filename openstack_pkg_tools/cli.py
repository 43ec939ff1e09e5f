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


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: raised so that every ``finally`` (temporary files) runs."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number


def _terminate(signal_number: int, _frame: object) -> None:
    raise Terminated(signal_number)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pkgos`` with ``argv``; return the exit code."""
    import signal  # noqa: PLC0415 (the command only; the library never sets handlers)

    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _terminate)
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments else None
    try:
        args = build_parser(command).parse_args(arguments)
    except KeyboardInterrupt:
        return _interrupted()
    except Terminated as signal_received:
        return _terminated(signal_received)
    return run_handler(args)


def _interrupted() -> int:
    print("pkgos: interrupted", file=sys.stderr)
    return 130


def _terminated(signal_received: Terminated) -> int:
    print(f"pkgos: terminated by signal {signal_received.signal_number}", file=sys.stderr)
    return 128 + signal_received.signal_number


def run_handler(args: argparse.Namespace) -> int:
    """Run the handler ``args`` selected; turn the toolkit's errors into exit code 2.

    An OSError or UnicodeError that no code of the toolkit turned into its
    own error is a bug, but the user still gets one line, naming what
    failed and the line of the toolkit it came from, not a traceback.
    """
    try:
        return int(args.handler(args))
    except PkgosError as error:
        print(f"pkgos: error: {error}", file=sys.stderr)
        return error.exit_code
    except (OSError, UnicodeError) as error:
        print(f"pkgos: error: {unexpected(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return _interrupted()
    except Terminated as signal_received:
        return _terminated(signal_received)


def unexpected(error: OSError | UnicodeError) -> str:
    """One line for an error the toolkit did not expect: what, and where in the toolkit."""
    import traceback  # noqa: PLC0415 (only on this path)

    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if f"/{__package__}/" in frame.filename] or frames
    where = ""
    if ours:
        frame = ours[-1]
        where = f" (in {__package__}{frame.filename.rpartition(__package__)[2]}:{frame.lineno}, {frame.name})"
    if isinstance(error, OSError):
        detail = error.strerror or str(error)
        subject = f"{error.filename}: " if error.filename else ""
    else:
        detail, subject = str(error), ""
    return (
        f"{subject}{detail}{where}. Hint: this is a {type(error).__name__} the toolkit did not expect; "
        "please report it with the command that caused it."
    )
