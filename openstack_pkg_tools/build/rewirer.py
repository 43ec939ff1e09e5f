"""Rewiring Debian's binary packages: reading them, planning, writing the rewired ones.

The pure decisions live in ``build/rewire.py``; this module reads the
original package (``build/debfile.py``), runs the same generator as
``pkgos gen-debian --shell`` in a scratch ``debian/`` folder, turns its
templates into the binary form with ``po2debconf`` (translations merged
in, as a package build does), and writes the rewired package beside a
changelog entry.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import textwrap
import time
from dataclasses import dataclass

from .. import __version__
from ..errors import InvalidValueError
from ..fileio import atomic_write
from ..profile import ServiceProfile, load, shipped_profiles
from ..questions import families
from ..run import run
from ..steps import purged_paths
from . import debfile
from .maintscripts import GenerateRequest, Style, generate_debian
from .rewire import (
    SCRIPTS,
    UPGRADES_FROM,
    Block,
    Context,
    Outcome,
    ParsedScript,
    Plan,
    RewireError,
    Side,
    Step,
    new_version,
    parse_script,
    rewired_script,
    steps_of,
    template_names,
)

# The toolkit's own packages carry an epoch, so that they sort above
# Debian's shell library openstack-pkg-tools 123 (see debian/changelog).
TOOLKIT_EPOCH = 1
TOOLKIT_PACKAGE = "openstack-pkg-tools"
GENERATED_PHASES = ("config", "postinst", "postrm")
DEBCONF_RELATION = "debconf (>= 0.5) | debconf-2.0"


def toolkit_version() -> str:
    """The Debian version of the toolkit's packages that this code is."""
    return f"{TOOLKIT_EPOCH}:{__version__}"


def toolkit_relation() -> str:
    """The dependency a rewired package gains.

    The rewired scripts run the ``pkgos`` command, which is in
    ``openstack-pkg-tools``; that package depends on the library
    ``python3-openstack-pkg-tools`` of the same version.
    """
    return f"{TOOLKIT_PACKAGE} (>= {toolkit_version()})"


@dataclass(frozen=True)
class Original:
    """A Debian binary package as read from its file."""

    path: str
    files: dict[str, debfile.ControlFile]
    fields: dict[str, str]

    @property
    def package(self) -> str:
        """Its name."""
        return self.fields["Package"]

    @property
    def version(self) -> str:
        """Its version."""
        return self.fields["Version"]

    @property
    def source(self) -> str:
        """Its source package's name (the ``Source`` field without a version)."""
        return self.fields.get("Source", self.package).split()[0]

    @property
    def depends(self) -> frozenset[str]:
        """The names of the packages it depends on (``Pre-Depends`` and ``Depends``, every alternative)."""
        relations = ", ".join(self.fields.get(name, "") for name in ("Pre-Depends", "Depends"))
        return frozenset(
            re.split(r"[\s(:]", alternative.strip(), maxsplit=1)[0]
            for relation in relations.split(",")
            for alternative in relation.split("|")
            if alternative.strip()
        )

    def text(self, name: str) -> str:
        """A control file's text, empty when the package has none."""
        item = self.files.get(name)
        return item.data.decode("utf-8") if item else ""


def read(path: str) -> Original:
    """Read ``path``'s control archive."""
    from debian.deb822 import Deb822  # noqa: PLC0415 (only packagers' commands need it)

    files = debfile.control_files(path)
    if "control" not in files:
        raise debfile.DebFileError(f"{path} has no control file.", hint="give a Debian binary package.")
    fields = dict(Deb822(files["control"].data.decode("utf-8")))
    return Original(path, files, fields)


@dataclass(frozen=True)
class Generated:
    """What the generator gives a package: its scripts and its binary templates."""

    scripts: dict[str, str]
    templates: str  # po2debconf's output; empty when the package asks nothing
    questions: frozenset[str]


def profile_for(original: Original, profile: str | None) -> str | None:
    """The profile that describes ``original``: the one given, or the shipped one named like its source."""
    if profile is not None:
        return profile
    return original.source if original.source in shipped_profiles() else None


def generate(profile: str, package: str) -> Generated:
    """Run ``gen-debian --shell``'s generator for ``package`` in a scratch folder."""
    with tempfile.TemporaryDirectory(prefix="pkgos-rewire.") as debian:
        generate_debian(GenerateRequest(profile, package, debian, Style.SHELL))
        scripts = {}
        for phase in GENERATED_PHASES:
            with open(os.path.join(debian, f"{package}.{phase}"), encoding="utf-8") as handle:
                scripts[phase] = handle.read()
        source = os.path.join(debian, f"{package}.templates")
        templates, questions = "", frozenset[str]()
        if os.path.exists(source):
            with open(source, encoding="utf-8") as handle:
                questions = frozenset(template_names(handle.read()))
            templates = run(["po2debconf", source], hint="install po-debconf.").stdout
        return Generated(scripts, templates, questions)


def _without_idle_phases(generated: Generated, profile: ServiceProfile, package: str) -> Generated:
    """The generated scripts less those with nothing to do for ``package``.

    A package that asks nothing (nova-scheduler, nova-compute-qemu) gets no
    ``config`` (a config script without templates is lintian's
    ``no-debconf-templates``), and no ``postrm`` when its purge has nothing
    to remove (its own would only source debconf, which lintian's
    ``postrm-does-not-purge-debconf`` flags).
    """
    scripts = dict(generated.scripts)
    if not generated.templates:
        scripts.pop("config", None)
        if not (purged_paths(profile, package) or profile.leavings_for(package)):
            scripts.pop("postrm", None)
    return dataclasses.replace(generated, scripts=scripts)


def plan(original: Original, profile: str | None, revision: int = 1) -> tuple[Plan, Generated | None]:
    """Decide what rewiring ``original`` does; the generator's output when it is rewired."""
    scripts = tuple(parse_script(phase, original.text(phase)) for phase in SCRIPTS if phase in original.files)
    version = new_version(original.version, revision)

    def decided(outcome: Outcome, name: str | None, reason: str, steps: tuple[Step, ...] = ()) -> Plan:
        return Plan(original.package, original.version, version, name, outcome, scripts, steps, reason=reason)

    name = profile_for(original, profile)
    loaded = load(name) if name is not None else None
    # A package with no configuration of its own is rewired all the same
    # when its profile gives it something to do (questions, a setting, a
    # membership), which Debian's scripts would not do.
    unconfigured = "templates" not in original.files and "config" not in original.files
    if unconfigured and (loaded is None or original.package not in loaded.packages):
        return decided(Outcome.KEEP, None, "no configuration of its own: scripts unchanged"), None
    if name is None or loaded is None:
        reason = f"no shipped profile is named {original.source}; give one with --profile"
        return decided(Outcome.REFUSE, None, reason), None
    try:
        generated = generate(name, original.package)
    except InvalidValueError as error:
        return decided(Outcome.REFUSE, name, error.message), None
    generated = _without_idle_phases(generated, loaded, original.package)
    context = Context(
        original.package,
        loaded,
        frozenset(families(loaded, original.package)),
        generated.questions,
        debfile.shipped_modes(original.path),
        original.depends,
        UPGRADES_FROM.get(original.source),
    )
    steps = steps_of(scripts, context)
    missing = tuple(q for q in template_names(original.text("templates")) if q not in generated.questions)
    refused = [step for step in steps if step.verdict.replaced_by is None]
    if refused and unconfigured:
        # Debian's scripts, kept, still do every step; only the profile's part is missing.
        reason = (
            f"no configuration of its own: scripts unchanged; NOT applied: its part of profile {name}, "
            f"while {len(refused)} of its steps are expressed by nothing (first {refused[0].where})"
        )
        return decided(Outcome.KEEP, name, reason, steps), None
    if refused:
        result = decided(Outcome.REFUSE, name, "steps nothing in the toolkit expresses", steps)
    else:
        result = decided(Outcome.REWIRE, name, "", steps)
    return dataclasses.replace(result, missing_questions=missing), generated


def control_text(
    original: Original, version: str, siblings: dict[str, tuple[str, str]], toolkit: bool
) -> str:
    """The rewired control file: new version, exact relations on rewired siblings moved, the toolkit added.

    ``siblings`` maps a package rewired in the same run to its (old, new)
    versions: ``glance-common (= OLD)`` becomes ``glance-common (= NEW)``.
    """
    text = original.text("control")
    text = re.sub(r"^Version: .*$", f"Version: {version}", text, count=1, flags=re.MULTILINE)
    for name, (old, new) in siblings.items():
        # The whole name only: keystone's own relation must not move python3-keystone's.
        exact = re.compile(rf"(?<![a-z0-9+.-]){re.escape(name)} \(= {re.escape(old)}\)")
        text = exact.sub(f"{name} (= {new})", text)
    if toolkit:
        relation = toolkit_relation()
        depends = re.findall(r"^(?:Pre-)?Depends: (.*)$", text, flags=re.MULTILINE)
        if not any(re.search(r"(^|[ ,|])debconf([ (,|]|$)", relations) for relations in depends):
            # The toolkit's scripts source debconf's confmodule, even where Debian's did not
            # (the agents, nova-scheduler): the relation debhelper would give them.
            relation = f"{DEBCONF_RELATION}, {relation}"
        if re.search(r"^Depends:", text, flags=re.MULTILINE):
            text = re.sub(r"^(Depends: .*)$", rf"\1, {relation}", text, count=1, flags=re.MULTILINE)
        else:
            text = re.sub(r"^(Description:)", f"Depends: {relation}\n\\1", text, count=1, flags=re.MULTILINE)
    return text


def changelog_entry(original: Original, result: Plan, date: str) -> str:
    """The changelog entry that says what was rewired (kept beside the package, not in it)."""
    kept = sorted({f"{s.phase}: {b.tool}" for s in result.scripts for b in s.blocks})
    lines = [
        f"{original.source} ({result.new_version}) bookworm; urgency=medium",
        "",
        f"  * {original.package} {original.version} rewired by pkgos rewire {toolkit_version()}"
        + (f" from profile {result.profile}." if result.profile else "."),
    ]
    if result.outcome is Outcome.REWIRE:
        lines += [
            "  * Maintainer scripts (and templates, if it asks) generated by the toolkit;",
            "    Debian's pasted shell library dropped; files unchanged.",
            "  * Kept debhelper blocks: " + ("; ".join(kept) if kept else "none") + ".",
            f"  * Depends: {toolkit_relation()}.",
        ]
    elif not result.profile:
        lines.append("  * No configuration of its own: scripts and files unchanged.")
    else:  # its profile names it, but a step of its scripts is expressed by nothing
        lines += textwrap.wrap(f"* Kept: {result.reason}.", 72, initial_indent="  ", subsequent_indent="    ")
    lines += ["", f" -- pkgos rewire <root@localhost>  {date}", ""]
    return "\n".join(lines)


# What dh_installdebconf writes into the postrm of a package with
# templates: a package whose original had no such block gains it.
DEBCONF_RELATION = "debconf (>= 0.5) | debconf-2.0"
DEBCONF_PURGE = (
    "# Added by pkgos rewire: debconf's purge, as dh_installdebconf writes it\n"
    'if [ "$1" = purge ] && [ -e /usr/share/debconf/confmodule ]; then\n'
    "\t. /usr/share/debconf/confmodule\n"
    "\tdb_purge\n"
    "fi\n"
    "# End added section\n"
)


def _with_debconf_purge(script: ParsedScript) -> ParsedScript:
    """``script`` (a postrm) with debconf's purge block, unless dh_installdebconf gave it one."""
    if any(block.tool.startswith("dh_installdebconf/") for block in script.blocks):
        return script
    block = Block(0, 0, "pkgos rewire (debconf's purge)", DEBCONF_PURGE, Side.AFTER)
    return dataclasses.replace(script, blocks=(*script.blocks, block))


def rewired_files(
    original: Original, result: Plan, generated: Generated | None, siblings: dict[str, tuple[str, str]]
) -> dict[str, debfile.ControlFile]:
    """The rewired package's control archive."""
    files = dict(original.files)
    control = control_text(original, result.new_version, siblings, result.outcome is Outcome.REWIRE)
    files["control"] = debfile.ControlFile("control", control.encode("utf-8"), 0o644)
    if result.outcome is not Outcome.REWIRE or generated is None:
        return files
    by_phase = {script.phase: script for script in result.scripts}
    for phase in SCRIPTS:
        script = by_phase.get(phase, ParsedScript(phase, "", (), (), (), frozenset()))
        if phase == "postrm" and generated.templates and phase in generated.scripts:
            script = _with_debconf_purge(script)
        if phase in generated.scripts:
            text = rewired_script(script, generated.scripts[phase])
        elif (script.has_own_logic or script.libraries) and not script.blocks:
            # Nothing of it is left: an empty script is no script (lintian's maintainer-script-empty).
            files.pop(phase, None)
            continue
        elif script.has_own_logic or script.libraries:
            text = rewired_script(script, None)
        else:
            continue  # only debhelper's blocks (or nothing): the original as it is
        files[phase] = debfile.ControlFile(phase, text.encode("utf-8"), 0o755)
    if generated.templates:
        files["templates"] = debfile.ControlFile("templates", generated.templates.encode("utf-8"), 0o644)
    else:
        files.pop("templates", None)
    return files


def deb_name(package: str, version: str, architecture: str) -> str:
    """The file name Debian gives a package (no epoch)."""
    return f"{package}_{version.split(':', 1)[-1]}_{architecture}.deb"


def rewire(
    paths: list[str], output_dir: str, profile: str | None, revision: int = 1
) -> list[tuple[Plan, str | None]]:
    """Rewire every package of ``paths`` into ``output_dir``; refuse all if one is refused.

    Returns each plan with the path written (None for none). Nothing is
    written when a package is refused: a half-rewired set of sibling
    packages (exact version relations) would not install.
    """
    originals = [read(path) for path in paths]
    plans = [plan(original, profile, revision) for original in originals]
    refused = [result for result, _ in plans if result.outcome is Outcome.REFUSE]
    if refused:
        raise RewireError(
            _refusal(refused),
            hint="run pkgos rewire --explain on it; a profile field or a "
            "question family must express each refused step.",
        )
    siblings = {result.package: (result.version, result.new_version) for result, _ in plans}
    os.makedirs(output_dir, exist_ok=True)
    written: list[tuple[Plan, str | None]] = []
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(_epoch(originals[0].path)))
    for original, (result, generated) in zip(originals, plans, strict=True):
        files = rewired_files(original, result, generated, siblings)
        name = deb_name(original.package, result.new_version, original.fields.get("Architecture", "all"))
        target = os.path.join(output_dir, name)
        debfile.write_with_control(original.path, files, target)
        entry = changelog_entry(original, result, date)
        atomic_write(target.removesuffix(".deb") + ".changelog", entry.encode("utf-8"))
        written.append((result, target))
    return written


def _epoch(path: str) -> int:
    """The original control member's date: the rewired package's dates, so rewiring is reproducible."""
    return debfile.read_members(path)[1].mtime


def _refusal(refused: list[Plan]) -> str:
    parts = []
    for result in refused:
        steps = result.refused
        if steps:
            first = steps[0]
            more = f" (and {len(steps) - 1} more)" if len(steps) > 1 else ""
            parts.append(
                f"{result.package}: {first.where} {first.line.text.splitlines()[0]!r}: "
                f"{first.verdict.reason}{more}"
            )
        else:
            parts.append(f"{result.package}: {result.reason}")
    return "Cannot rewire " + "; ".join(parts) + "."
