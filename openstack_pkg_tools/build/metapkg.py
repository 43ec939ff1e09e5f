"""Meta-packages: one declarative TOML file each, built into binary packages.

A meta-package holds no program, only relations (``Pre-Depends``,
``Depends``, ``Recommends``, ``Suggests``) and its documentation, so that
``apt-get install openstack-compute-node`` turns a machine into a node.
Each definition in ``meta-packages/`` is loaded and checked before anything
is built; ``control_stanza`` writes its ``debian/control`` stanza with
python-debian, and ``build`` lays out the package tree and packs it with
``dpkg-deb``. Builds are reproducible (fixed timestamps, root ownership), so
building again writes no new file.
"""

from __future__ import annotations

import datetime
import email.utils
import gzip
import hashlib
import os
import re
import shutil
import tempfile
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import fileio, tomltable
from ..errors import ConfigFileError
from ..profile import PACKAGE_RE
from ..run import run
from ..tomltable import Table

if TYPE_CHECKING:
    from debian.deb822 import Deb822

# Debian policy 5.6.12 (the package name's pattern, 5.6.1, is profile.PACKAGE_RE).
VERSION_RE = re.compile(r"[0-9][A-Za-z0-9.+~]*")
RELEASE_RE = re.compile(r"[a-z][a-z0-9-]*")
MAINTAINER_RE = re.compile(r"[^<>\n]+ <[^<>@\s]+@[^<>@\s]+>")
NON_EMPTY = re.compile(r"(?s).*\S.*")
HINT = "see the definitions in meta-packages/ and docs/operators.md."
SUMMARY_MAX = 80

RELATION_FIELDS = {
    "pre_depends": "Pre-Depends",
    "depends": "Depends",
    "recommends": "Recommends",
    "suggests": "Suggests",
}
STRING_FIELDS = ("name", "version", "release", "maintainer", "summary", "description")

COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: openstack-pkg-tools

Files: *
Copyright: {year} openstack-pkg-tools maintainers
License: Apache-2.0
 On Debian systems, the complete text of the Apache License, Version 2.0
 can be found in /usr/share/common-licenses/Apache-2.0.
"""


@dataclass(frozen=True)
class MetaPackage:
    """One meta-package, as its definition file declares it.

    Relations are kept as written (``"nova-compute-kvm | nova-compute-qemu"``),
    one entry per comma-separated item of the control field.
    """

    name: str
    version: str
    release: str
    date: datetime.date
    maintainer: str
    summary: str
    description: str
    section: str = "metapackages"
    priority: str = "optional"
    pre_depends: tuple[str, ...] = ()
    depends: tuple[str, ...] = ()
    recommends: tuple[str, ...] = ()
    suggests: tuple[str, ...] = ()

    @property
    def deb_name(self) -> str:
        """The file name ``dpkg-deb`` output gets, as Debian names it."""
        return f"{self.name}_{self.version}_all.deb"

    def relations(self) -> dict[str, tuple[str, ...]]:
        """The non-empty relation fields, by control field name."""
        fields = {field: getattr(self, attr) for attr, field in RELATION_FIELDS.items()}
        return {field: items for field, items in fields.items() if items}


def load(path: str | os.PathLike[str]) -> MetaPackage:
    """Read and check one definition file; raise ConfigFileError on any problem."""
    path = os.fspath(path)
    try:
        text = fileio.read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigFileError(path, "is not UTF-8 text.", hint=HINT) from None
    return _from_table(path, tomltable.parse(text, path, hint=HINT))


def load_all(directory: str | os.PathLike[str]) -> list[MetaPackage]:
    """Every ``*.toml`` definition in ``directory``, sorted by name."""
    paths = sorted(Path(directory).glob("*.toml"))
    if not paths:
        raise ConfigFileError(
            os.fspath(directory), "holds no meta-package definition (*.toml).", hint="check the path."
        )
    return [load(path) for path in paths]


def _from_table(path: str, top: Table) -> MetaPackage:
    strings = {
        key: top.string(key, pattern=NON_EMPTY, means="a non-empty string").strip() for key in STRING_FIELDS
    }
    package = MetaPackage(
        name=strings["name"],
        version=strings["version"],
        release=strings["release"],
        date=top.date("date"),
        maintainer=strings["maintainer"],
        summary=strings["summary"],
        description=strings["description"],
        section=top.string("section", "metapackages", NON_EMPTY, "a non-empty string"),
        priority=top.string("priority", "optional", NON_EMPTY, "a non-empty string"),
        pre_depends=_relations(top, "pre_depends"),
        depends=_relations(top, "depends"),
        recommends=_relations(top, "recommends"),
        suggests=_relations(top, "suggests"),
    )
    top.done()
    _check(path, package)
    return package


def _relations(top: Table, key: str) -> tuple[str, ...]:
    from debian.deb822 import PkgRelation  # noqa: PLC0415 (python-debian is slow to import)

    value = top.strings(key, [])
    for item in value:
        alternatives = PkgRelation.parse_relations(item)
        names = [alt["name"] for group in alternatives for alt in group]
        if "," in item or not names or not all(PACKAGE_RE.fullmatch(name) for name in names):
            raise top.fail(
                key,
                f"invalid relation {item!r}.",
                hint='one package per item; alternatives with "|": "nova-compute-kvm | nova-compute-qemu".',
            )
    return tuple(item.strip() for item in value)


def _check(path: str, package: MetaPackage) -> None:
    stem = Path(path).stem
    checks = (
        (PACKAGE_RE.fullmatch(package.name), f"'name' {package.name!r} is not a valid Debian package name."),
        (package.name == stem, f"'name' {package.name!r} differs from the file name {stem!r}."),
        (VERSION_RE.fullmatch(package.version), f"'version' {package.version!r} is not a native version."),
        (RELEASE_RE.fullmatch(package.release), f"'release' {package.release!r} is not a Debian codename."),
        (MAINTAINER_RE.fullmatch(package.maintainer), "'maintainer' must read 'Full Name <address>'."),
        (len(package.summary) <= SUMMARY_MAX, f"'summary' is longer than {SUMMARY_MAX} characters."),
        ("\n" not in package.summary, "'summary' must be one line."),
        (package.depends or package.pre_depends, "a meta-package needs 'depends' or 'pre_depends'."),
    )
    for ok, problem in checks:
        if not ok:
            raise ConfigFileError(path, problem)


def control_stanza(package: MetaPackage, installed_size: int) -> Deb822:
    """The binary package's control stanza (``DEBIAN/control``), field order as Debian's tools write it."""
    from debian.deb822 import Deb822  # noqa: PLC0415 (python-debian is slow to import)

    stanza = Deb822()
    stanza["Package"] = package.name
    stanza["Version"] = package.version
    stanza["Architecture"] = "all"
    stanza["Maintainer"] = package.maintainer
    stanza["Installed-Size"] = str(installed_size)
    for field, items in package.relations().items():
        stanza[field] = ", ".join(items)
    stanza["Section"] = package.section
    stanza["Priority"] = package.priority
    stanza["Description"] = package.summary + "\n" + _extended(package.description)
    return stanza


def _extended(text: str) -> str:
    """The extended description, wrapped, paragraphs separated by ' .' lines."""
    paragraphs = [" ".join(block.split()) for block in text.strip().split("\n\n")]
    lines: list[str] = []
    for paragraph in paragraphs:
        if lines:
            lines.append(".")
        lines.extend(textwrap.wrap(paragraph, width=72))
    return "\n".join(" " + line for line in lines)


def changelog(package: MetaPackage) -> str:
    """A one-entry Debian changelog for the package's version and release."""
    return (
        f"{package.name} ({package.version}) {package.release}; urgency=medium\n\n"
        f"  * Built from meta-packages/{package.name}.toml.\n\n"
        f" -- {package.maintainer}  {email.utils.format_datetime(_release_moment(package))}\n"
    )


def _release_moment(package: MetaPackage) -> datetime.datetime:
    """Midnight UTC of the package's date: its changelog entry's time and SOURCE_DATE_EPOCH."""
    return datetime.datetime.combine(package.date, datetime.time(), tzinfo=datetime.UTC)


def package_tree(package: MetaPackage) -> dict[str, bytes]:
    """Every file of the binary package but ``DEBIAN/control``, by path below the root."""
    doc = f"usr/share/doc/{package.name}"
    return {
        f"{doc}/copyright": COPYRIGHT.format(year=package.date.year).encode(),
        # Fixed mtime and no file name, so the build is reproducible.
        f"{doc}/changelog.gz": gzip.compress(changelog(package).encode(), compresslevel=9, mtime=0),
    }


def installed_size(files: Mapping[str, bytes]) -> int:
    """Installed-Size in KiB, counted as dpkg-gencontrol does: each file rounded up."""
    return sum((len(data) + 1023) // 1024 for data in files.values()) + len(files)


def _md5sums(files: Mapping[str, bytes]) -> bytes:
    """DEBIAN/md5sums: dpkg's integrity list (not a security measure)."""
    lines = [
        f"{hashlib.md5(data, usedforsecurity=False).hexdigest()}  {path}\n" for path, data in files.items()
    ]
    return "".join(sorted(lines)).encode()


def _source_date_epoch(package: MetaPackage) -> str:
    return str(int(_release_moment(package).timestamp()))


def build(package: MetaPackage, output_dir: str | os.PathLike[str]) -> Path:
    """Build ``package`` into ``output_dir``; return the .deb's path.

    The package is built in a private temporary directory and copied over
    the existing one only if its bytes differ, so building twice changes
    nothing.
    """
    output = Path(output_dir) / package.deb_name
    files = package_tree(package)
    stage = tempfile.mkdtemp(prefix="pkgos-metapkg-")
    try:
        root = Path(stage, "root")
        _write_tree(root, package, files)
        built = Path(stage, package.deb_name)
        run(
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(built)],
            env={"SOURCE_DATE_EPOCH": _source_date_epoch(package)},
            hint="install dpkg (dpkg-deb).",
        )
        os.makedirs(output.parent, exist_ok=True)
        fileio.atomic_write(str(output), built.read_bytes())
    finally:
        shutil.rmtree(stage)
    return output


def _write_tree(root: Path, package: MetaPackage, files: Mapping[str, bytes]) -> None:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o644)
    debian = root / "DEBIAN"
    debian.mkdir(mode=0o755)
    (debian / "md5sums").write_bytes(_md5sums(files))
    (debian / "control").write_bytes(control_stanza(package, installed_size(files)).dump().encode())
    # A umask may have narrowed the directories dpkg-deb packs as they are.
    for directory in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        directory.chmod(0o755)
    for path in debian.iterdir():
        path.chmod(0o644)
