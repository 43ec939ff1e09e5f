"""``pkgos ini``: read and edit oslo.config-style files from the shell."""

from __future__ import annotations

import argparse

from ..errors import InvalidValueError
from ..fileio import file_identity
from ..inifile import (
    IniFile,
    normalize_section,
    oslo_literal,
    oslo_references,
    oslo_unliteral,
    paste_literal,
    paste_unliteral,
)
from ..secretfile import read_secret_stdin

HELP = """\
Read and edit oslo.config-style files (nova.conf, glance-api.conf,
api-paste.ini) without losing a byte: comments, blank lines and order stay
as they are, any value round-trips (quotes are added only where
oslo.config needs them), and the file is replaced atomically, keeping its
owner and mode, and only when its content changes. Concurrent edits of one
file wait for each other.

'get' and 'set' speak values as the service reads them (--format):
  oslo   (default) what oslo.config reads: '$' is written '$$', so a
         password such as 'pa$s' reaches the service as it is
  paste  (default for files named *paste.ini) what the paste loader's
         ConfigParser reads: '%' is written '%%', no quotes are added
  raw    the text as written, for a template such as '$state_path/lock'
"""

FORMATS = ("oslo", "paste", "raw")


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
    _format_option(get)
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
    _format_option(set_)
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


def _format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="how the value is written in the file: oslo ($ as $$), paste (%% as %%%%) or raw "
        "(default: paste for *paste.ini files, else oslo)",
    )


def value_format(path: str, chosen: str | None) -> str:
    """The format of ``--format``, else the one a file's name implies."""
    if chosen:
        return chosen
    return "paste" if path.rpartition("/")[2].endswith("paste.ini") else "oslo"


def _get(args: argparse.Namespace) -> int:
    conf = IniFile(args.file)
    kind = value_format(args.file, args.format)
    text = conf.get_written(args.section, args.key) if kind == "paste" else conf.get(args.section, args.key)
    if text is None:
        return 1
    if kind == "oslo":
        references = oslo_references(text)
        if references:
            raise InvalidValueError(
                f"[{args.section}] {args.key} in {args.file} refers to option {references[0]!r} "
                "(a $name reference), which only the service resolves.",
                hint="read the template with --format raw.",
            )
        text = oslo_unliteral(text)
    elif kind == "paste":
        unescaped = paste_unliteral(text)
        if unescaped is None:
            raise InvalidValueError(
                f"[{args.section}] {args.key} in {args.file} holds a '%' that is no '%%': "
                "a %(name)s reference, or an error for the paste loader.",
                hint="read the text with --format raw.",
            )
        text = unescaped
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValueError(
            f"[{args.section}] {args.key} in {args.file} is not valid UTF-8: no service can read it.",
            hint="rewrite the value in UTF-8 with pkgos ini set.",
        ) from None
    print(text)
    return 0


def _set(args: argparse.Namespace) -> int:
    value = read_secret_stdin("value", allow_empty=True) if args.stdin else args.value
    kind = value_format(args.file, args.format)
    with IniFile(args.file, create=args.create, new_file_mode=0o640) as conf:
        if kind == "oslo":
            conf.set(args.section, args.key, oslo_literal(value))
        elif kind == "paste":
            conf.set(args.section, args.key, paste_literal(value), verbatim=True)
        else:
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
    if normalize_section(args.section) == normalize_section(args.new_section) and args.key == args.new_key:
        raise InvalidValueError(
            f"Cannot rename [{args.section}] {args.key} in {args.file} to itself.",
            hint="give the new section and key the directive moves to.",
        )
    with IniFile(args.file) as conf:
        conf.rename(args.section, args.key, args.new_section, args.new_key)
    return 0


def _remove_section(args: argparse.Namespace) -> int:
    with IniFile(args.file) as conf:
        conf.remove_section(args.section)
    return 0


def _extract_section(args: argparse.Namespace) -> int:
    identity = file_identity(args.file)
    if identity is not None and identity == file_identity(args.destination):
        raise InvalidValueError(
            f"Cannot extract [{args.section}] from {args.file} into {args.destination}: "
            "they are the same file.",
            hint="give another destination file.",
        )
    with (
        IniFile(args.file) as source,
        IniFile(args.destination, create=True, new_file_mode=0o640) as destination,
    ):
        source.extract_section(args.section, destination)
    return 0
