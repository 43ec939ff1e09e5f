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
