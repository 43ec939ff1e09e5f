"""Debian's own OpenStack packages, given the toolkit's maintainer scripts: the pure part.

Debian 12's OpenStack packages paste Debian's shell library into their
maintainer scripts at build time (``### Start of included pkgos_func
library`` ... ``### End of included pkgos_func library``), follow it with
the package's own logic, and end with debhelper's blocks (``# Automatically
added by dh_...`` ... ``# End automatically added section``).

``parse_script`` splits one script into those parts; the package's own
logic is cut into steps, one per logical shell line. ``classify`` says for
each step what of the toolkit replaces it: a generic question family, a
field of the service's profile, the generated script itself, or nothing
(the step is then named, with its script and line, and the package is
refused: a step is never dropped silently). Shell syntax (``if``, ``fi``,
a plain variable) is not a step; its meaning lives in the steps it guards.

``rewired_script`` puts the generated script and the original's debhelper
blocks together, each block in its phase and on the side of the package's
own logic it was on. Everything here is pure; ``commands/rewire.py`` reads
and writes the packages.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import posixpath
import re
import shlex
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ..errors import InvalidValueError
from ..inifile import normalize_section
from ..profile import LeftoverAction, ServiceProfile, load, shipped_profiles
from ..questions import ASKED_SETTINGS, Family, by_name, needs_address, of_family

LIBRARY_START = re.compile(r"^### Start of included (\S+) library\s*$")
LIBRARY_END = re.compile(r"^### End of included (\S+) library\s*$")
DEBHELPER_START = re.compile(r"^# Automatically added by (\S+)\s*$")
DEBHELPER_END = "# End automatically added section"
SCRIPTS = ("preinst", "config", "postinst", "prerm", "postrm")


class RewireError(InvalidValueError):
    """A package cannot be rewired as it is."""


class Outcome(StrEnum):
    """What rewiring does with a package."""

    REWIRE = "rewired"  # the toolkit's scripts and templates, debhelper blocks kept
    KEEP = "kept"  # no configuration of its own: scripts unchanged, new version only
    REFUSE = "refused"  # a step nothing in the toolkit expresses


class Side(StrEnum):
    """Where a debhelper block sat relative to the package's own logic."""

    BEFORE = "before"
    AFTER = "after"


@dataclass(frozen=True)
class Line:
    """One logical shell line of a script (continuation lines joined)."""

    number: int  # first physical line, 1-based
    last: int
    text: str  # stripped, continuations kept as written
    function: str | None = None  # the shell function it is defined in


@dataclass(frozen=True)
class Block:
    """A debhelper block, kept as written."""

    number: int
    last: int
    tool: str  # dh_installinit/13.11.4
    text: str  # from its first comment to its end comment, with the newline
    side: Side


@dataclass(frozen=True)
class Library:
    """A pasted copy of Debian's shell library, dropped."""

    number: int
    last: int
    name: str  # pkgos_func, pkgos_postrm


@dataclass(frozen=True)
class ParsedScript:
    """One maintainer script cut into its parts."""

    phase: str
    text: str
    lines: tuple[Line, ...]
    blocks: tuple[Block, ...]
    libraries: tuple[Library, ...]
    functions: frozenset[str]
    variables: Mapping[str, str] = field(default_factory=dict)
    # Lines inside a loop over known values: line number to the values of
    # the loop's variables in each iteration (see ``_loops``).
    loops: Mapping[int, tuple[Mapping[str, str], ...]] = field(default_factory=dict)

    @property
    def has_own_logic(self) -> bool:
        """True when the script does something besides debhelper's blocks (and its library)."""
        return any(not _is_frame(line) for line in self.lines)


@dataclass(frozen=True)
class Context:
    """What a step is matched against: the profile and what the generator gives the package."""

    package: str
    profile: ServiceProfile
    families: frozenset[Family]
    questions: frozenset[str]  # the questions of the generated templates
    # What the package's data archive ships: path to mode, with the file type bits.
    shipped: Mapping[str, int] = field(default_factory=dict)
    # The packages it depends on (configured before it): nova-api on nova-common.
    depends: frozenset[str] = frozenset()
    # The oldest release and version Debian upgrades the package from (UPGRADES_FROM).
    upgrades_from: tuple[str, str] | None = None

    @property
    def after_profile_package(self) -> bool:
        """Whether the profile's own package, which handles the databases, is configured before this one."""
        return self.package != self.profile.package and self.profile.package in self.depends


@dataclass(frozen=True)
class Verdict:
    """What replaces a step: ``replaced_by`` or, when None, why nothing does."""

    replaced_by: str | None
    reason: str = ""
    syntax: bool = False


@dataclass(frozen=True)
class Step:
    """A step of the original scripts and its verdict."""

    phase: str
    line: Line
    verdict: Verdict

    @property
    def where(self) -> str:
        """``postinst:1304`` or ``postinst:1225-1233``."""
        span = (
            f"{self.line.number}"
            if self.line.last == self.line.number
            else f"{self.line.number}-{self.line.last}"
        )
        return f"{self.phase}:{span}"


# --- parsing --------------------------------------------------------------------------------------


def _open_quote(text: str) -> bool:
    """True when ``text`` leaves a double-quoted string open (single quotes and escapes respected)."""
    in_double = in_single = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and not in_single:
            escaped = True
        elif char == "'" and not in_double:
            in_single = not in_single
        elif char == '"' and not in_single:
            in_double = not in_double
        elif char == "#" and not in_double and not in_single:
            break
    return in_double


FUNCTION_START = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\(\)\s*\{?\s*$")
ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def parse_script(phase: str, text: str) -> ParsedScript:
    """Cut ``text`` (the ``phase`` script) into logical lines, debhelper blocks and library copies."""
    physical = text.split("\n")
    lines: list[Line] = []
    blocks: list[Block] = []
    libraries: list[Library] = []
    functions: set[str] = set()
    variables: dict[str, str] = {}
    function: str | None = None
    index = 0
    while index < len(physical):
        raw = physical[index]
        start = index + 1
        library = LIBRARY_START.match(raw)
        debhelper = DEBHELPER_START.match(raw)
        if library:
            end = _find(
                physical,
                index,
                lambda line: bool(LIBRARY_END.match(line)),
                where=f"{phase}:{start}",
                what="library",
            )
            libraries.append(Library(start, end + 1, library.group(1)))
            index = end + 1
            continue
        if debhelper:
            end = _find(
                physical,
                index,
                lambda line: line.strip() == DEBHELPER_END,
                where=f"{phase}:{start}",
                what="debhelper block",
            )
            side = Side.AFTER if any(not _is_frame(line) for line in lines) else Side.BEFORE
            blocks.append(
                Block(start, end + 1, debhelper.group(1), "\n".join(physical[index : end + 1]) + "\n", side)
            )
            index = end + 1
            continue
        logical = raw
        while (logical.rstrip().endswith("\\") or _open_quote(logical)) and index + 1 < len(physical):
            index += 1
            logical += "\n" + physical[index]
        index += 1
        stripped = logical.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = FUNCTION_START.match(stripped)
        if header and function is None:
            function = header.group(1)
            functions.add(function)
            lines.append(Line(start, index, stripped, function))
            continue
        lines.append(Line(start, index, stripped, function))
        if function is not None and stripped == "}" and not logical.startswith((" ", "\t")):
            function = None
        assignment = ASSIGNMENT.match(stripped)
        if assignment and function is None and "$(" not in stripped and "`" not in stripped:
            variables[assignment.group(1)] = assignment.group(2).strip("\"'")
    # A block is before the package's own logic only when some of it follows;
    # in a script of debhelper blocks alone they sit where #DEBHELPER# puts them.
    own_lines = [line.number for line in lines if not _is_frame(line)]
    blocks = [
        block
        if block.side is Side.AFTER or any(n > block.number for n in own_lines)
        else Block(block.number, block.last, block.tool, block.text, Side.AFTER)
        for block in blocks
    ]
    return ParsedScript(
        phase,
        text,
        tuple(lines),
        tuple(blocks),
        tuple(libraries),
        frozenset(functions),
        variables,
        _loops(lines),
    )


FOR_LOOP = re.compile(r"^for\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+(.*?)(?:\s*;?\s*do)?$", re.DOTALL)
OTHER_LOOP = re.compile(r"^(?:while|until)\s.*\bdo$", re.DOTALL)
# for i in `ls /usr/share/glance-common/metadefs/*.json`: each file a pattern matches.
LISTING = re.compile(r"^(?:`ls\s+([^\s`$]+)`|\$\(ls\s+([^\s)$]+)\))$")
# MDFILE=`basename $i`: the name of each file of the loop.
BASENAME = re.compile(
    r"^([A-Za-z_][A-Za-z0-9_]*)=(?:`basename\s+\"?\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?\"?`"
    r"|\$\(basename\s+\"?\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?\"?\))$"
)


def _loop_values(words: str) -> tuple[str, ...] | None:
    """The values a ``for`` loop goes over: literal words, or one pattern of files; None if unknown."""
    words = words.replace("\\\n", " ").strip()
    listing = LISTING.match(words)
    if listing:
        return (listing.group(1) or listing.group(2),)
    try:
        values = shlex.split(words)
    except ValueError:
        return None
    if not values or any("$" in value or "`" in value for value in values):
        return None
    return tuple(values)


def _loops(lines: list[Line]) -> dict[int, tuple[Mapping[str, str], ...]]:
    """Each line inside a ``for`` loop over known values, with its variables' values in each iteration.

    A loop over ``ls DIR/PATTERN`` goes over one value, the pattern: a
    step of its body then names every file that pattern matches. A
    ``VAR=`basename $LOOPVAR``` inside it gives ``VAR`` the last part of
    each value. A loop over anything else (a command's output) binds
    nothing: its steps are classified with the variable unexpanded.
    """
    found: dict[int, tuple[Mapping[str, str], ...]] = {}
    frames: list[tuple[Mapping[str, str], ...]] = []
    current: tuple[Mapping[str, str], ...] = ({},)
    for line in lines:
        loop = FOR_LOOP.match(line.text)
        if loop or OTHER_LOOP.match(line.text):
            frames.append(current)
            values = _loop_values(loop.group(2)) if loop else None
            if loop and values is not None:
                current = tuple({**bound, loop.group(1): value} for bound in current for value in values)
            continue
        if line.text == "done" and frames:
            current = frames.pop()
            continue
        named = BASENAME.match(line.text)
        source = named and (named.group(2) or named.group(3))
        if named and source and all(source in bound for bound in current):
            current = tuple({**bound, named.group(1): posixpath.basename(bound[source])} for bound in current)
        if frames and current != ({},):
            found[line.number] = current
    return found


def _find(physical: list[str], index: int, is_end: Callable[[str], bool], *, where: str, what: str) -> int:
    for end in range(index + 1, len(physical)):
        if is_end(physical[end]):
            return end
    raise RewireError(f"{where}: the {what} starting here never ends.", hint="is this a Debian-built script?")


def _is_frame(line: Line) -> bool:
    """A line that places no block before the own logic: shell syntax, a plain variable."""
    return _syntax_of(line.text) is not None


# --- classifying ----------------------------------------------------------------------------------

SYNTAX_WORDS = frozenset(
    {"then", "else", "fi", "do", "done", "}", "{", "esac", ";;", "continue", "break", "true", ":"}
)
CONDITION = re.compile(r"^(?:if|elif|while|until)\s+(.*?)\s*(?:;\s*(?:then|do))?$", re.DOTALL)
TEST_ONLY = re.compile(r"^(?:!\s*)?\[\s.*\]$", re.DOTALL)


def _expand(word: str, variables: Mapping[str, str]) -> str:
    """``word`` with the script's own plain variables (``${API_CONF}``) filled in."""
    for _ in range(5):  # variables built from variables (API_CONF=${ETC}/glance-api.conf)
        new = re.sub(
            r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
            lambda m: variables.get(m.group(1), m.group(0)),
            word,
        )
        if new == word:
            break
        word = new
    return word


def _words(line: Line, variables: Mapping[str, str]) -> list[str]:
    text = re.sub(r"\s*(\|\|\s*true|>\s*/dev/null(\s+2>&1)?)\s*$", "", line.text)
    text = text.replace("\\\n", " ")  # a continuation line is one line to the shell
    try:
        return [_expand(word, variables) for word in shlex.split(text, comments=True)]
    except ValueError:
        return text.split()


def _replaced(what: str) -> Verdict:
    return Verdict(what)


def _refused(why: str) -> Verdict:
    return Verdict(None, why)


def _syntax(what: str) -> Verdict:
    return Verdict(what, syntax=True)


def _syntax_of(text: str) -> Verdict | None:
    """The verdict of a line that is shell syntax rather than a step; None for a step."""
    function = FUNCTION_START.match(text)
    if function:
        return _syntax(f"shell function {function.group(1)}() (its steps follow)")
    if text.startswith("#!") or text in ("set -e", "exit 0") or text in SYNTAX_WORDS:
        return _syntax("shell syntax")
    if text.startswith("for ") and text.rstrip().endswith(("do", "; do")):
        return _syntax("a loop over the steps inside it")
    plain = "$(" not in text and "`" not in text
    if text.startswith("local ") or (plain and (ASSIGNMENT.match(text) or text.startswith("export "))):
        return _syntax("a shell variable")
    return None


def classify(line: Line, script: ParsedScript, context: Context) -> Verdict:
    """What of the toolkit replaces ``line`` of ``script``, or why nothing does.

    A step inside a loop over known values is classified once for each
    value (``rm /etc/glance/${i}`` for each file of the list), and is
    replaced only when every one is.
    """
    syntax = _syntax_of(line.text)
    if syntax is not None:
        return syntax
    iterations = script.loops.get(line.number, ())
    named = BASENAME.match(line.text)
    if named and iterations and named.group(1) in iterations[0]:
        loop = named.group(2) or named.group(3)
        return _replaced(
            f"nothing: {named.group(1)} is the name of each file ${loop} stands for (steps below)"
        )
    names = [
        name for name in (iterations[0] if iterations else {}) if re.search(rf"\$\{{?{name}\b", line.text)
    ]
    if not names:
        return _classify_line(line, script, context)
    verdicts = [
        _classify_line(line, dataclasses.replace(script, variables={**script.variables, **bound}), context)
        for bound in iterations
    ]
    return _each(verdicts)


def _each(verdicts: list[Verdict]) -> Verdict:
    """One verdict for a step done once per value of a loop: the first refusal, or what replaces them all."""
    refused = next((verdict for verdict in verdicts if verdict.replaced_by is None), None)
    if refused is not None:
        return refused
    texts = list(dict.fromkeys(verdict.replaced_by or "" for verdict in verdicts))
    if len(texts) == 1:
        return verdicts[0]
    # "the toolkit's purge (...): /etc/glance/a" and ".../b" say it once, with both paths.
    head = posixpath.commonprefix(texts)
    head = head[: head.rfind(": ") + 2] if ": " in head else ""
    return _replaced(head + (" " if head else "; ").join(text[len(head) :] for text in texts))


def _classify_line(line: Line, script: ParsedScript, context: Context) -> Verdict:
    condition = CONDITION.match(line.text)
    if condition:
        test = condition.group(1)
        if all(TEST_ONLY.match(part.strip()) for part in re.split(r"&&|\|\|", test)):
            return _syntax("a condition (pkgos maintscript decides by phase and answers)")
        return _classify_words(Line(line.number, line.last, test, line.function), script, context)
    return _classify_words(line, script, context)


GUARDED = re.compile(r"^(\[\s[^]]*\])\s*&&\s*(.+)$", re.DOTALL)


def _classify_words(line: Line, script: ParsedScript, context: Context) -> Verdict:
    guarded = GUARDED.match(line.text)
    if guarded:  # [ -e /var/lib/glance ] && rm -rf /var/lib/glance: the command is the step
        line = Line(line.number, line.last, guarded.group(2), line.function)
    words = _words(line, script.variables)
    if not words:
        return _syntax("shell syntax")
    assigned = SUBSTITUTED.match(line.text)
    if assigned:  # VAR=$(...) or VAR=`...`: what it runs is the step
        return _substituted(assigned.group(1), assigned.group(2), context)
    command = words[0]
    if command in script.functions:
        return _syntax(f"a call of {command}() (its steps are listed where it is defined)")
    handler = HANDLERS.get(command)
    if handler is not None:
        return handler(words, script, context)
    if command.startswith("db_"):
        return _debconf(words, context)
    return _refused("nothing in the toolkit expresses it")


# A variable set from a command's output: VAR=$(...) or VAR=`...` (or ${RET:-$(...)}).
SUBSTITUTED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*(?:\$\(|`).*)$", re.DOTALL)
# Debian's library checks an endpoint's address and region with these before registering.
ADDRESS_CHECK = re.compile(r"\$\{?REG_ENDPOINT_(?:IPV4|IPV6|FQDN)_REGEX")
REGION_CHECK = re.compile(r"\$\{?REG_ENDPOINT_REGION_REGEX")


def _substituted(variable: str, value: str, context: Context) -> Verdict:
    """What replaces a variable set from a command's output (Debian's password, address and checks)."""
    endpoint = any(family in context.families for family in (Family.ENDPOINT, Family.KEYSTONE))
    address_family = next((f for f in sorted(context.families) if needs_address(f)), None)
    probes_address = variable in ("DEFROUTE_IF", "DEFROUTE_IP") or any(p in value for p in ADDRESS_PROBES)
    rules = (
        (
            re.search(r"\b(?:pkgos_gen_pass|gen_password)\b", value) and Family.KEYSTONE in context.families,
            "nothing, on purpose: the toolkit never makes up an administrator password nobody is told; "
            "keystone/admin-password must be answered (a preseed needs it), and without it the "
            "bootstrap is skipped and postinst says so",
        ),
        (
            probes_address and address_family is not None,
            f"the toolkit's {address_family} family: an empty address answer is the default "
            "route's address, found when postinst runs (system.default_route_address; Debian guesses "
            "it in config, falling back to hostname -i)",
        ),
        (
            ADDRESS_CHECK.search(value) and endpoint,
            "the plan's check of the address (IPv4, IPv6 or host name, urls.check_host): a bad "
            "answer stops postinst naming the question, where Debian skipped the registration",
        ),
        (
            REGION_CHECK.search(value) and endpoint,
            "the plan's check of the region (keystone.check_region): a bad answer stops postinst "
            "naming the question, where Debian skipped the registration",
        ),
        (
            value.startswith("$(date") and _handles_databases(context),
            "nothing: it names the database dump below, which the toolkit does not make",
        ),
    )
    for applies, replacement in rules:
        if applies:
            return _replaced(replacement)
    return _refused(f"sets {variable} from a command's output: nothing in the toolkit expresses it")


def _source(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    target = words[1] if len(words) > 1 else ""
    if target == "/usr/share/debconf/confmodule":
        return _replaced("debconf: the generated scripts source confmodule")
    if target.startswith("/usr/share/dbconfig-common/dpkg/"):
        return _family(context, Family.DB, "dbconfig-common's code")
    return _refused(f"sources {target}")


def _family(context: Context, family: Family, what: str) -> Verdict:
    if family in context.families:
        return _replaced(f"the toolkit's {family} question family (replaces {what})")
    if family is Family.DB and context.profile.databases and context.after_profile_package:
        return _db_elsewhere(context, what)
    return _refused(
        f"{what}: {context.package} does not handle the {family} family in profile {context.profile.source}"
    )


def _db_elsewhere(context: Context, what: str) -> Verdict:
    """A database step of a package whose databases the profile's own package, configured first, handles."""
    names = ", ".join(database.name for database in context.profile.databases)
    owner = context.profile.package
    return _replaced(
        f"the db family of {owner}, which {context.package} depends on (so it is configured first): "
        f"{owner}'s {context.profile.prefix}/configure_db creates and migrates every database ({names}), "
        f"and its purge drops them (replaces {what})"
    )


def _debconf(words: list[str], context: Context) -> Verdict:
    command = words[0]
    if command in ("db_go", "db_stop", "db_purge", "db_version", "db_capb", "db_title", "db_settitle"):
        return _replaced("pkgos maintscript speaks debconf itself")
    questions = [word for word in words[1:] if "/" in word]
    if not questions:
        return _refused(f"{command} without a question name")
    question = questions[0]
    if question in context.questions:
        return _replaced(f"question {question} of the toolkit's templates")
    if question.endswith("/configure_db") and context.profile.databases and context.after_profile_package:
        return _db_elsewhere(context, f"Debian's {question}")
    return _refused(f"question {question} is not in the toolkit's templates for {context.package}")


def _user_group(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    user = context.profile.user
    if len(words) < 2 or words[1] != user.name:
        return _refused(f"system user {words[1:2]}: profile {context.profile.source} has user {user.name}")
    return _replaced(
        f"profile [user] {user.name} (adduser, /var/lib/{user.name}, /var/log/{user.name}; "
        f"shell {user.shell}" + (f", Debian's {words[2]})" if len(words) > 2 else ")")
    )


def _write_new_conf(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    source = words[2] if len(words) > 2 else ""
    for config in context.profile.configs:
        if posixpath.basename(config.source) == source:
            return _replaced(f'profile [[config]] source = "{config.source}" (target {config.target})')
    return _refused(f'profile {context.profile.source} has no [[config]] source = "{source}"')


def _database_step(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    args = [word for word in words[1:] if not word.startswith("-") and word != "$@"]
    if words[0] == "pkgos_dbc_read_conf":
        args = args[1:]  # -pkg PACKAGE
    if words[0] == "pkgos_dbc_postinst" and "--suite" in words:
        args = args[1:]
    if len(args) < 3:
        return _refused("unexpected arguments")
    config, section, directive = args[0], args[1], args[2]
    for database in context.profile.databases:
        if (database.config, database.section, database.directive) == (config, section, directive):
            if Family.DB not in context.families and context.after_profile_package:
                return _db_elsewhere(context, f"Debian's {words[0]} of [{section}] {directive}")
            if Family.DB not in context.families:
                return _refused(
                    f"database {database.name} ([{section}] {directive}) is handled by "
                    f"{context.profile.package}, not by {context.package}"
                )
            return _replaced(
                f"the toolkit's db family: profile [[database]] {database.name} "
                f"([{section}] {directive} in {config})"
            )
    if words[0] == "pkgos_dbc_read_conf":
        seeded = _seeded_from_another_section(config, section, directive, context)
        if seeded is not None:
            return seeded
    return _refused(
        f"profile {context.profile.source} has no [[database]] with config {config}, [{section}] {directive}"
    )


def _seeded_from_another_section(
    config: str, section: str, directive: str, context: Context
) -> Verdict | None:
    """Debian's config seeding the db answers from a section its postinst does not write.

    placement-common's config reads ``[database] connection`` while its
    postinst writes ``[placement_database]``: the toolkit's config seeds
    from the profile's first database, the section its postinst writes.
    """
    first = context.profile.databases[0] if context.profile.databases else None
    if first is None or Family.DB not in context.families or not first.section:
        return None
    if (first.config, first.directive) != (config, directive) or first.section == section:
        return None
    return _replaced(
        f"the toolkit's db family: config seeds the db answers from [{first.section}] {directive} in "
        f"{config}, where postinst writes the URL (Debian's reads [{section}], which it does not write)"
    )


def _rabbit_step(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    messaging = context.profile.messaging
    config = words[1] if len(words) > 1 else ""
    if messaging is None or config not in messaging.configs:
        return _refused(f"profile {context.profile.source} has no [messaging] for {config}")
    return _family(context, Family.RABBIT, "Debian's rabbit questions")


def _ksat_step(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    authtoken = context.profile.authtoken
    config, section = (words[1], words[2]) if len(words) > 2 else ("", "")
    if authtoken is None or config not in authtoken.configs or section != authtoken.section:
        return _refused(
            f"profile {context.profile.source} has no [keystone_authtoken] for [{section}] in {config}"
        )
    if Family.KSAT not in context.families:
        return _refused(f"the ksat family is {context.profile.package}'s, not {context.package}'s")
    return _replaced(f"the toolkit's ksat family: profile [keystone_authtoken] ([{section}] in {config})")


def _endpoint_config(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    return _family(context, Family.ENDPOINT, "Debian's endpoint questions")


def _endpoint_postinst(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    # pkgos_register_endpoint_postinst PREFIX NAME TYPE DESCRIPTION PORT PATH
    if len(words) < 6:
        return _refused("unexpected arguments")
    name, kind, port = words[2], words[3], words[5]
    path = words[6] if len(words) > 6 else ""
    for entry in context.profile.catalog_for(context.package):
        if (entry.name, entry.type, str(entry.port), entry.path) == (name, kind, port, path):
            return _replaced(
                f"the toolkit's endpoint family: profile [[catalog]] {name} type {kind} port {port}{path}"
            )
    return _refused(
        f"profile {context.profile.source} has no [[catalog]] for {context.package} with name {name}, "
        f"type {kind}, port {port}, path {path!r}"
    )


def _su(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    command = words[words.index("-c") + 1] if "-c" in words[:-1] else ""
    try:
        argv = tuple(word for word in shlex.split(command) if word not in ("2>/dev/null",))
    except ValueError:
        argv = ()
    if context.profile.bootstrap is not None and command.startswith(BOOTSTRAP_COMMANDS):
        return _replaced(
            "profile [keystone_bootstrap] (pkgos keystone bootstrap: keys, administrator, region)"
        )
    for database in context.profile.databases:
        if argv in database.sync:
            return _replaced(
                f"profile [[database]] {database.name} sync = {list(argv)} "
                f"(run as {context.profile.user.name})"
            )
    cell = _created_cell(argv, context)
    if cell is not None:
        return cell
    return _refused(f"the command {command!r} is in no profile field (only [[database]] sync commands are)")


def _created_cell(argv: tuple[str, ...], context: Context) -> Verdict | None:
    """``nova-manage cell_v2 create_cell --name=cell1 ...``: a cell of the profile's ``[cells]``."""
    cells = context.profile.cells
    if cells is None or argv[: len(cells.command) + 2] != (*cells.command, "cell_v2", "create_cell"):
        return None
    rest = argv[len(cells.command) + 2 :]
    names = [word.split("=", 1)[1] for word in rest if word.startswith("--name=")]
    names += [rest[i + 1] for i, word in enumerate(rest[:-1]) if word == "--name"]
    if len(names) != 1 or names[0] not in cells.names:
        return None
    return _replaced(
        f"profile [cells] {names[0]}: {context.profile.package}'s postinst creates it after the "
        "migrations, once (only when cell_v2 list_cells does not show it; Debian runs create_cell "
        "every time and ignores its failure)"
    )


def _trigger(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    """``dpkg-trigger nova-common-db-sync``: the profile's package migrates in its own postinst."""
    names = [word for word in words[1:] if not word.startswith("-")]
    owner = context.profile.package
    if (
        len(names) == 1
        and names[0].startswith(f"{owner}-")
        and context.profile.databases
        and context.after_profile_package
    ):
        commands = "; ".join(shlex.join(command) for db in context.profile.databases for command in db.sync)
        return _replaced(
            f"nothing: {owner}'s postinst runs every migration in profile order ({commands}) once "
            f"the databases exist, so no trigger has to run one again (the rewired {owner} ignores "
            "'triggered')"
        )
    return _refused(f"activates trigger {' '.join(names)}: no profile field does")


def _directory_of(path: str, context: Context) -> str | None:
    path = posixpath.normpath(path)
    for directory in context.profile.directories:
        if directory.path == path:
            return path
    return None


def _mkdir(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    paths = [word for word in words[1:] if not word.startswith("-")]
    missing = [path for path in paths if _directory_of(path, context) is None]
    if missing:
        return _refused(f'profile {context.profile.source} has no [[directory]] path = "{missing[0]}"')
    return _replaced(f"profile [[directory]] {', '.join(paths)}")


@dataclass(frozen=True)
class _Owned:
    """A path a profile owns: a [[directory]] or a [[config]] file's target."""

    kind: str
    path: str
    mode: int
    owner: str
    group: str
    enforce: bool = False  # set on every configure, not only when made


def _owned(path: str, context: Context) -> _Owned | None:
    path = posixpath.normpath(path)
    for directory in context.profile.directories:
        if directory.path == path:
            return _Owned(
                "[[directory]]",
                path,
                directory.mode,
                directory.owner,
                directory.group,
                directory.enforce_mode,
            )
    for config in context.profile.configs:
        if config.target == path and not config.is_pattern:
            group = config.group or context.profile.user.name
            return _Owned("[[config]]", path, config.mode, config.owner, group)
    for entry in context.profile.files_for(context.package):
        if entry.path == path:
            return _Owned("[[file]]", path, entry.mode, entry.owner, entry.group, True)
    return None


def _not_owned(path: str, context: Context) -> Verdict:
    normal = posixpath.normpath(path)
    return _refused(f'profile {context.profile.source} has no [[directory]] or [[config]] for "{normal}"')


def _chown(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    args = [word for word in words[1:] if not word.startswith("-")]
    user = context.profile.user.name
    if "-R" in words and args[1:] == [f"/var/log/{user}"] and context.profile.bootstrap is not None:
        return _replaced(
            f"nothing, on purpose: a recursive chown by root below a directory {user} writes can be "
            "turned on any file through a planted hard link; the toolkit runs every keystone-manage "
            f"as {user}, so the files it leaves there are {user}'s"
        )
    if len(args) < 2:
        return _refused("an unexpected chown")
    owner, _, group = args[0].partition(":")
    if "-R" in words:
        return _recursive_chown(owner, group or owner, [posixpath.normpath(a) for a in args[1:]], context)
    same, kept = [], []
    for path in args[1:]:
        found = _owned_for_chown(path, context)
        if isinstance(found, Verdict):
            return found
        if (found.owner, found.group) == (owner, group or found.group):
            same.append(path)
        elif _kept_from_service_user(found, owner, group or owner, context):
            kept.append(found)
        else:
            return _refused(
                f"profile {found.kind} {found.path} is {found.owner}:{found.group}, Debian's is {args[0]}"
            )
    parts = [f"profile owner and group of {', '.join(same)}"] if same else []
    parts += [
        f"nothing for {found.path}, on purpose: it stays root's (profile [[directory]] {found.path} "
        f"{found.owner}:{found.group} {found.mode:04o}, set on every configure), where Debian gives it to "
        f"{owner}: a service user owning the directory could rename or replace the root-owned files in it, "
        "those holding its database and Keystone passwords among them"
        for found in kept
    ]
    return _replaced("; ".join(parts))


def _owned_for_chown(path: str, context: Context) -> _Owned | Verdict:
    """What of the profile owns ``path``, or the refusal of a chown of it."""
    found = _owned(path, context)
    if found is None:
        return _not_owned(path, context)
    if not found.enforce and posixpath.normpath(path) in context.shipped:
        # dpkg makes what the package ships root's: Debian's chown runs on every configure.
        return _refused(
            f"profile {found.kind} {found.path} has no enforce_mode: the package ships it, "
            "so its owner would stay root"
        )
    return found


def _kept_from_service_user(found: _Owned, owner: str, group: str, context: Context) -> bool:
    """Whether the profile keeps the service's config directory root's where Debian gives it to the user.

    Only /etc/<service>, held root:<service group> with ``enforce_mode`` (so
    an upgrade from Debian's package takes it back): a deliberate hardening.
    """
    user = context.profile.user.name
    return (
        found.kind == "[[directory]]"
        and found.path == f"/etc/{context.profile.name}"
        and (owner, group) == (user, user)
        and (found.owner, found.group) == ("root", user)
        and found.enforce
    )


def _chmod(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    args = [word for word in words[1:] if not word.startswith("-")]
    if len(args) < 2 or not re.fullmatch(r"0?[0-7]{3}", args[0]):
        return _refused("a chmod no profile field expresses")
    mode = int(args[0], 8)
    shipped = [
        path for path in args[1:] if _owned(path, context) is None and _ships_mode(path, mode, context)
    ]
    if shipped and len(shipped) == len(args) - 1:
        return _replaced(
            f"nothing: dpkg installs {' '.join(shipped)} with mode {mode:04o} (the package's files)"
        )
    for path in args[1:]:
        found = _owned(path, context)
        if found is None:
            return _not_owned(path, context)
        if found.mode != mode:
            return _refused(
                f"profile {found.kind} {found.path} has mode {found.mode:04o}, Debian's {mode:04o}"
            )
    return _replaced(f"profile mode of {', '.join(args[1:])}")


def _ships_mode(path: str, mode: int, context: Context) -> bool:
    """Whether the package's files include ``path`` with permission bits ``mode``."""
    shipped = context.shipped.get(posixpath.normpath(path))
    return shipped is not None and shipped & 0o7777 == mode


def _leftover_paths(context: Context) -> set[str]:
    """What the package's purge removes besides configs and directories: leftovers and state files."""
    leftovers = context.profile.leftovers_for(context.package)
    return {p for entry in leftovers for p in (entry.path, entry.rename_to) if p} | {
        entry.path for entry in context.profile.files_for(context.package)
    }


def _rm(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    paths = [posixpath.normpath(word) for word in words[1:] if not word.startswith("-")]
    if script.phase != "postrm":
        removed = {
            entry.path
            for entry in context.profile.leftovers_for(context.package)
            if entry.action is LeftoverAction.REMOVE
        }
        if paths and all(path in removed for path in paths):
            return _replaced(f"profile [[leftover]] {' '.join(paths)} removed on configure")
        return _refused(f"removes {' '.join(paths)}: no profile field does outside a purge")
    purged = {d.path for d in context.profile.directories if d.purge}
    below = [
        path
        for path in paths
        if words[0] == "rm" and any(path.startswith(directory + "/") for directory in purged)
    ]
    extra = _leftover_paths(context)
    own = context.package == context.profile.package
    installed = [c for c in context.profile.configs if own or c.package == context.package]
    configs = {c.target for c in installed if not c.is_pattern}
    # A file a pattern installed: in its directory, with a matching name.
    configs |= {
        path
        for path in paths
        for c in installed
        if c.is_pattern
        and posixpath.dirname(path) == c.target
        and fnmatch.fnmatchcase(posixpath.basename(path), c.pattern)
    }
    if words[0] == "rmdir" and own:
        # The purge removes the profile's other directories once they are empty.
        purged |= {d.path for d in context.profile.directories}
    left = [path for path in paths if path not in purged | configs | extra and path not in below]
    if left:
        return _refused(
            f"purge of {left[0]}: profile {context.profile.source} neither purges "
            "that directory nor installs that file"
        )
    # A file below a directory another package of the service purges (nova-scheduler's
    # logs in /var/log/nova, purged by nova-common) goes with that package's purge.
    others = sorted(
        {
            f"{d.path} by {d.package or context.profile.package}"
            for d in context.profile.directories
            if d.purge
            and (d.package or context.profile.package) != context.package
            and any(path.startswith(d.path + "/") for path in below)
        }
    )
    later = f" (removed with {', '.join(others)}'s purge)" if others else ""
    return _replaced(
        "the toolkit's purge (profile directories with purge = true, config files and leftovers): "
        + " ".join(paths)
        + later
    )


def _progress(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    if re.search(r"\|\s*mysql\s", " ".join(words)):
        return _sql_pipe(context)
    return _replaced("nothing: a progress message (pkgos prints its own steps)")


def _read_config(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    # pkgos_read_config [-p PRIORITY] CONF SECTION KEY QUESTION: a question seeded from a directive.
    return _debconf(["db_input", words[-1]], context)


def _sleep(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    return _replaced("nothing: a fixed wait (the toolkit's Keystone client retries with backoff instead)")


def _inifile(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    if len(words) > 1 and words[1] == "get":
        return _replaced("nothing: it prints a value to the terminal")
    config, section, key = [*words[2:5], "?", "?", "?"][:3]
    value = words[5] if len(words) > 5 else ""
    for setting in context.profile.settings:
        if (setting.package, setting.config, setting.section, setting.key) == (
            context.package,
            config,
            section,
            key,
        ):
            if "$" not in value and value != setting.value:
                return _refused(
                    f"profile [[setting]] [{section}] {key} is {setting.value!r}, Debian's {value!r}"
                )
            return _replaced(f"profile [[setting]] [{section}] {key} = {setting.value!r} in {config}")
    asked = _asked_setting(config, section, key, value, context)
    if asked is not None:
        return asked
    return _refused(
        f"sets [{section}] {key} in {config}: profile {context.profile.source} has no [[setting]] for it"
    )


def _adduser(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    args = [word for word in words[1:] if not word.startswith("-")]
    if len(args) != 2 or args[0] != context.profile.user.name:
        return _refused("an adduser no profile field expresses")
    for membership in context.profile.memberships:
        if (membership.group, membership.package) == (args[1], context.package):
            return _replaced(f"profile [[membership]] {args[0]} in group {args[1]}")
    return _refused(
        f"profile {context.profile.source} has no [[membership]] group {args[1]} for {context.package}"
    )


def _asked_setting(config: str, section: str, key: str, value: str, context: Context) -> Verdict | None:
    """The asked-settings family of the package that writes ``[section] key`` in ``config``, if any."""
    where = (normalize_section(section), key)
    for entry in context.profile.asks_for(context.package):
        if entry.config != config:
            continue
        family = Family(entry.family)
        for question in of_family(family):
            if (
                question.writes is not None
                and (normalize_section(question.writes[0]), question.writes[1]) == where
            ):
                if "$" not in value:
                    return _refused(f"Debian writes {value!r}, not an answer, where {family} writes one")
                return _replaced(
                    f"the toolkit's {family} family: question {entry.prefix}/{question.name} "
                    f"written to [{section}] {key} in {config}"
                )
        for fixed_section, fixed_key, fixed in ASKED_SETTINGS[family].fixed:
            if (normalize_section(fixed_section), fixed_key) == where and value == fixed:
                return _replaced(f"the toolkit's {family} family: [{section}] {key} = {fixed!r} in {config}")
        for derived in ASKED_SETTINGS[family].derived:
            if (normalize_section(derived.section), derived.key) == where and "$" in value:
                return _replaced(
                    f"the toolkit's {family} family: [{section}] {key} in {config}, derived from its answers"
                )
    return None


def _install_config(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    """``cp`` or ``install`` of a default config file from /usr/share/PACKAGE/: a profile [[config]]."""
    options: dict[str, str] = {}
    args: list[str] = []
    rest = iter(words[1:])
    for word in rest:
        if words[0] == "install" and word in ("-m", "-o", "-g"):
            options[word] = next(rest, "")
        elif word.startswith("-"):
            options[word] = ""
        else:
            args.append(posixpath.normpath(word))
    if len(args) != 2 or set(options) - {"-m", "-o", "-g", "-D"}:
        return _refused("a copy no profile field expresses")
    source, target = args
    for config in context.profile.configs_for(context.package):
        # A pattern's step names its files by the pattern (the loop's variable stands for each).
        installs = posixpath.join(config.target, config.pattern) if config.is_pattern else config.target
        if (posixpath.join("/usr/share", context.package, config.source), installs) != (source, target):
            continue
        group = config.group or context.profile.user.name
        mode = options.get("-m", f"{config.mode:o}")
        if not re.fullmatch(r"0?[0-7]{3}", mode) or int(mode, 8) != config.mode:
            return _refused(f"profile [[config]] {target} has mode {config.mode:04o}, Debian's {mode}")
        if (options.get("-o", config.owner), options.get("-g", group)) != (config.owner, group):
            return _refused(
                f"profile [[config]] {target} is {config.owner}:{group}, "
                f"Debian's {options.get('-o', config.owner)}:{options.get('-g', group)}"
            )
        if config.is_pattern:
            return _replaced(
                f'profile [[config]] source = "{config.source}": each shipped file it matches, '
                f"installed once into {config.target}"
            )
        return _replaced(f'profile [[config]] source = "{config.source}" (target {target}, installed once)')
    return _refused(
        f"profile {context.profile.source} has no [[config]] of {context.package} "
        f"installing {target} from {source}"
    )


# What Keystone's own postinst runs that the profile's [keystone_bootstrap] replaces.
BOOTSTRAP_COMMANDS = (
    "keystone-manage bootstrap",
    "keystone-manage fernet_setup",
    "keystone-manage credential_setup",
)


def _invoke_rc(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    bootstrap = context.profile.bootstrap
    if bootstrap is not None and words[1:3] == [bootstrap.start, "start"]:
        return _replaced(
            f"profile [keystone_bootstrap] start = {bootstrap.start!r} (before the roles are made), "
            f"and [[service]] {bootstrap.start!r} on every configure"
            if words[1] in _services(context)
            else f"profile [keystone_bootstrap] start = {bootstrap.start!r} (before the roles are made)"
        )
    if words[0] == "invoke-rc.d" and words[2:3] == ["start"] and words[1] in _services(context):
        return _service(words[1])
    return _refused("starts or stops a service by hand: debhelper's blocks do that")


def _services(context: Context) -> set[str]:
    return {service.name for service in context.profile.services_for(context.package)}


def _service(name: str) -> Verdict:
    return _replaced(
        f"profile [[service]] {name!r}: the generated postinst enables and starts it on every configure"
    )


def _enable(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    # systemctl enable NAME, update-rc.d NAME defaults: what debhelper's blocks do for other packages.
    name = words[2] if words[0] == "systemctl" and words[1:2] == ["enable"] and len(words) == 3 else ""
    if words[0] == "update-rc.d" and words[2:] == ["defaults"]:
        name = words[1]
    if name.removesuffix(".service") in _services(context):
        return _service(name.removesuffix(".service"))
    return _refused("enables or disables a service by hand: debhelper's blocks do that")


def _a2dissite(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    if script.phase == "postrm" and context.profile.bootstrap is not None:
        return _replaced(
            "nothing: an Apache site of older keystone packages; Debian 12's keystone ships none "
            "(it serves with uwsgi, its own unit) and the profile installs none"
        )
    return _refused("an Apache site no profile field expresses")


def _openstack(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    bootstrap = context.profile.bootstrap
    if bootstrap is not None and words[1:3] in (["role", "create"], ["role", "add"], ["project", "create"]):
        return _replaced(f"profile [keystone_bootstrap]: project {bootstrap.project} and its roles")
    if bootstrap is not None and words[1:3] == ["user", "set"] and "--email" in words:
        return _replaced(
            "profile [keystone_bootstrap]: the administrator's email (keystone/admin-email); "
            "keystone-manage bootstrap leaves the user enabled; no description is set"
        )
    if bootstrap is not None and words[1:3] == ["project", "set"] and words[3:4] == ["--description"]:
        return _replaced("nothing: a description of the administrator's project, for people only")
    if words[1:3] in (["user", "create"], ["role", "add"]):
        other = _other_service_user(words, context)
        if other is not None:
            return other
    return _refused("an openstack CLI call no profile field expresses")


def _other_service_user(words: list[str], context: Context) -> Verdict | None:
    """Debian's nova-common making the user it reaches placement as: placement's own service user.

    The asked family named like the user's variable (``${PLACEMENT_USER}``
    for ``placement``) gives the credentials; the service of that name has
    a shipped profile whose ksat family makes its service user, with its
    roles, in the package that configures it.
    """
    for entry in context.profile.asks_for(context.package):
        name = entry.family
        if f"${{{name.upper()}_USER}}" not in words or name not in shipped_profiles():
            continue
        other = load(name)
        if other.authtoken is None:
            return None
        return _replaced(
            f"the user {context.package} reaches {name} as ({entry.prefix}/{name}_admin_username) is "
            f"{name}'s service user: {other.package}'s ksat family creates it with the roles "
            f"{', '.join(other.authtoken.roles)} (profile {other.source} [keystone_authtoken])"
        )
    return None


# What Debian's config runs to guess this node's address.
ADDRESS_PROBES = ("/proc/net/route", "ip addr show", "hostname -i")


def _handles_databases(context: Context) -> bool:
    """Whether the package handles the databases whose drop Debian's prerm prepares with a dump."""
    return Family.DB in context.families


def _mysqldump(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    if script.phase != "prerm" or not _handles_databases(context):
        return _refused("a database dump no profile field expresses")
    purge = by_name(Family.DB, "purge-db").full_name(context.profile.prefix)
    return _replaced(
        f"nothing: the toolkit's postrm purge drops the profile's databases "
        f"({', '.join(d.name for d in context.profile.databases)}) when {purge} is yes, and keeps "
        "no dump (Debian's prerm dumps this one to /var/tmp before dropping it on remove)"
    )


def _sql_pipe(context: Context) -> Verdict:
    """``echo "CREATE DATABASE ..." | mysql ...``: what the db family does for every profile database."""
    if Family.DB not in context.families:
        return _refused(f"SQL run by hand: {context.package} does not handle the db family")
    names = ", ".join(database.name for database in context.profile.databases)
    return _replaced(
        f"the toolkit's db family: it creates and grants, and on purge drops, every profile [[database]] "
        f"({names})"
    )


def _mv(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    paths = [posixpath.normpath(word) for word in words[1:] if not word.startswith("-")]
    for entry in context.profile.leftovers_for(context.package):
        if entry.action is LeftoverAction.RENAME and paths == [entry.path, entry.rename_to]:
            return _replaced(f"profile [[leftover]] {entry.path} renamed to {entry.rename_to} on configure")
    return _refused(f"moves {' '.join(paths)}: profile {context.profile.source} has no [[leftover]] for it")


def _touch(words: list[str], script: ParsedScript, context: Context) -> Verdict:
    paths = [posixpath.normpath(word) for word in words[1:] if not word.startswith("-")]
    made = {entry.path for entry in context.profile.files_for(context.package)}
    left = [path for path in paths if path not in made]
    if left:
        return _refused(f'profile {context.profile.source} has no [[file]] path = "{left[0]}"')
    return _replaced(f"profile [[file]] {' '.join(paths)} (made to exist, with its owner and mode)")


def _shipped_below(path: str, context: Context) -> dict[str, int]:
    """What the package ships strictly below ``path``."""
    prefix = path.rstrip("/") + "/"
    return {name: mode for name, mode in context.shipped.items() if name.startswith(prefix)}


def _recursive_chown(owner: str, group: str, paths: list[str], context: Context) -> Verdict:
    """``chown -R U:G DIR``: DIR and every directory the package ships below it are profile directories."""
    for path in paths:
        for name, mode in {path: stat.S_IFDIR, **_shipped_below(path, context)}.items():
            found = _owned(name, context)
            if not stat.S_ISDIR(mode):
                return _refused(f"{name} is a file the package ships below {path}: no profile field owns it")
            if found is None or (found.owner, found.group) != (owner, group):
                where = f'[[directory]] path = "{name}" owned {owner}:{group}'
                return _refused(f"profile {context.profile.source} has no {where}")
            if not found.enforce:
                return _refused(
                    f"profile [[directory]] {name} has no enforce_mode: its owner would stay root"
                )
    return _replaced(
        f"profile [[directory]] owners, enforced, of {' '.join(paths)} and every directory the package "
        "ships below it (nothing else is shipped there)"
    )


HANDLERS: dict[str, Callable[[list[str], ParsedScript, Context], Verdict]] = {
    ".": _source,
    "pkgos_var_user_group": _user_group,
    "pkgos_write_new_conf": _write_new_conf,
    "pkgos_dbc_read_conf": _database_step,
    "pkgos_dbc_postinst": _database_step,
    "pkgos_rabbit_read_conf": _rabbit_step,
    "pkgos_rabbit_write_conf": _rabbit_step,
    "pkgos_read_admin_creds": _ksat_step,
    "pkgos_write_admin_creds": _ksat_step,
    "pkgos_register_endpoint_config": _endpoint_config,
    "pkgos_register_endpoint_postinst": _endpoint_postinst,
    "pkgos_inifile": _inifile,
    "pkgos_read_config": _read_config,
    "dbc_go": lambda words, script, context: _family(context, Family.DB, "dbconfig-common's removal"),
    "pkgos_dbc_postrm": lambda words, script, context: _family(context, Family.DB, "dbconfig-common's purge"),
    "su": _su,
    "mkdir": _mkdir,
    "chown": _chown,
    "chmod": _chmod,
    "rm": _rm,
    "rmdir": _rm,
    "echo": _progress,
    "printf": _progress,
    "sleep": _sleep,
    "adduser": _adduser,
    "cp": _install_config,
    "install": _install_config,
    "openstack": _openstack,
    "invoke-rc.d": _invoke_rc,
    "systemctl": _enable,
    "update-rc.d": _enable,
    "a2dissite": _a2dissite,
    "mv": _mv,
    "touch": _touch,
    "mysqldump": _mysqldump,
    "dpkg-trigger": _trigger,
}


# --- the plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What rewiring one package does, step by step."""

    package: str
    version: str
    new_version: str
    profile: str | None
    outcome: Outcome
    scripts: tuple[ParsedScript, ...]
    steps: tuple[Step, ...]
    missing_questions: tuple[str, ...] = ()  # Debian's question names the generated templates lack
    reason: str = ""

    @property
    def refused(self) -> tuple[Step, ...]:
        """The steps nothing in the toolkit expresses."""
        return tuple(step for step in self.steps if step.verdict.replaced_by is None)


def steps_of(scripts: tuple[ParsedScript, ...], context: Context) -> tuple[Step, ...]:
    """Every own line of ``scripts`` with its verdict."""
    steps = []
    for script in scripts:
        never = _never_taken(script, context)
        for line in script.lines:
            verdict = never.get(line.number) or classify(line, script, context)
            steps.append(Step(script.phase, line, verdict))
    return tuple(steps)


UBUNTU_TEST = re.compile(r"^if\s+dpkg-vendor\s+--derives-from\s+ubuntu\s*(;\s*then)?$")
# dpkg --compare-versions V gt "${2}": postinst configure's previous version is below V.
OLDER_THAN = re.compile(r'^dpkg\s+--compare-versions\s+(\S+)\s+gt\s+"?\$(?:2|\{2\})"?$')
UPGRADE_TEST = re.compile(r'^\[\s+-n\s+"?\$(?:2|\{2\})"?\s+\]$')

# Debian supports upgrading a release's packages from the previous stable
# release's only: Debian 12's from Debian 11's. For each source, that
# release and the oldest version it has, so that a step guarded by an
# upgrade from an older version is known never to run. Debian 11 shipped
# OpenStack Victoria: glance 2:21.0.0 (Debian 12's changelog: 2:21.0.0-2 was
# the last upload to unstable before Debian 11's release on 14 August 2021;
# 2:22.0.0-2 came on 16 August).
UPGRADES_FROM = {"glance": ("Debian 11", "2:21.0.0~")}


def _never_taken(script: ParsedScript, context: Context) -> dict[int, Verdict]:
    """The ``if`` lines whose test is never true for the package rewired, and the lines of their branch.

    The branch ends at its ``else``, ``elif`` or ``fi``. Two tests are
    known: Ubuntu's (``dpkg-vendor --derives-from ubuntu``, false on
    Debian 12: nova-compute-qemu's ``adduser nova libvirtd``), and an
    upgrade from a version older than any Debian supports upgrading the
    package from (``_older_upgrade_only``).
    """
    verdicts: dict[int, Verdict] = {}
    depth, level = 0, None
    branch = ""
    for line in script.lines:
        ends = line.text in ("else", "fi") or line.text.startswith("elif ")
        if level is not None and depth == level and ends:
            level = None
        if line.text.startswith("if "):
            depth += 1
            test = _never_true(line.text, script, context) if level is None else None
            if test is not None:
                level = depth
                verdicts[line.number], branch = _replaced(test[0]), test[1]
                continue
        elif line.text == "fi":
            depth -= 1
        if level is not None and depth >= level:
            verdicts[line.number] = _replaced(branch)
    return verdicts


def _never_true(text: str, script: ParsedScript, context: Context) -> tuple[str, str] | None:
    """What to say of an ``if`` line whose test is never true, and of its branch; None for another."""
    if UBUNTU_TEST.match(text):
        return (
            "nothing: the test for Ubuntu, false on Debian 12, whose branch below is never taken",
            "nothing: Ubuntu's branch (dpkg-vendor --derives-from ubuntu)",
        )
    version = _older_upgrade_only(text, script, context)
    if version is None or context.upgrades_from is None:
        return None
    release, oldest = context.upgrades_from
    return (
        f"nothing: true only on an upgrade from a version before {version}, and Debian upgrades "
        f"{context.package} only from {release}'s ({oldest} or later, above {version}): the branch "
        "below never runs",
        f"nothing: the branch for an upgrade from before {version}, which never runs (see its if)",
    )


def _older_upgrade_only(text: str, script: ParsedScript, context: Context) -> str | None:
    """V when the test of ``if`` line ``text`` holds only on an upgrade from a version before V.

    Only a postinst test made of ``&&`` alone, with ``[ -n "${2}" ]`` (an
    upgrade: configure's previous version is given) and ``dpkg
    --compare-versions V gt "${2}"`` among its parts, where V is not above
    the oldest version Debian upgrades the package from (``UPGRADES_FROM``):
    one false part makes the whole test false, whatever the others say.
    """
    condition = CONDITION.match(text)
    if script.phase != "postinst" or condition is None or context.upgrades_from is None:
        return None
    test = condition.group(1).replace("\\\n", " ")
    if "||" in test:
        return None
    parts = [" ".join(part.split()) for part in test.split("&&")]
    versions = [match.group(1) for match in map(OLDER_THAN.match, parts) if match]
    if len(versions) != 1 or not any(UPGRADE_TEST.match(part) for part in parts):
        return None
    from debian.debian_support import version_compare  # noqa: PLC0415 (only packagers' commands need it)

    return versions[0] if version_compare(versions[0], context.upgrades_from[1]) <= 0 else None


STABLE_UPDATE = re.compile(r"deb\d+u\d+$")
REWIRED = re.compile(r"\+~?pkgos\d+$")


def new_version(version: str, revision: int = 1) -> str:
    """The rewired package's version: just above ``version``, below Debian's next upload of it.

    A stable update's version gets ``+pkgosN``: ``2:26.2.2-1~deb12u4``
    becomes ``2:26.2.2-1~deb12u4+pkgos1``, above it and below
    ``~deb12u5`` and ``-1``. Any other gets ``+~pkgosN``: ``2:21.0.0-7``
    becomes ``2:21.0.0-7+~pkgos1``, since ``7+pkgos1`` would sort above
    Debian's first stable update ``7+deb12u1`` and hide it, while ``+~``
    sorts below every ``+`` suffix and above the bare version.
    """
    if REWIRED.search(version):
        raise RewireError(
            f"version {version} is already a rewired one.", hint="rewire Debian's original package."
        )
    marker = "+" if STABLE_UPDATE.search(version) else "+~"
    return f"{version}{marker}pkgos{revision}"


def rewired_script(original: ParsedScript, generated: str | None) -> str:
    """The rewired ``phase`` script: the generated one with the original's debhelper blocks around it.

    Blocks that sat before the package's own logic go after the generated
    script's ``set -e`` line; the others replace its ``#DEBHELPER#``
    marker. With no generated script, the blocks alone make the script.
    """
    before = "".join(block.text for block in original.blocks if block.side is Side.BEFORE)
    after = "".join(block.text for block in original.blocks if block.side is Side.AFTER)
    if generated is None:
        return f"#!/bin/sh\nset -e\n{before}{after}exit 0\n"
    if "#DEBHELPER#" not in generated and after:
        raise RewireError(f"the generated {original.phase} has no #DEBHELPER# marker for debhelper's blocks.")
    text = generated.replace("\n#DEBHELPER#\n", "\n" + after).replace("#DEBHELPER#", after)
    if before:
        head, marker, rest = text.partition("set -e\n")
        if not marker:
            raise RewireError(
                f"the generated {original.phase} has no set -e line to put debhelper's blocks after."
            )
        text = head + marker + before + rest
    return text


def template_names(text: str) -> list[str]:
    """The question names of a debconf templates file, in order."""
    return re.findall(r"^Template:\s*(\S+)\s*$", text, flags=re.MULTILINE)


def explain(plan: Plan) -> str:
    """The ``--explain`` report: each part of the original scripts and what replaces it."""
    out = [
        f"{plan.package} {plan.version} -> {plan.new_version}: {plan.outcome}"
        + (f" (profile {plan.profile})" if plan.profile else "")
        + (f": {plan.reason}" if plan.reason else "")
    ]
    steps = {(step.phase, step.line.number): step for step in plan.steps}
    for script in plan.scripts:
        parts: list[tuple[int, str]] = []
        for library in script.libraries:
            parts.append(
                (
                    library.number,
                    f"  {script.phase}:{library.number}-{library.last}  Debian's {library.name} "
                    "library -> dropped: the toolkit replaces it",
                )
            )
        for block in script.blocks:
            parts.append(
                (
                    block.number,
                    f"  {script.phase}:{block.number}-{block.last}  {block.tool} block "
                    f"-> kept ({block.side} the package's own logic)",
                )
            )
        for line in script.lines:
            step = steps.get((script.phase, line.number))
            if step is None or step.verdict.syntax:
                continue
            first = line.text.split("\n")[0]
            text = first if len(first) <= 70 else first[:67] + "..."
            verdict = step.verdict.replaced_by or f"REFUSED: {step.verdict.reason}"
            parts.append((line.number, f"  {step.where}  {text}\n      -> {verdict}"))
        out += [text for _, text in sorted(parts)]
    if plan.missing_questions:
        out.append("  Debian's questions the generated templates lack: " + ", ".join(plan.missing_questions))
    return "\n".join(out) + "\n"
