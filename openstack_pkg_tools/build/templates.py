"""Merge the shared debconf templates and their translations into a package.

``pkgos merge-templates glance-common glance db rabbit ksat`` renders the
chosen families' questions (``questions.TABLE``) with the package's prefix into
``debian/glance-common.templates`` (the package's own templates are kept,
our stanzas replace earlier copies of themselves), lists that file in
``debian/po/POTFILES.in``, merges our translations into
``debian/po/<lang>.po`` (the package's own translations win) and refreshes
``debian/po/templates.pot`` with po-debconf's ``debconf-updatepo``. At
build time, ``po2debconf`` then produces the localized fields.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from ..errors import InvalidValueError
from ..fileio import atomic_write, read_bytes
from ..profile import PACKAGE_RE
from ..questions import Family, Question, of_family
from ..run import run

# The long descriptions' lines, as the shared templates have always been wrapped.
EXTENDED_WIDTH = 72
POTFILES_LINE = "[type: gettext/rfc822deb] {package}.templates"
TEMPLATE_NAME_RE = re.compile(r"^Template:\s*(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class MergeRequest:
    """What to merge where."""

    debian_dir: str
    package: str
    prefix: str
    families: tuple[Family, ...]


def _source(name: str) -> resources.abc.Traversable:
    return resources.files("openstack_pkg_tools").joinpath("templates", name)


def stanza(question: Question, prefix: str) -> str:
    """The debconf template stanza of ``question`` for ``prefix``."""
    lines = [f"Template: {question.full_name(prefix)}", f"Type: {question.type}"]
    if question.choices:
        lines.append(f"Choices: {', '.join(question.choices)}")
    default = question.default_for(prefix)
    if default:
        lines.append(f"Default: {default}")
    lines.append(f"_Description: {question.description}")
    lines += [f" {line}" for line in textwrap.wrap(question.extended, width=EXTENDED_WIDTH)]
    return "\n".join(lines)


def render(prefix: str, families: Sequence[Family]) -> list[str]:
    """The stanzas of ``families`` for ``prefix``, in the order their questions are asked."""
    return [stanza(question, prefix) for family in families for question in of_family(family)]


def split_stanzas(text: str) -> list[str]:
    """A templates file's stanzas (blank-line separated)."""
    return [block.strip("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]


def stanza_name(stanza: str) -> str | None:
    """The ``Template:`` name of a stanza."""
    match = TEMPLATE_NAME_RE.search(stanza)
    return match.group(1) if match else None


def merged_templates(existing: str, ours: Sequence[str]) -> str:
    """The package's own stanzas, then ours (replacing earlier copies of ours)."""
    names = {stanza_name(stanza) for stanza in ours}
    kept = [stanza for stanza in split_stanzas(existing) if stanza_name(stanza) not in names]
    return "\n\n".join([*kept, *ours]) + "\n"


def languages() -> list[str]:
    """The languages we ship translations for."""
    folder = _source("po")
    return sorted(entry.name.removesuffix(".po") for entry in folder.iterdir() if entry.name.endswith(".po"))


def _read_text(path: str) -> str:
    return read_bytes(path).decode("utf-8") if os.path.exists(path) else ""


def _ensure_potfiles(po_dir: str, package: str) -> bool:
    path = os.path.join(po_dir, "POTFILES.in")
    lines = _read_text(path).splitlines()
    line = POTFILES_LINE.format(package=package)
    if line in lines:
        return False
    return atomic_write(path, ("\n".join([*lines, line]) + "\n").encode("utf-8"))


def _merge_po(po_dir: str, language: str, scratch: str) -> bool:
    ours = os.path.join(scratch, f"{language}.po")
    with open(ours, "wb") as handle:
        handle.write(_source("po").joinpath(f"{language}.po").read_bytes())
    target = os.path.join(po_dir, f"{language}.po")
    if not os.path.exists(target):
        return atomic_write(target, read_bytes(ours))
    merged = os.path.join(scratch, f"{language}.merged.po")
    # --use-first: the package's own translation of a string wins over ours.
    run(["msgcat", "--use-first", "-o", merged, target, ours], hint="install gettext.")
    # An unchanged set of strings leaves the file as debconf-updatepo last wrote it.
    if _messages(merged, scratch) == _messages(target, scratch):
        return False
    return atomic_write(target, read_bytes(merged))


def _messages(path: str, scratch: str) -> bytes:
    """The messages of a po file without its header, in a canonical form."""
    canonical = os.path.join(scratch, "canonical.po")
    run(["msgcat", "--sort-output", "--no-wrap", "--no-location", "-o", canonical, path])
    text = read_bytes(canonical)
    return text.split(b"\n\n", 1)[1] if b"\n\n" in text else b""


def merge(request: MergeRequest) -> str:
    """Do the merge; return the path of the templates file written."""
    if not PACKAGE_RE.fullmatch(request.package) or not PACKAGE_RE.fullmatch(request.prefix):
        raise InvalidValueError(
            f"Cannot merge templates for package {request.package!r} with prefix {request.prefix!r}.",
            hint="both must be Debian package names (lowercase letters, digits, + - .).",
        )
    if not os.path.isdir(request.debian_dir):
        raise InvalidValueError(
            f"{request.debian_dir} is not a directory.",
            hint="run from the source tree, or pass --debian-dir.",
        )
    templates = os.path.join(request.debian_dir, f"{request.package}.templates")
    text = merged_templates(_read_text(templates), render(request.prefix, request.families))
    changed = atomic_write(templates, text.encode("utf-8"))
    po_dir = os.path.join(request.debian_dir, "po")
    os.makedirs(po_dir, exist_ok=True)
    changed |= _ensure_potfiles(po_dir, request.package)
    scratch = tempfile.mkdtemp(prefix="pkgos-po.")
    try:
        for language in languages():
            changed |= _merge_po(po_dir, language, scratch)
    finally:
        shutil.rmtree(scratch)
    if not changed and os.path.exists(os.path.join(po_dir, "templates.pot")):
        # Nothing new: refreshing would only move the dates in the headers.
        return templates
    run(
        [
            "debconf-updatepo",
            f"--podir={os.path.abspath(po_dir)}",
            f"--msgid-bugs-address={request.package}@packages.debian.org",
        ],
        cwd=os.path.dirname(os.path.abspath(request.debian_dir)),
        hint="install po-debconf.",
    )
    return templates
