"""``pkgos rewire`` and ``pkgos archive``: Debian's packages with the toolkit's scripts, signed archive."""

from __future__ import annotations

import argparse
import sys

REWIRE_HELP = """\
Give Debian's own OpenStack packages (keystone, glance-api, ...) the
toolkit's maintainer scripts and debconf templates, generated from the
service's profile as `pkgos gen-debian --shell` does. Each package keeps
its name and its files byte for byte (the data archive is reused as it
is, conffiles and md5sums too), and every block debhelper added to its
scripts, in its phase and place. It gains a dependency on the toolkit and
a version just above the original (VERSION+pkgos1), and a changelog entry
NAME_VERSION_ARCH.changelog beside it.

A package whose scripts do something neither a question family nor its
profile expresses is refused, with the step, the script and the line
named; nothing is written then. A package with no configuration of its
own (no debconf templates, no config script) keeps its scripts.

example:
  apt-get download glance-api
  pkgos rewire --explain glance-api_*.deb
  pkgos rewire glance-api_*.deb --output-dir rewired
"""

ARCHIVE_HELP = """\
Make DIR, a folder of .deb files, a flat apt repository: Packages,
Packages.gz, Release with their hashes, and InRelease signed with a key
generated on first use and kept in --key-dir (the secret part readable by
its owner only). Prints the sources.list line, with signed-by naming the
public key. Running it again on the same files changes nothing.

example:
  pkgos archive rewired
  echo "$(pkgos archive rewired)" > /etc/apt/sources.list.d/pkgos.list
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pkgos rewire`` and ``pkgos archive``."""
    rewire = subparsers.add_parser(
        "rewire",
        help="give Debian's OpenStack packages the toolkit's maintainer scripts",
        description=REWIRE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rewire.add_argument("debs", nargs="+", metavar="DEB", help="Debian binary packages (.deb)")
    rewire.add_argument("--output-dir", metavar="DIR", help="where the rewired packages go")
    rewire.add_argument(
        "--explain", action="store_true", help="print each step and what replaces it; write nothing"
    )
    rewire.add_argument(
        "--profile", metavar="PROFILE", help="a profile name or file (default: the source's name)"
    )
    rewire.add_argument("--revision", type=int, default=1, metavar="N", help="the N of +pkgosN (default: 1)")
    rewire.set_defaults(handler=_rewire)

    archive = subparsers.add_parser(
        "archive",
        help="make a folder of .deb files a signed flat apt repository",
        description=ARCHIVE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    archive.add_argument("directory", metavar="DIR")
    archive.add_argument(
        "--key-dir", metavar="DIR", help="where the signing key is kept (default: DIR/../.pkgos-archive-key)"
    )
    archive.set_defaults(handler=_archive)


def _rewire(args: argparse.Namespace) -> int:
    from ..build import rewirer  # noqa: PLC0415 (cheap imports: only this command needs it)
    from ..build.rewire import Outcome, explain  # noqa: PLC0415

    if args.explain:
        status = 0
        for path in args.debs:
            result, _ = rewirer.plan(rewirer.read(path), args.profile, args.revision)
            sys.stdout.write(explain(result))
            status = status or int(result.outcome is Outcome.REFUSE)
        return status
    if not args.output_dir:
        from ..errors import InvalidValueError  # noqa: PLC0415

        raise InvalidValueError(
            "pkgos rewire needs --output-dir (or --explain).", hint="add --output-dir DIR."
        )
    for result, path in rewirer.rewire(args.debs, args.output_dir, args.profile, args.revision):
        print(f"{result.package} {result.new_version} ({result.outcome}): {path}")
    return 0


def _archive(args: argparse.Namespace) -> int:
    from ..build import archive  # noqa: PLC0415

    print(archive.publish(args.directory, args.key_dir))
    return 0
