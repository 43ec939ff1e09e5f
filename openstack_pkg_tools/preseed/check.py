"""Checking a preseed file against debconf templates, before it is loaded.

``debconf-set-selections`` accepts a typo in a question name, ``yes`` for a
boolean or a value no select offers, and the install then asks the question
anyway (or fails under a non-interactive frontend). ``check`` finds every
such problem at once, each with its line number: unknown question (with the
nearest known name), wrong type, bad boolean, value not among a select's
choices, a question answered twice, and the answers the node's role needs
but the file lacks.

What a question is (name, type, choices) comes from debconf template text,
parsed by ``questions_from_templates``, so the check knows exactly what the
packages ask.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..questions import families, of_family, owner_of, prefix_of
from .generate import ROLE_HEADER, Role, disagreements, parse_role, required_questions

TYPES = frozenset({"select", "boolean", "string", "multiselect", "note", "password", "text", "title"})
FLAGS = frozenset({"seen"})
BOOLEANS = frozenset({"true", "false"})
# debconf-set-selections' own line syntax: owner, question, type, then one
# whitespace character and the value, verbatim.
LINE_RE = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\S+)(?:\s(.*))?$")


@dataclass(frozen=True)
class Template:
    """A debconf template as a package declares it: the question's name, type and choices."""

    name: str
    type: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreseedLine:
    """One answer or flag line of a preseed file (continuations joined)."""

    line: int
    owner: str
    question: str
    type: str
    value: str


@dataclass(frozen=True)
class Problem:
    """One problem of a preseed file, at a line (1-based)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def questions_from_templates(text: str) -> dict[str, Template]:
    """The questions of rendered debconf template text, by name.

    ``Choices`` of a select may be written with ``_Choices`` or
    ``__Choices`` (translatable); commas escaped as ``\\,`` stay in a choice.
    """
    from debian.deb822 import Deb822  # noqa: PLC0415 (python-debian is slow to import)

    questions = {}
    for stanza in Deb822.iter_paragraphs(text.splitlines()):
        name = stanza.get("Template")
        if not name:
            continue
        raw = stanza.get("Choices") or stanza.get("_Choices") or stanza.get("__Choices") or ""
        choices = tuple(
            choice.replace("\\,", ",").strip() for choice in re.split(r"(?<!\\),", raw) if choice.strip()
        )
        questions[name] = Template(name, stanza.get("Type", "").strip(), choices)
    return questions


def known_questions(template_texts: Iterable[str]) -> dict[str, Template]:
    """The questions of several template files together."""
    questions: dict[str, Template] = {}
    for text in template_texts:
        questions.update(questions_from_templates(text))
    return questions


def toolkit_questions(owners: Iterable[str] = ()) -> dict[str, Template]:
    """What the toolkit knows: its templates for every shipped service and the
    templates of the installed ``owners``."""
    return known_questions([*toolkit_templates().values(), *installed_templates(owners)])


def toolkit_templates() -> dict[str, str]:
    """The debconf templates the toolkit gives each package of each shipped service, rendered.

    By package: the question families it asks (db, rabbit, ksat, endpoint,
    Keystone's own for the keystone package, the ``[[asks]]`` families of
    the profile's packages), with its prefix, as
    ``pkgos merge-templates`` puts them into it.
    """
    from ..build.templates import render  # noqa: PLC0415 (only checking needs it)
    from ..profile import load, shipped_profiles  # noqa: PLC0415

    texts = {}
    for name in shipped_profiles():
        profile = load(name)
        for package in (p for p in profile.packages if families(profile, p)):
            texts[package] = (
                "\n\n".join(render(prefix_of(profile, package), families(profile, package))) + "\n"
            )
    return texts


def debian_names() -> dict[str, str]:
    """Debian's own names of the toolkit's questions (``glance-common/mysql/app-pass``),
    mapped to the toolkit's (``glance/db-password``), for every shipped service."""
    from ..profile import load, shipped_profiles  # noqa: PLC0415

    names = {}
    for name in shipped_profiles():
        profile = load(name)
        for family in families(profile, profile.package):
            for owner in owner_of(profile, family):
                for question in of_family(family):
                    if question.debian_name:
                        debian = question.debian_name.replace("{package}", owner)
                        names[debian] = question.full_name(prefix_of(profile, owner))
    return names


def installed_templates(owners: Iterable[str], info_dir: str = "/var/lib/dpkg/info") -> list[str]:
    """The templates dpkg keeps for those of ``owners`` that are installed."""
    texts = []
    for owner in sorted(set(owners)):
        path = f"{info_dir}/{owner}.templates"
        try:
            with open(path, encoding="utf-8") as handle:
                texts.append(handle.read())
        except OSError:
            continue
    return texts


def parse_preseed(text: str) -> tuple[list[PreseedLine], list[Problem]]:
    """The answer lines of a preseed, as debconf-set-selections reads them, and the lines it cannot read."""
    lines = text.splitlines()
    answers: list[PreseedLine] = []
    problems: list[Problem] = []
    index = 0
    while index < len(lines):
        start = index
        content = lines[index].rstrip("\r")
        # A trailing backslash joins the next line, as debconf-set-selections does.
        while content.endswith("\\") and index + 1 < len(lines):
            index += 1
            content = content[:-1] + lines[index].rstrip("\r")
        index += 1
        if not content.strip() or content.lstrip().startswith("#"):
            continue
        match = LINE_RE.match(content)
        if match is None:
            problems.append(Problem(start + 1, "not an answer: expected 'owner question type value'."))
            continue
        owner, question, type_, value = match.groups()
        answers.append(PreseedLine(start + 1, owner, question, type_, value or ""))
    return answers, problems


def role_of(text: str) -> Role | None:
    """The role named by the preseed's ``# pkgos-role:`` header, if any."""
    for line in text.splitlines():
        if line.startswith(ROLE_HEADER):
            return parse_role(line[len(ROLE_HEADER) :].strip())
    return None


def check(text: str, questions: Mapping[str, Template], role: Role | None = None) -> list[Problem]:
    """Every problem of the preseed ``text``, sorted by line.

    Missing answers are reported at the line after the last one, where they
    would be added. ``role`` defaults to the file's own header.
    """
    answers, problems = parse_preseed(text)
    answered: dict[str, int] = {}
    for answer in answers:
        problems.extend(_check_line(answer, questions, answered))
    values = {
        a.question: a.value for a in reversed(answers) if a.type not in FLAGS and a.question in answered
    }
    # Answers two packages must share: the values are never shown (they are secrets).
    problems.extend(
        Problem(
            answered[other],
            f"{other} differs from {first} (line {answered[first]}): {why}; answer both alike.",
        )
        for first, other, why in disagreements(values)
    )
    role = role if role is not None else role_of(text)
    if role is not None:
        end = len(text.splitlines()) + 1
        db_types = {
            answer.question.split("/", 1)[0]: answer.value
            for answer in answers
            if answer.question.endswith("/db-type")
        }
        problems.extend(
            Problem(end, f"missing answer to {name}, which a {role} node needs.")
            for name in required_questions(role, db_types)
            if name not in answered
        )
    return sorted(problems, key=lambda problem: problem.line)


def _check_line(
    answer: PreseedLine, questions: Mapping[str, Template], answered: dict[str, int]
) -> list[Problem]:
    line = answer.line
    if answer.type not in TYPES | FLAGS:
        return [
            Problem(line, f"{answer.question}: unknown type {answer.type!r}; debconf would skip the line.")
        ]
    question = questions.get(answer.question)
    if question is None:
        return [
            Problem(line, f"unknown question {answer.question}{_suggestion(answer.question, questions)}.")
        ]
    if answer.type in FLAGS:
        if answer.value not in BOOLEANS:
            return [
                Problem(
                    line,
                    f"{answer.question}: the {answer.type} flag is 'true' or 'false', not {answer.value!r}.",
                )
            ]
        return []
    problems = []
    if answer.question in answered:
        problems.append(
            Problem(line, f"{answer.question} is answered again (first on line {answered[answer.question]}).")
        )
    answered.setdefault(answer.question, line)
    if answer.type != question.type:
        problems.append(Problem(line, f"{answer.question} is a {question.type}, not a {answer.type}."))
        return problems
    return problems + [Problem(line, message) for message in _value_problems(answer, question)]


def _value_problems(answer: PreseedLine, question: Template) -> list[str]:
    name, value = answer.question, answer.value
    if question.type == "boolean" and value not in BOOLEANS:
        return [f"{name} is a boolean: 'true' or 'false', not {value!r}."]
    if question.type == "select" and question.choices and value not in question.choices:
        return [f"{name}: {value!r} is not one of {', '.join(question.choices)}."]
    if question.type == "multiselect" and question.choices:
        chosen = [item.strip() for item in value.split(",") if item.strip()]
        return [
            f"{name}: {item!r} is not one of {', '.join(question.choices)}."
            for item in chosen
            if item not in question.choices
        ]
    return []


def _suggestion(name: str, questions: Mapping[str, Template]) -> str:
    ours = debian_names().get(name)
    if ours is not None:
        return f" (the name Debian's own packages give it; this toolkit's package asks {ours})"
    close = difflib.get_close_matches(name, list(questions), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def format_problems(path: str, problems: Sequence[Problem]) -> str:
    """One ``FILE:LINE: message`` line per problem, as compilers print them."""
    return "\n".join(f"{path}:{problem.line}: {problem.message}" for problem in problems)
