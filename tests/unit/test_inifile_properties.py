"""Property-based tests of the editor: random files, random values.

For any valid oslo.config file and any value without a line break, setting a
directive and reading it back gives the value, oslo.config's own parser reads
the same value, every other directive reads as before, and every line the
edit did not concern is still there, byte for byte, in the same order.
"""

from __future__ import annotations

import difflib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oslo_config import cfg

from openstack_pkg_tools import inifile
from openstack_pkg_tools.errors import ConfigFileError
from openstack_pkg_tools.inifile import IniFile, commented_key, normalize_section

SECTIONS = ["DEFAULT", "database", "keystone_authtoken", "filter:authtoken", "Oslo_Messaging_Rabbit"]
KEYS = ["connection", "debug", "password", "transport_url", "auth_url", "a.b", "x"]

# Any text without line breaks (the format's one limit), including the
# characters shell tools mangle, quotes, white space and non-ASCII letters.
one_line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
    max_size=40,
)
values = st.one_of(
    one_line, st.sampled_from(["", " ", '"', "'", '""', "& | \\ = ? # ; % @ : / * ' \"", "<None>"])
)


@st.composite
def body_lines(draw: st.DrawFn) -> list[str]:
    """The lines of one section body, all valid for oslo.config."""
    lines: list[str] = []
    for kind in draw(st.lists(st.sampled_from(["live", "commented", "comment", "blank"]), max_size=8)):
        key = draw(st.sampled_from(KEYS))
        if kind == "live":
            separator = draw(st.sampled_from([" = ", "=", ": ", " : "]))
            lines.append(key + separator + draw(one_line).replace("\t", " "))
            lines += [
                "  " + draw(st.text("abc =:#", min_size=1, max_size=5))
                for _ in range(draw(st.integers(0, 1)))
            ]
        elif kind == "commented":
            lines.append(draw(st.sampled_from(["#", "# ", ";"])) + key + " = " + draw(one_line))
        elif kind == "comment":
            lines.append("#" + draw(one_line))
        else:
            lines.append(draw(st.sampled_from(["", "   ", "\t"])))
    return lines


@st.composite
def config_files(draw: st.DrawFn) -> str:
    """A whole file: sections (names may repeat) with random bodies."""
    lines = ["# " + draw(one_line)] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(0, 5))):
        lines.append(f"[{draw(st.sampled_from(SECTIONS))}]" + draw(st.sampled_from(["", "  "])))
        lines += draw(body_lines())
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return "".join(line + ending for line in lines)


def oslo_view(path: Path) -> dict[tuple[str, str], str]:
    """Every (section, key) and the value oslo.config uses (the last one)."""
    sections: dict[str, dict[str, list[str]]] = {}
    parser = cfg.ConfigParser(str(path), sections)
    parser._add_normalized(normalized := {})
    parser.parse()
    return {(section, key): found[-1] for section, keys in normalized.items() for key, found in keys.items()}


def concerns(line: str, key: str) -> bool:
    """Whether an edit of ``key`` may change or remove this line."""
    stripped = line.rstrip("\r")
    return (
        stripped.split("=")[0].split(":")[0].strip() == key
        or commented_key(stripped) == key
        or stripped[:1] in (" ", "\t")  # a continuation of a replaced value
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=config_files(), section=st.sampled_from(SECTIONS), key=st.sampled_from(KEYS), value=values)
def test_set_then_get_round_trips_and_keeps_every_other_byte(
    text: str, section: str, key: str, value: str
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "random.conf"
        path.write_bytes(text.encode())
        before = oslo_view(path)
        with IniFile(str(path)) as conf:
            conf.set(section, key, value)
        after_text = path.read_bytes().decode()

        assert IniFile(str(path)).get(section, key) == value
        after = oslo_view(path)
        target = (normalize_section(section), key)
        assert after[target] == value
        assert {k: v for k, v in after.items() if k != target} == {
            k: v for k, v in before.items() if k != target
        }

    old_lines, new_lines = text.split("\n"), after_text.split("\n")
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            continue
        for line in old_lines[old_start:old_end]:
            assert concerns(line, key), f"the edit changed an unrelated line {line!r}"
        for line in new_lines[new_start:new_end]:
            assert concerns(line, key) or line.strip() in ("", f"[{section}]"), (
                f"unexpected new line {line!r}"
            )


@settings(max_examples=200, deadline=None)
@given(text=config_files())
def test_opening_and_saving_without_edits_changes_nothing(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "random.conf"
        path.write_bytes(text.encode())
        with IniFile(str(path)) as conf:
            assert conf.text() == text
        assert path.read_bytes() == text.encode()


# -- the fast paths against line-by-line readings ------------------------------
#
# The editor reads a block's directives for one key by searching the key
# (inifile._directives_named), and checks a file by looking only at the lines
# that are no comment (inifile._Reader). Both must agree with a reading of
# every line, one by one.

# Line shapes oslo.config reads, including white space it strips that is
# no space or tab, a lone carriage return and a byte that is not UTF-8; then
# shapes that are wrong, or wrong where nothing above them opens a value.
GOOD_SHAPES = [
    "",
    "   ",
    "\r",
    "\x85",
    "\u3000",
    "# comment",
    "#connection = <None>",
    "# connection: prose",
    ";x = 1",
    "[DEFAULT]",
    "[database]  ",
    "connection = a",
    "x=1",
    "debug: true",
    "password = a#b",
    "\x0cx = 1",
    "\xa0x = 1",
    "caf\udcff = 1",
]
BAD_SHAPES = [
    "[broken",
    "[]",
    "just words",
    "= value",
    ": value",
    "\x0c= 1",
    "\xa0x",
    "\u3000x",
    "\rx",
    "  continued",
    "\tcontinued = too",
]


def line_by_line_error(text: str) -> tuple[int, str] | None:
    """The (line, problem) oslo.config's rules give, reading line by line.

    A carriage return that no line feed follows comes first (oslo.config
    reads it as a line break: the editor refuses the file), then malformed
    section headers, as the editor cuts the file at its headers before it
    reads the other lines.
    """
    lines = [line.rstrip() for line in text.split("\n")]
    return carriage_return_error(text) or header_error(lines) or body_error(lines)


def carriage_return_error(text: str) -> tuple[int, str] | None:
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        ended = number < len(lines) and line.endswith("\r")
        if "\r" in (line[:-1] if ended else line):
            return number, "carriage return without a line feed"
    return None


def header_error(lines: list[str]) -> tuple[int, str] | None:
    for number, body in enumerate(lines, 1):
        if body.startswith("[") and not body.endswith("]"):
            return number, "malformed section header"
        if body.startswith("[") and len(body) <= 2:
            return number, "empty section name"
    return None


def body_error(lines: list[str]) -> tuple[int, str] | None:
    in_section = directive_open = False
    for number, body in enumerate(lines, 1):
        problem = None
        if body.startswith((" ", "\t")):
            problem = None if directive_open else "continues no directive"
        elif body and not body.startswith(("#", ";")):
            in_section = in_section or body.startswith("[")
            problem = None if body.startswith("[") else directive_problem(body, in_section)
            directive_open = not body.startswith("[")
        else:
            directive_open = False
        if problem:
            return number, problem
    return None


def directive_problem(body: str, in_section: bool) -> str | None:
    if not in_section:
        return "before any [section]"
    separators = [index for index in (body.find("="), body.find(":")) if index >= 0]
    if not separators:
        return "no '=' or ':'"
    if not body[: min(separators)].strip():
        return "empty name"
    return None


@st.composite
def files_with_a_suspect_line(draw: st.DrawFn) -> str:
    """Lines oslo.config reads, around one that may be wrong (and more below)."""
    lines = ["[DEFAULT]"] if draw(st.booleans()) else []
    lines += draw(st.lists(st.sampled_from(GOOD_SHAPES + BAD_SHAPES[-2:]), max_size=12))
    lines.append(draw(st.sampled_from(BAD_SHAPES + GOOD_SHAPES)))
    lines += draw(st.lists(st.sampled_from(GOOD_SHAPES + BAD_SHAPES), max_size=12))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return ending.join(lines) + (ending if draw(st.booleans()) else "")


@settings(max_examples=500, deadline=None)
@given(text=files_with_a_suspect_line())
def test_the_check_finds_the_error_a_line_by_line_reading_finds(text: str) -> None:
    expected = line_by_line_error(text)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "random.conf"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        try:
            IniFile(str(path))
        except ConfigFileError as error:
            assert expected is not None, f"unexpected error: {error}"
            assert (error.line, expected[1] in error.message) == (expected[0], True), str(error)
        else:
            assert expected is None, f"missed: {expected}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=body_lines(), key=st.sampled_from([*KEYS, "a", "b", "=", "connection_recycle_time"]))
def test_finding_one_key_agrees_with_parsing_every_line(lines: list[str], key: str) -> None:
    text = "".join(line + "\n" for line in ["[s]", *lines])
    every = inifile._parse(text, in_section=True)
    expected = [(d.key, d.start, d.end, d.value) for d in every if d.key == key]
    found = [(d.key, d.start, d.end, d.value) for d in inifile._directives_named(text, key)]
    assert found == expected
    commented = [
        offset
        for offset, line in zip(line_offsets(text), text.split("\n"), strict=True)
        if line.startswith(("#", ";")) and commented_key(line) == key
    ]
    where = inifile._commented_line(text, key)
    assert (where[0] if where else None) == (commented[0] if commented else None)


def line_offsets(text: str) -> list[int]:
    """The offset of each line of ``text``."""
    offsets, offset = [], 0
    for line in text.split("\n"):
        offsets.append(offset)
        offset += len(line) + 1
    return offsets
