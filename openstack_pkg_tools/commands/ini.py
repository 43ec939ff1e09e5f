"""``pkgos ini``: read and edit oslo.config-style files from the shell."""

from __future__ import annotations

import argparse

from ..inifile import IniFile
from .secret_input import from_stdin

HELP = """\
Read and edit oslo.config-style files (nova.conf, glance-api.conf,
api-paste.ini) without losing a byte: comments, blank lines and order stay
as they are, any value round-trips (quotes are added only where
oslo.config needs them), and the file is replaced atomically, keeping its
owner and mode, and only when its content changes.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pkgos ini`` and its subcommands."""
    parser = subparsers.add_parser(
        "ini",
        help="read and edit oslo.config-style files",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    get = _add(actions, "get", "print a directive's value (exit 1 when it is unset)")
    get.set_defaults(handler=_get)

    set_ = _add(actions, "set", "set a directive (in place, un-commenting its default if needed)")
    source = set_.add_mutually_exclusive_group(required=True)
    source.add_argument("value", nargs="?", help="the value (use --stdin for secrets)")
    source.add_argument(
        "--stdin",
        action="store_true",
        help="read the value from stdin (one trailing newline is dropped), so it never shows in ps",
    )
    set_.add_argument("--create", action="store_true", help="create FILE (mode 0640) if it does not exist")
    set_.set_defaults(handler=_set)

    unset = _add(actions, "unset", "remove a directive's live lines")
    unset.set_defaults(handler=_unset)

    comment = _add(actions, "comment-out", "turn a directive into a comment")
    comment.set_defaults(handler=_comment_out)

    rename = _add(
        actions, "rename", "move a deprecated directive to NEW_SECTION NEW_KEY, commenting out the old"
    )
    rename.add_argument("new_section", metavar="NEW_SECTION")
    rename.add_argument("new_key", metavar="NEW_KEY")
    rename.set_defaults(handler=_rename)

    remove = actions.add_parser("remove-section", help="remove a section and all its lines")
    remove.add_argument("file", metavar="FILE")
    remove.add_argument("section", metavar="SECTION")
    remove.set_defaults(handler=_remove_section)

    extract = actions.add_parser("extract-section", help="move a section into another file")
    extract.add_argument("file", metavar="FILE")
    extract.add_argument("section", metavar="SECTION")
    extract.add_argument(
        "destination", metavar="DEST", help="file that receives the section (created if missing)"
    )
    extract.set_defaults(handler=_extract_section)


def _add(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("section", metavar="SECTION", help="section name, e.g. DEFAULT or filter:authtoken")
    parser.add_argument("key", metavar="KEY")
    return parser


def _get(args: argparse.Namespace) -> int:
    value = IniFile(args.file).get(args.section, args.key)
    if value is None:
        return 1
    print(value)
    return 0


def _set(args: argparse.Namespace) -> int:
    value = from_stdin() if args.stdin else args.value
    with IniFile(args.file, create=args.create, new_file_mode=0o640) as conf:
        conf.set(args.section, args.key, value)
    return 0


def _unset(args: argparse.Namespace) -> int:
    with IniFile(args.file) as conf:
        conf.unset(args.section, args.key)
    return 0


def _comment_out(args: argparse.Namespace) -> int:
    with IniFile(args.file) as conf:
        conf.comment_out(args.section, args.key)
    return 0


def _rename(args: argparse.Namespace) -> int:
    with IniFile(args.file) as conf:
        conf.rename(args.section, args.key, args.new_section, args.new_key)
    return 0


def _remove_section(args: argparse.Namespace) -> int:
    with IniFile(args.file) as conf:
        conf.remove_section(args.section)
    return 0


def _extract_section(args: argparse.Namespace) -> int:
    with (
        IniFile(args.file) as source,
        IniFile(args.destination, create=True, new_file_mode=0o640) as destination,
    ):
        source.extract_section(args.section, destination)
    return 0
