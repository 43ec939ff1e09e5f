"""``pkgos maintscript``, ``gen-maintscripts``, ``gen-debian``, ``merge-templates``, ``profile``."""

from __future__ import annotations

import argparse
import os
import sys

from ..build.maintscripts import GenerateRequest, Style, generate, generate_debian
from ..build.templates import MergeRequest, merge
from ..maintscript.phases import Phase, main
from ..profile import load, shipped_profiles
from ..questions import Family

HELP = """\
Run one maintainer script phase of a service from its profile. dpkg's
arguments follow the profile: a packager's debian/glance-common.postinst
can be the one line

    pkgos maintscript postinst glance "$@"

config asks the debconf questions (seeded from the current config);
postinst configure creates the user, directories and config files and
applies what the configure_* answers ask for; postrm purge removes them
(and the database, if the purge-db question says so). Other dpkg actions
do nothing. PROFILE is a shipped profile's name (pkgos profile list) or
the path of a profile file.
"""

MERGE_HELP = """\
Merge the debconf templates of the named question families (db, rabbit,
ksat, endpoint; keystone for Keystone's own package; placement, neutron,
nova, my-ip, cinder, metadata-agent, linuxbridge for the settings nova's and
neutron's packages ask; api-db for nova-api's novaapi/configure_db)
into debian/PACKAGE.templates with PREFIX as the question prefix
(PREFIX/configure_db ...), keeping the package's own templates, and
merge their translations into debian/po/ (the package's own translations
win). Needs po-debconf and gettext. po2debconf then produces the
localized fields at build time.
"""

GENERATE_HELP = """\
Check PROFILE and write debian/PACKAGE.config, .postinst and .postrm, each
one call into this toolkit. A mistake in the profile fails here, with the
file and key named.
"""


GEN_DEBIAN_HELP = """\
Write everything debconf needs in a consumer package's debian/ directory
from its service profile, in one go (a package's own profile file is
embedded in the scripts, which must work before the package is unpacked
and after its files are removed): debian/PACKAGE.templates with the
question families the package asks (db, rabbit and ksat for the
profile's package, endpoint for the package that registers the catalog,
keystone for Keystone's own, and those the profile's [[asks]] give it),
their translations in debian/po/, and debian/PACKAGE.config, .postinst
and .postrm. Running it again changes nothing. Needs po-debconf and
gettext. PROFILE is a shipped profile's name or a profile file's path.

example (in a source tree, from debian/rules or by hand):
  pkgos gen-debian glance glance-common
  pkgos gen-debian glance glance-api --shell
  pkgos gen-debian debian/mysvc.profile.toml mysvc --shell
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the maintainer script commands."""
    raw = argparse.RawDescriptionHelpFormatter
    phase = subparsers.add_parser(
        "maintscript",
        help="run a maintainer script phase of a service",
        description=HELP,
        formatter_class=raw,
    )
    phase.add_argument(
        "phase", choices=[p.value for p in Phase], metavar="PHASE", help="config, postinst, prerm or postrm"
    )
    phase.add_argument("profile", metavar="PROFILE")
    phase.add_argument(
        "--script",
        help="path of the maintainer script that runs this command (default: dpkg's, from its environment)",
    )
    phase.add_argument(
        "--profile-fd",
        type=int,
        metavar="FD",
        help="read the profile's text from this file descriptor (a profile embedded in "
        "the script); PROFILE then only names it",
    )
    phase.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="dpkg's arguments")
    phase.set_defaults(handler=_maintscript)

    merge = subparsers.add_parser(
        "merge-templates",
        help="merge shared debconf templates into a package",
        description=MERGE_HELP,
        formatter_class=raw,
    )
    merge.add_argument("package", metavar="PACKAGE")
    merge.add_argument("prefix", metavar="PREFIX")
    merge.add_argument("families", nargs="+", choices=[f.value for f in Family], metavar="FAMILY")
    merge.add_argument(
        "--debian-dir", default="debian", help="the package's debian/ directory (default: debian)"
    )
    merge.set_defaults(handler=_merge_templates)

    writers = (
        ("gen-maintscripts", "write a package's maintainer scripts", GENERATE_HELP, generate),
        (
            "gen-debian",
            "write a package's templates, translations and maintainer scripts",
            GEN_DEBIAN_HELP,
            generate_debian,
        ),
    )
    for name, summary, description, writer in writers:
        command = subparsers.add_parser(name, help=summary, description=description, formatter_class=raw)
        command.add_argument(
            "profile", metavar="PROFILE", help="a shipped profile's name (glance) or a profile file's path"
        )
        command.add_argument("package", metavar="PACKAGE", help="the binary package (glance-common)")
        command.add_argument(
            "--debian-dir", default="debian", help="the package's debian/ directory (default: debian)"
        )
        command.add_argument("--shell", action="store_true", help="write /bin/sh scripts with #DEBHELPER#")
        command.set_defaults(handler=_generate, writer=writer)

    profile = subparsers.add_parser("profile", help="list or check service profiles")
    actions = profile.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="the shipped profiles").set_defaults(handler=_profile_list)
    check = actions.add_parser("check", help="load and validate profiles (names or files)")
    check.add_argument("profiles", nargs="+", metavar="PROFILE")
    check.set_defaults(handler=_profile_check)


def dpkg_script_path() -> str | None:
    """The running maintainer script's path, from what dpkg puts in the environment."""
    package = os.environ.get("DPKG_MAINTSCRIPT_PACKAGE")
    name = os.environ.get("DPKG_MAINTSCRIPT_NAME")
    if not package or not name:
        return None
    admin = os.environ.get("DPKG_ADMINDIR", "/var/lib/dpkg")
    return os.path.join(admin, "info", f"{package}.{name}")


def _maintscript(args: argparse.Namespace) -> int:
    script = args.script or dpkg_script_path() or sys.argv[0]
    text = None
    if args.profile_fd is not None:
        with open(args.profile_fd, encoding="utf-8", closefd=True) as handle:
            text = handle.read()
    main(args.profile, args.phase, [script, *args.args], text=text)
    return 0


def _merge_templates(args: argparse.Namespace) -> int:
    families = tuple(dict.fromkeys(Family(name) for name in args.families))
    print(merge(MergeRequest(args.debian_dir, args.package, args.prefix, families)))
    return 0


def _generate(args: argparse.Namespace) -> int:
    style = Style.SHELL if args.shell else Style.PYTHON
    for path in args.writer(GenerateRequest(args.profile, args.package, args.debian_dir, style)):
        print(path)
    return 0


def _profile_list(args: argparse.Namespace) -> int:
    for name in shipped_profiles():
        print(name)
    return 0


def _profile_check(args: argparse.Namespace) -> int:
    for name in args.profiles:
        profile = load(name)
        print(
            f"{profile.source}: ok ({profile.name}: {len(profile.databases)} database(s), "
            f"{len(profile.catalog)} catalog entr{'y' if len(profile.catalog) == 1 else 'ies'})"
        )
    return 0
