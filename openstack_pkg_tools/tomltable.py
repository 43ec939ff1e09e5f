"""Reading TOML the toolkit's files are written in: profiles, site files, meta-package definitions.

A ``Table`` knows its file and the dotted path of its keys, checks each
value's type, range or pattern as it is read, and refuses keys nobody read
(a typo must not be silently ignored). Every problem is one
``ConfigFileError`` (or the subclass the caller chooses) naming the file
and the key: ``glance.toml: database[2].section: expected a string``.
Patterns must match the whole value: a trailing newline is refused.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from .errors import ConfigFileError

REQUIRED: Any = object()


def parse(text: str, source: str, error: type[ConfigFileError] = ConfigFileError, hint: str = "") -> Table:
    """The top-level table of TOML ``text``; ``source`` names it in errors, ``hint`` says where help is."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise error(source, f"not valid TOML: {problem}.", hint="fix the TOML syntax.") from None
    return Table(source, "", data, error, hint)


class Table:
    """A TOML table being read, which knows its file and key path for errors."""

    def __init__(
        self,
        source: str,
        where: str,
        data: Mapping[str, Any],
        error: type[ConfigFileError] = ConfigFileError,
        hint: str = "",
    ) -> None:
        self.source = source
        self.where = where
        self.data = data
        self.error = error
        self.hint = hint
        self.used: set[str] = set()

    def fail(self, key: str, problem: str, hint: str = "") -> ConfigFileError:
        """An error that names this table's file and ``key``."""
        path = f"{self.where}.{key}" if self.where and key else (self.where or key)
        return self.error(self.source, f"{path}: {problem}", hint=hint or self.hint)

    def has(self, key: str) -> bool:
        """Whether the table sets ``key``."""
        return key in self.data

    def get(self, key: str, kind: type | tuple[type, ...], what: str, default: Any = REQUIRED) -> Any:
        """The value of ``key``, of type ``kind`` (``what`` names it in errors), or ``default``."""
        self.used.add(key)
        if key not in self.data:
            if default is REQUIRED:
                raise self.fail(key, f"missing; expected {what}.")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"expected {what}, got {value!r}.")
        return value

    def string(
        self,
        key: str,
        default: Any = REQUIRED,
        pattern: re.Pattern[str] | None = None,
        means: str = "",
        choices: tuple[str, ...] = (),
    ) -> str:
        """A string value matching all of ``pattern`` (``means`` says what it is) and among ``choices``."""
        value: str = self.get(key, str, "a string", default)
        if value is None:
            return value
        if pattern is not None and not pattern.fullmatch(value):
            problem = (
                f"{value!r} is not {means}." if means else f"{value!r} does not match {pattern.pattern}."
            )
            raise self.fail(key, problem)
        if choices and value not in choices:
            raise self.fail(key, f"{value!r} is not one of {', '.join(choices)}.")
        return value

    def path(self, key: str, default: Any = REQUIRED) -> str:
        """An absolute, normalized path."""
        value = self.string(key, default)
        if not value.startswith("/") or posixpath.normpath(value) != value or value == "/" or "\n" in value:
            raise self.fail(key, f"{value!r} is not an absolute, normalized path below /.")
        return value

    def integer(self, key: str, low: int, high: int, default: Any = REQUIRED) -> int | None:
        """An integer in ``low..high`` (or ``default`` when absent)."""
        value: int | None = self.get(key, int, f"an integer in {low}..{high}", default)
        if value is not None and not low <= value <= high:
            raise self.fail(key, f"{value} is not in {low}..{high}.")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        """true or false."""
        value: bool = self.get(key, bool, "true or false", default)
        return value

    def date(self, key: str) -> datetime.date:
        """A TOML date (not a date and time)."""
        value = self.get(key, datetime.date, "a TOML date, e.g. 2026-11-22", REQUIRED)
        if isinstance(value, datetime.datetime):
            raise self.fail(key, f"expected a TOML date, e.g. 2026-11-22, got {value!r}.")
        return value  # type: ignore[no-any-return]

    def mode(self, key: str, default: int) -> int:
        """A file mode written as an octal string (\"0750\")."""
        text = self.string(key, f"{default:04o}")
        if not re.fullmatch(r"0[0-7]{3}", text):
            raise self.fail(key, f'{text!r} is not an octal mode like "0750".')
        return int(text, 8)

    def strings(
        self, key: str, default: Any = REQUIRED, pattern: re.Pattern[str] | None = None
    ) -> tuple[str, ...]:
        """A list of non-empty strings, each matching all of ``pattern`` when given."""
        value: list[Any] = self.get(key, list, "a list of strings", default)
        if not all(isinstance(item, str) and item for item in value):
            raise self.fail(key, f"expected a list of non-empty strings, got {value!r}.")
        for index, item in enumerate(value, start=1):
            if pattern is not None and not pattern.fullmatch(item):
                raise self.fail(f"{key}[{index}]", f"{item!r} does not match {pattern.pattern}.")
        return tuple(value)

    def table(self, key: str) -> Table | None:
        """A sub-table, or None when absent."""
        value = self.get(key, dict, "a table", None)
        return None if value is None else Table(self.source, self._child(key), value, self.error, self.hint)

    def tables(self, key: str) -> list[Table]:
        """An array of tables (``[[key]]``), empty when absent."""
        value: list[Any] = self.get(key, list, "an array of tables", [])
        result = []
        for index, item in enumerate(value, start=1):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{index}]", f"expected a table, got {item!r}.")
            result.append(Table(self.source, f"{self._child(key)}[{index}]", item, self.error, self.hint))
        return result

    def _child(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def done(self, hint: str = "") -> None:
        """Refuse keys nobody read: a typo must not be silently ignored."""
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.fail(unknown[0], "unknown key (a typo?).", hint)
