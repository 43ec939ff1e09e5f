"""``pkgos preseed``: generate preseed files per node role, and check them."""

from __future__ import annotations

import argparse
import sys

from ..fileio import read_bytes

HELP = """\
Generate debconf preseed files (debconf-set-selections format) for the
node roles all-in-one, controller and compute from one site file, and
check a preseed file against the debconf templates of the packages it
answers.

The site file (TOML) says where the database, RabbitMQ and Keystone are,
the region and the controller's address; passwords are never in it but in
the password store it names ([passwords] store, mode 0600). With
[passwords] generate = true, missing passwords are generated at random and
added to the store; none is ever printed. See preseed/example-site.toml.

example:
  pkgos preseed generate site.toml --output-dir /root/preseed
  pkgos preseed check /root/preseed/compute.preseed
  debconf-set-selections /root/preseed/compute.preseed
  DEBIAN_FRONTEND=noninteractive apt-get install -y openstack-compute-node

exit status of check: 0 when the file has no problem, 1 when it has (one
line per problem, FILE:LINE: message), 2 on an error.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pkgos preseed`` and its subcommands."""
    parser = subparsers.add_parser(
        "preseed",
        help="generate and check preseed files per node role",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    generate = actions.add_parser(
        "generate",
        help="write ROLE.preseed files (mode 0600) from a site file",
        description="Write one preseed per role from SITE; passwords come from the site's password store.",
    )
    generate.add_argument("site", metavar="SITE.toml", help="the site file")
    generate.add_argument(
        "--output-dir", default=".", metavar="DIR", help="where ROLE.preseed go (default: .)"
    )
    generate.add_argument(
        "--role",
        action="append",
        metavar="ROLE",
        help="all-in-one, controller or compute; repeat for several (default: all three)",
    )
    generate.set_defaults(handler=_generate)

    check = actions.add_parser(
        "check",
        help="report every problem of a preseed file with its line number",
        description="Check FILE: unknown questions, wrong types, bad booleans, values not among a "
        "select's choices, answers given twice, and answers its role needs but lacks.",
    )
    check.add_argument("file", metavar="FILE", help="the preseed file")
    check.add_argument(
        "--templates",
        action="append",
        metavar="FILE",
        help="rendered debconf templates of a package the preseed answers "
        "(e.g. /var/lib/dpkg/info/glance-common.templates); repeat for each. "
        "Default: the templates this toolkit gives each service, and those of "
        "the installed packages the preseed names",
    )
    check.add_argument(
        "--role", metavar="ROLE", help="the node role (default: the file's '# pkgos-role:' line)"
    )
    check.set_defaults(handler=_check)


def _generate(args: argparse.Namespace) -> int:
    # Imported in the handlers, so that pkgos --help stays fast.
    from ..preseed.generate import Role, generate, parse_role  # noqa: PLC0415

    roles = [parse_role(name) for name in args.role] if args.role else list(Role)
    for path in generate(args.site, args.output_dir, roles):
        print(path)
    return 0


def _check(args: argparse.Namespace) -> int:
    from ..preseed.check import check, format_problems, known_questions, parse_preseed, toolkit_questions  # noqa: PLC0415
    from ..preseed.generate import parse_role  # noqa: PLC0415

    text = read_bytes(args.file).decode("utf-8")
    if args.templates:
        questions = known_questions(read_bytes(path).decode("utf-8") for path in args.templates)
    else:
        questions = toolkit_questions(answer.owner for answer in parse_preseed(text)[0])
    role = parse_role(args.role) if args.role else None
    problems = check(text, questions, role)
    if problems:
        print(format_problems(args.file, problems), file=sys.stderr)
        return 1
    return 0
