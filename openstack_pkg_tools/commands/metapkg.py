"""``pkgos metapkg``: build the meta-packages from their definitions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import InvalidValueError

if TYPE_CHECKING:
    from ..build.metapkg import MetaPackage

HELP = """\
Build OpenStack's meta-packages (openstack-compute-node,
openstack-proxy-node, ...) from their declarative definitions: one TOML
file per package in meta-packages/, with its relations (pre_depends,
depends, recommends, suggests), summary, description, version and target
release. Each is packed with dpkg-deb into NAME_VERSION_all.deb; builds are
reproducible, so a package whose definition did not change is not rewritten.

example:
  pkgos metapkg build --definitions meta-packages --output build/meta-packages
  pkgos metapkg control --definitions meta-packages > debian/control.binary
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pkgos metapkg`` and its subcommands."""
    parser = subparsers.add_parser(
        "metapkg",
        help="build the OpenStack meta-packages",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build", help="build binary packages (.deb)", description="Build binary packages with dpkg-deb."
    )
    _definitions(build)
    build.add_argument("--output", default=".", metavar="DIR", help="where the .deb files go (default: .)")
    build.add_argument(
        "names", nargs="*", metavar="NAME", help="build only these meta-packages (default: all)"
    )
    build.set_defaults(handler=_build)
    control = actions.add_parser(
        "control",
        help="print the binary packages' debian/control stanzas",
        description="Print one debian/control stanza per meta-package, as dpkg-deb gets it.",
    )
    _definitions(control)
    control.set_defaults(handler=_control)


def _definitions(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--definitions",
        default="meta-packages",
        metavar="DIR",
        help="folder of the *.toml definitions (default: meta-packages)",
    )


def _selected(args: argparse.Namespace) -> list[MetaPackage]:
    # Imported here, in each handler, so that pkgos --help stays fast.
    from ..build.metapkg import load_all  # noqa: PLC0415

    packages = load_all(args.definitions)
    names = getattr(args, "names", [])
    unknown = sorted(set(names) - {package.name for package in packages})
    if unknown:
        raise InvalidValueError(
            f"No definition of meta-package {unknown[0]!r} in {args.definitions}.",
            hint=f"choose among: {', '.join(package.name for package in packages)}.",
        )
    return [package for package in packages if not names or package.name in names]


def _build(args: argparse.Namespace) -> int:
    from ..build.metapkg import build  # noqa: PLC0415

    for package in _selected(args):
        print(build(package, args.output))
    return 0


def _control(args: argparse.Namespace) -> int:
    from ..build.metapkg import control_stanza, installed_size, package_tree  # noqa: PLC0415

    stanzas = [
        control_stanza(package, installed_size(package_tree(package))).dump() for package in _selected(args)
    ]
    print("\n".join(stanzas), end="")
    return 0
