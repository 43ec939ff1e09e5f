"""A lossless editor for oslo.config-style configuration files.

OpenStack reads its configuration with oslo.config's own INI parser, whose
rules differ from Python's configparser and from what sed-based tools
assume. This editor follows those rules exactly:

* a line is first stripped of trailing white space; an empty line is blank;
* a line starting with a space or a tab continues the previous directive's
  value (multi-line values), and is an error anywhere else;
* ``[name]`` starts a section; a line starting with ``[`` that does not end
  with ``]`` is an error; sections with the same name are merged;
  section names other than ``DEFAULT`` are case-insensitive;
* ``#`` and ``;`` start a comment only at the start of a line, so ``#`` in a
  value is just a character;
* ``key = value`` or ``key: value``, split at the first ``=`` or ``:``; the
  value is stripped, and one pair of matching quotes around it is removed.

From the last rule follows how any value is written so that it reads back
unchanged: it is written as it is, unless it has white space at either end
or starts and ends with the same quote character, in which case it is
wrapped in double quotes. Only line breaks cannot be held (a continuation
line loses its indentation), so a value with one is refused.

Every byte the edit does not touch stays as it was: comments, blank lines,
order, trailing white space, line endings, a missing final newline. Edits
are made in memory and written once, atomically, when the ``IniFile``
context exits, and only if the content changed.
"""

from .errors import ConfigFileError, InvalidValueError
from .fileio import atomic_write, read_bytes

DEFAULT_SECTION = "DEFAULT"

_COMMENT_STARTS = ("#", ";")
_QUOTES = ('"', "'")


def normalize_section(name: str) -> str:
    """The name oslo.config files a section under (case-insensitive but DEFAULT)."""
    return name if name == DEFAULT_SECTION else name.lower()


def encode_value(value: str) -> str:
    """The text to write after ``key = `` so that oslo.config reads ``value``."""
    if "\n" in value or "\r" in value:
        raise InvalidValueError(
            "the value contains a line break, which an oslo.config file cannot hold.",
            hint="remove the line break from the value.",
        )
    if value != value.strip() or (value[:1] in _QUOTES and value[0] == value[-1]):
        return f'"{value}"'
    return value


def oslo_literal(value: str) -> str:
    """``value`` escaped so that an OpenStack service reads it verbatim.

    When a service reads its options, oslo.config replaces ``$name`` and
    ``${name}`` with the value of another option (``lock_path =
    $state_path/lock``), and ``$$`` with ``$``. A password such as ``a$b``
    written as it is would make the service fail or read something else, so
    a literal value has each ``$`` doubled before ``IniFile.set`` writes it.
    The editor itself writes text as given, because a ``$name`` reference in
    a configuration file is meant as one.
    """
    return value.replace("$", "$$")


def oslo_unliteral(text: str) -> str:
    """The value a service reads from ``text`` written by ``oslo_literal``."""
    return text.replace("$$", "$")


def decode_value(text: str) -> str:
    """The value oslo.config reads from the text after the separator."""
    value = text.strip()
    if value[:1] in _QUOTES and value[0] == value[-1]:
        return value[1:-1]
    return value


# The two classes below are parse state, rebuilt on every edit of a block.
# They are plain slotted classes rather than dataclasses: maintainer scripts
# import this module on every run, and dataclasses alone would double the
# import time.


class _Directive:
    """A live ``key = value`` line and its continuation lines in a block."""

    __slots__ = ("end", "first", "key", "value")

    def __init__(self, key: str, first: int, end: int, value: str) -> None:
        self.key = key
        self.first = first  # index of the key line within the block's lines
        self.end = end  # index after its last continuation line
        self.value = value


class _Block:
    """The lines from one section header to the next (or the preamble)."""

    __slots__ = ("directives", "lines", "name", "section")

    def __init__(self, name: str | None, lines: list[str]) -> None:
        self.name = name  # as written; None for the lines before the first header
        self.section = None if name is None else normalize_section(name)
        self.lines = lines
        self.directives: list[_Directive] = []


def commented_key(line: str) -> str | None:
    """The key of a commented-out directive line, or None for other comments.

    Matches what oslo-config-generator writes (``#connection = <None>``) and
    what people comment by hand (``# connection = x``). Keys never contain
    white space, and a space after the ``#`` is accepted only before ``=``,
    which keeps prose such as ``# Possible values:`` from matching.
    """
    rest = line[1:]
    spaced = rest[:1] in (" ", "\t")
    rest = rest.lstrip(" \t")
    split = _separator(rest)
    if split <= 0 or (spaced and rest[split] != "="):
        return None
    key = rest[:split].rstrip(" \t")
    if not key or any(char.isspace() for char in key):
        return None
    return key


def _strip_eol(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith("\n"):
        return line[:-1]
    return line


def _eol_of(line: str) -> str:
    return line[len(_strip_eol(line)) :]


# Where str.splitlines() splits but oslo.config (reading with universal
# newlines) does not, or not the same way.
_OTHER_LINE_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _split_lines(text: str) -> list[str]:
    """The lines of ``text`` split at ``\n`` only, each with its line ending."""
    if not any(char in text for char in _OTHER_LINE_BREAKS):
        return text.splitlines(keepends=True)  # same result, much faster
    lines = text.split("\n")
    last = lines.pop()
    result = [line + "\n" for line in lines]
    if last:
        result.append(last)
    return result


def _separator(body: str) -> int:
    """Index of the ``=`` or ``:`` that ends the key, or -1."""
    colon, equal = body.find(":"), body.find("=")
    if colon < 0 or (0 <= equal < colon):
        return equal
    return colon


class _Parser:
    """Splits a file into blocks and finds the directives of each block."""

    def __init__(self, path: str) -> None:
        self.path = path

    def blocks(self, text: str) -> list[_Block]:
        # A header always starts a line, so the file is cut at each "\n["
        # (found at C speed) before any line is looked at one by one.
        blocks = []
        start, number = 0, 1
        while True:
            end = text.find("\n[", start) + 1 or len(text)
            lines = _split_lines(text[start:end])
            name = self._section_name(lines[0].rstrip(), number) if text.startswith("[", start) else None
            blocks.append(_Block(name, lines))
            if end == len(text):
                break
            start, number = end, number + len(lines)
        if blocks[0].name is not None:
            blocks.insert(0, _Block(None, []))
        first_line = 1
        for block in blocks:
            block.directives = self.directives(block, first_line)
            first_line += len(block.lines)
        return blocks

    def _section_name(self, body: str, number: int) -> str:
        if not body.endswith("]"):
            raise ConfigFileError(
                self.path,
                f"malformed section header {body!r}: it must end with ']'.",
                line=number,
                hint="fix or remove that line.",
            )
        if len(body) <= 2:
            raise ConfigFileError(
                self.path, "empty section name '[]'.", line=number, hint="fix or remove that line."
            )
        return body[1:-1]

    def directives(self, block: _Block, first_line: int) -> list[_Directive]:
        """The live directives of ``block``; ``first_line`` numbers its first line."""
        found: list[_Directive] = []
        key: str | None = None
        start, parts = 0, []
        for index, line in enumerate(block.lines):
            if key is None and (line[:1] in _COMMENT_STARTS or line == "\n"):
                continue  # the common cases in generated files, kept cheap
            body = line.rstrip()
            if body.startswith((" ", "\t")):
                if key is None:
                    self._fail(first_line + index, "an indented line continues no directive")
                parts.append(body.lstrip())
                continue
            if key is not None:
                found.append(_Directive(key, start, index, "\n".join(parts)))
                key = None
            if not body or body.startswith(("#", ";", "[")):
                continue
            if block.name is None:
                self._fail(first_line + index, "a directive stands before any [section] header")
            key, start, parts = self._key_value(body, first_line + index, index)
        if key is not None:
            found.append(_Directive(key, start, len(block.lines), "\n".join(parts)))
        return found

    def _key_value(self, body: str, number: int, index: int) -> tuple[str, int, list[str]]:
        split = _separator(body)
        if split < 0:
            self._fail(number, "no '=' or ':' in this line")
        key = body[:split].strip()
        if not key:
            self._fail(number, "a directive has an empty name")
        return key, index, [decode_value(body[split + 1 :])]

    def _fail(self, number: int, problem: str) -> None:
        raise ConfigFileError(
            self.path,
            f"{problem}; oslo.config cannot read this file.",
            line=number,
            hint="fix that line, then run again.",
        )


def _check_section_name(section: str) -> None:
    if not section or section != section.strip() or "]" in section or "\n" in section or "\r" in section:
        raise InvalidValueError(
            f"invalid section name {section!r}.",
            hint="use a name such as DEFAULT, database or filter:authtoken.",
        )


def _check_key(key: str) -> None:
    if (
        not key
        or key != key.strip()
        or any(char in key for char in "=:\n\r")
        or key.startswith(("#", ";", "["))
        or any(char.isspace() for char in key)
    ):
        raise InvalidValueError(
            f"invalid directive name {key!r}.",
            hint="use a name such as connection or transport_url (no spaces, '=' or ':').",
        )


class IniFile:
    """An oslo.config-style file opened for reading and editing.

    Use it as a context manager: the file is read and checked on entry,
    edited in memory, and written once, atomically, at the end of the
    ``with`` block, and only if something changed::

        with IniFile("/etc/glance/glance-api.conf") as conf:
            conf.set("database", "connection", url)
            conf.set("DEFAULT", "transport_url", transport)

    A file that does not exist is an error unless ``create=True``; a new
    file gets ``new_file_mode`` and ``new_file_owner`` (uid, gid).
    """

    def __init__(
        self,
        path: str,
        *,
        create: bool = False,
        new_file_mode: int = 0o644,
        new_file_owner: tuple[int, int] | None = None,
    ) -> None:
        self.path = path
        self.new_file_mode = new_file_mode
        self.new_file_owner = new_file_owner
        self._parser = _Parser(path)
        try:
            raw = read_bytes(path)
        except ConfigFileError:
            if not create:
                raise
            raw = b""
        self._original = raw
        text = raw.decode("utf-8", errors="surrogateescape")
        self._blocks = self._parser.blocks(text)
        first = next((line for block in self._blocks for line in block.lines), "")
        self._eol = "\r\n" if first.endswith("\r\n") else "\n"

    # -- context manager ---------------------------------------------------

    def __enter__(self) -> "IniFile":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc_info: object) -> None:
        if exc_type is None:
            self.save()

    def text(self) -> str:
        """The file's content with the edits made so far."""
        return "".join(["".join(block.lines) for block in self._blocks])

    def data(self) -> bytes:
        """``text()`` as the bytes that would be written."""
        return self.text().encode("utf-8", errors="surrogateescape")

    @property
    def changed(self) -> bool:
        """True when the edits changed the content."""
        return self.data() != self._original

    def save(self) -> bool:
        """Write the edits atomically; return True if the file was written."""
        data = self.data()
        if data == self._original:
            return False
        written = atomic_write(
            self.path, data, new_file_mode=self.new_file_mode, new_file_owner=self.new_file_owner
        )
        self._original = data
        return written

    # -- reading ------------------------------------------------------------

    def sections(self) -> list[str]:
        """The section names in file order, each once, as first written."""
        seen: dict[str, str] = {}
        for block in self._blocks:
            if block.name is not None and block.section is not None:
                seen.setdefault(block.section, block.name)
        return list(seen.values())

    def has_section(self, section: str) -> bool:
        """True when the file has a ``[section]`` header."""
        return bool(self._blocks_of(section))

    def get(self, section: str, key: str) -> str | None:
        """The value oslo.config would read, or None when the key is unset.

        A commented-out directive is unset. When a key is given several
        times, the last one wins, as in oslo.config.
        """
        found = self._live(section, key)
        return found[-1][1].value if found else None

    def keys(self, section: str) -> list[str]:
        """The keys set in ``section``, each once, in file order."""
        names: dict[str, None] = {}
        for block in self._blocks_of(section):
            for directive in block.directives:
                names.setdefault(directive.key)
        return list(names)

    # -- editing ------------------------------------------------------------

    def set(self, section: str, key: str, value: str) -> None:
        """Make ``key`` in ``section`` read as ``value``.

        The live line is replaced in place; else the commented default
        (``#key = <None>``) is un-commented and replaced in place; else the
        directive is added at the end of the section; a missing section is
        added at the end of the file. Other live lines for the same key are
        removed, so the file holds exactly one.
        """
        encoded = self._checked(section, key, value)
        found = self._live(section, key)
        if found:
            *duplicates, (block, directive) = found
            self._replace(
                block, directive.first, directive.end, self._assignment_like(block, directive, encoded)
            )
            for other_block, other in reversed(duplicates):
                self._replace(other_block, other.first, other.end, None)
            return
        commented = self._commented(section, key)
        if commented is not None:
            block, index = commented
            uncommented = _strip_eol(block.lines[index])[1:].lstrip(" \t")
            self._replace(block, index, index + 1, self._keep_style(uncommented, encoded))
            return
        self._append(section, [self._fresh(key, encoded)])

    def add_if_absent(self, section: str, key: str, value: str, comment: str | None = None) -> bool:
        """Set ``key`` only when it is not set yet; return True if it was added.

        A directive added at the end of its section gets ``comment`` (one
        ``# `` line per line of it) just above it.
        """
        encoded = self._checked(section, key, value)
        if self._live(section, key):
            return False
        if self._commented(section, key) is not None or comment is None:
            self.set(section, key, value)
            return True
        notes = [("# " + line).rstrip() for line in comment.splitlines()]
        self._append(section, [*notes, self._fresh(key, encoded)])
        return True

    def unset(self, section: str, key: str) -> bool:
        """Remove every live line of ``key``; return True if there was one."""
        found = self._live(section, key)
        for block, directive in reversed(found):
            self._replace(block, directive.first, directive.end, None)
        return bool(found)

    def comment_out(self, section: str, key: str) -> bool:
        """Turn every live line of ``key`` into a comment; True if there was one."""
        found = self._live(section, key)
        for block, directive in reversed(found):
            commented = ["#" + line for line in block.lines[directive.first : directive.end]]
            block.lines[directive.first : directive.end] = commented
            self._reparse(block)
        return bool(found)

    def rename(self, old_section: str, old_key: str, new_section: str, new_key: str) -> bool:
        """Move a deprecated directive to its new name and comment out the old.

        The value moves only when the new directive is not set yet (a value
        already under the new name wins). Returns True if the old one was set.
        """
        old_value = self.get(old_section, old_key)
        if old_value is None:
            return False
        if self.get(new_section, new_key) is None:
            self.set(new_section, new_key, old_value)
        self.comment_out(old_section, old_key)
        return True

    def remove_section(self, section: str) -> bool:
        """Remove every ``[section]`` block; return True if there was one."""
        blocks = self._blocks_of(section)
        self._blocks = [block for block in self._blocks if block not in blocks]
        return bool(blocks)

    def section_lines(self, section: str) -> list[str]:
        """The lines of every ``[section]`` block, header included, as written."""
        return [line for block in self._blocks_of(section) for line in block.lines]

    def extract_section(self, section: str, destination: "IniFile") -> bool:
        """Move ``[section]`` into ``destination``, replacing it there.

        Returns False (and changes nothing) when this file has no such
        section, so running it again is harmless.
        """
        blocks = self._blocks_of(section)
        if not blocks:
            return False
        # Several blocks of one section become one block in the destination.
        bodies = [_strip_eol(line) for block in blocks for line in block.lines[1:]]
        while bodies and not bodies[-1].strip():
            bodies.pop()
        destination.remove_section(section)
        destination._append_block([_strip_eol(blocks[0].lines[0]), *bodies])
        self.remove_section(section)
        return True

    # -- internals ----------------------------------------------------------

    def _checked(self, section: str, key: str, value: str) -> str:
        """The encoded value, after checking the section, key and value."""
        try:
            _check_section_name(section)
            _check_key(key)
            return encode_value(value)
        except InvalidValueError as error:
            raise InvalidValueError(
                f"Cannot set [{section}] {key} in {self.path}: {error.message}", error.hint
            ) from None

    def _blocks_of(self, section: str) -> list[_Block]:
        wanted = normalize_section(section)
        return [block for block in self._blocks if block.section == wanted]

    def _live(self, section: str, key: str) -> list[tuple[_Block, _Directive]]:
        return [
            (block, directive)
            for block in self._blocks_of(section)
            for directive in block.directives
            if directive.key == key
        ]

    def _commented(self, section: str, key: str) -> tuple[_Block, int] | None:
        for block in self._blocks_of(section):
            for index, line in enumerate(block.lines):
                if line[:1] in _COMMENT_STARTS and key in line and commented_key(line) == key:
                    return block, index
        return None

    def _assignment_like(self, block: _Block, directive: _Directive, encoded: str) -> str:
        return self._keep_style(_strip_eol(block.lines[directive.first]), encoded)

    @staticmethod
    def _keep_style(body: str, encoded: str) -> str:
        """``body``'s key, separator and spacing, with the new value."""
        split = _separator(body)
        after = body[split + 1 :]
        spacing = after[: len(after) - len(after.lstrip(" \t"))]
        prefix = body[: split + 1] + spacing
        return prefix + encoded if encoded else prefix.rstrip()

    @staticmethod
    def _fresh(key: str, encoded: str) -> str:
        return f"{key} = {encoded}" if encoded else f"{key} ="

    def _replace(self, block: _Block, start: int, end: int, body: str | None) -> None:
        """Replace lines ``start:end`` of ``block`` with one line, or none."""
        if body is None:
            del block.lines[start:end]
        else:
            eol = _eol_of(block.lines[end - 1])
            block.lines[start:end] = [body + eol]
        self._reparse(block)

    def _append(self, section: str, bodies: list[str]) -> None:
        """Add lines at the end of the last ``[section]`` block, or a new section."""
        blocks = self._blocks_of(section)
        if not blocks:
            self._append_block([f"[{section}]", *bodies])
            return
        block = blocks[-1]
        last = max(index for index, line in enumerate(block.lines) if _strip_eol(line).strip() or index == 0)
        if not _eol_of(block.lines[last]):
            block.lines[last] += self._eol
        block.lines[last + 1 : last + 1] = [body + self._eol for body in bodies]
        self._reparse(block)

    def _append_block(self, bodies: list[str]) -> None:
        """Add a new block at the end of the file, after a blank line."""
        tail = self._blocks[-1]
        if tail.lines and not _eol_of(tail.lines[-1]):
            tail.lines[-1] += self._eol
        if any(block.lines for block in self._blocks) and _strip_eol(tail.lines[-1]).strip():
            tail.lines.append(self._eol)
        name = bodies[0].rstrip()[1:-1]
        block = _Block(name, [body + self._eol for body in bodies])
        self._blocks.append(block)
        self._reparse(block)

    def _reparse(self, block: _Block) -> None:
        # Line numbers only matter for errors in what the file had before
        # the edit, and those were reported on open.
        block.directives = self._parser.directives(block, 1)
