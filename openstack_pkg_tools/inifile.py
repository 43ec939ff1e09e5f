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

Maintainer scripts edit 10,000-line files such as ``nova.conf`` on every
run, so the editor does at C speed (``bytes`` and ``str`` methods) what it
can: a file is cut into blocks at its section headers, and a block is
decoded only when an edit or a read needs it; a directive is looked up by
searching its key; and the check of the whole file on opening looks only
at the lines that are neither comments nor empty (see ``_line_starts``).
"""

from .errors import ConfigFileError, InvalidValueError
from .fileio import FileLock, MissingFileError, atomic_write, read_bytes

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

    When a service reads its options, oslo.config first turns ``\\$`` into
    ``$$``, then replaces ``$name`` and ``${name}`` with the value of another
    option (``lock_path = $state_path/lock``) and ``$$`` with ``$``. A
    password such as ``a$b`` written as it is would make the service fail
    or read something else, so a literal value has each ``$`` doubled, or
    written ``\\$`` after a backslash (``\\$$`` would lose the backslash),
    before ``IniFile.set`` writes it. The editor itself writes text as
    given, because a ``$name`` reference in a configuration file is meant
    as one.
    """
    if "$" not in value:
        return value
    *before_dollars, last = value.split("$")
    escaped = [piece + ("\\$" if piece.endswith("\\") else "$$") for piece in before_dollars]
    return "".join([*escaped, last])


def oslo_unliteral(text: str) -> str:
    """The value a service reads from ``text``, references (``$name``) left as written.

    The inverse of ``oslo_literal``: ``\\$`` and ``$$`` read as ``$``.
    """
    if "$" not in text:
        return text
    text = text.replace("\\$", "$$")
    pieces = text.split("$$")
    return "$".join(pieces)


def oslo_references(text: str) -> list[str]:
    """The options that ``text`` refers to (``$name``, ``${name}``), as oslo.config finds them."""
    if "$" not in text:
        return []
    import re  # noqa: PLC0415 (only values holding a "$" need it)

    # string.Template's pattern with oslo.config's idpattern, after its "\$" rule.
    pattern = re.compile(r"\$(?:(\$)|([_a-z][._a-z0-9]*)|\{([_a-z][._a-z0-9]*)\})", re.IGNORECASE)
    return [
        named or braced
        for escaped, named, braced in pattern.findall(text.replace("\\$", "$$"))
        if not escaped
    ]


def paste_literal(value: str) -> str:
    """``value`` escaped for a paste file (``api-paste.ini``), read with ConfigParser interpolation.

    There ``%(name)s`` refers to another option and ``%%`` is ``%``; any
    other ``%`` is an error when the service starts.
    """
    return value.replace("%", "%%")


def paste_unliteral(text: str) -> str | None:
    """The value a paste file's reader gets from ``text``; None when it holds a reference or a stray ``%``."""
    pieces = text.split("%%")
    if any("%" in piece for piece in pieces):
        return None
    return "%".join(pieces)


def decode_value(text: str) -> str:
    """The value oslo.config reads from the text after the separator."""
    value = text.strip()
    if value[:1] in _QUOTES and value[0] == value[-1]:
        return value[1:-1]
    return value


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


def _separator(body: str) -> int:
    """Index of the ``=`` or ``:`` that ends the key, or -1."""
    colon, equal = body.find(":"), body.find("=")
    if colon < 0 or (0 <= equal < colon):
        return equal
    return colon


# -- lines and directives ------------------------------------------------------
#
# A block's text is searched in place rather than split into a list of
# lines: a line runs from an offset to just after the next "\n".


def _line_end(text: str, start: int) -> int:
    """The offset after the line that starts at ``start`` (after its "\\n")."""
    return text.find("\n", start) + 1 or len(text)


def _lines(text: str) -> list[str]:
    """The lines of ``text``, each with its line ending."""
    lines = text.split("\n")
    last = lines.pop()
    return [line + "\n" for line in lines] + ([last] if last else [])


class _Malformed(Exception):
    """A line oslo.config cannot read, at ``offset`` of the text parsed."""

    def __init__(self, offset: int, problem: str) -> None:
        super().__init__(problem)
        self.offset = offset
        self.problem = problem


# _Directive and _Block are plain slotted classes rather than dataclasses:
# maintainer scripts import this module on every run, and importing
# dataclasses alone would double its cost.


class _Directive:
    """A live ``key = value`` line and its continuation lines in a block."""

    __slots__ = ("end", "key", "start", "written")

    def __init__(self, key: str, start: int, end: int, written: list[str]) -> None:
        self.key = key
        self.start = start  # offset of the key line in the block's text
        self.end = end  # offset after its last continuation line
        self.written = written  # the stripped text after the separator, then each continuation line

    @property
    def value(self) -> str:
        """The value oslo.config reads (one pair of quotes removed from the first line)."""
        return "\n".join([decode_value(self.written[0]), *self.written[1:]])


def _directive_at(text: str, start: int) -> _Directive | None:
    """The directive whose key line starts at ``start``, or None for another line.

    Blank lines, comments, the section header and indented (continuation)
    lines are no key lines. A key line with no ``=`` or ``:``, or with an
    empty key, raises ``_Malformed``.
    """
    if text.startswith(("#", ";", "[", " ", "\t"), start):
        return None
    end = _line_end(text, start)
    body = text[start:end].rstrip()
    if not body:
        return None
    split = _separator(body)
    if split < 0:
        raise _Malformed(start, "no '=' or ':' in this line")
    key = body[:split].strip()
    if not key:
        raise _Malformed(start, "a directive has an empty name")
    parts = [body[split + 1 :].strip()]
    while end < len(text):
        next_end = _line_end(text, end)
        continued = text[end:next_end].rstrip()
        if not continued.startswith((" ", "\t")):
            break
        parts.append(continued.lstrip())
        end = next_end
    return _Directive(key, start, end, parts)


def _parse(text: str, in_section: bool) -> list[_Directive]:
    """Every directive of a block's text, each line checked, in order.

    ``in_section`` is False for the lines before the first section header,
    where no directive may stand. Raises ``_Malformed`` at the first line
    oslo.config cannot read.
    """
    found = []
    start = 0
    while start < len(text):
        end = _line_end(text, start)
        body = text[start:end].rstrip()
        if body.startswith((" ", "\t")):
            raise _Malformed(start, "an indented line continues no directive")
        if body and not in_section and not body.startswith(("#", ";", "[")):
            raise _Malformed(start, "a directive stands before any [section] header")
        directive = _directive_at(text, start)
        if directive is not None:
            found.append(directive)
            end = directive.end
        start = end
    return found


def _directives_named(text: str, key: str) -> list[_Directive]:
    """The directives of ``key`` in a block's text: ``_parse`` kept to one key.

    Only the lines in which ``key`` occurs can be its key lines, and those
    are found at C speed, so a block of 2,000 lines that mentions the key
    three times costs three line checks, not 2,000.
    """
    if not key:
        return []  # found in every line, and no directive's key
    found = []
    position = text.find(key)
    while position >= 0:
        directive = _directive_at(text, text.rfind("\n", 0, position) + 1)
        if directive is not None and directive.key == key:
            found.append(directive)
            resume = directive.end
        else:
            resume = _line_end(text, position)
        position = text.find(key, resume)
    return found


def _commented_line(text: str, key: str) -> tuple[int, int] | None:
    """Where the first commented-out directive of ``key`` is in a block's text."""
    if not key:
        return None
    position = text.find(key)
    while position >= 0:
        start = text.rfind("\n", 0, position) + 1
        end = _line_end(text, start)
        if text.startswith(_COMMENT_STARTS, start) and commented_key(text[start:end]) == key:
            return start, end
        position = text.find(key, end)
    return None


class _Block:
    """The lines from one section header to the next (or the preamble).

    A block keeps the bytes it was read as, and is decoded only when an edit
    or a read needs its text: most blocks of a large file are never looked
    at, and are written back as they were read.
    """

    __slots__ = ("_text", "edited", "name", "original", "section")

    def __init__(self, name: str | None, original: memoryview) -> None:
        self.name = name  # as written; None for the lines before the first header
        self.section = None if name is None else normalize_section(name)
        self.original = original  # the bytes read from the file
        self.edited = False
        self._text: str | None = None  # decoded when first needed

    @classmethod
    def new(cls, name: str, text: str) -> "_Block":
        """A block that the file did not have."""
        block = cls(name, memoryview(b""))
        block.text = text
        return block

    @property
    def text(self) -> str:
        """The block's lines, as read or as edited."""
        if self._text is None:
            self._text = str(self.original, "utf-8", "surrogateescape")
        return self._text

    @text.setter
    def text(self, text: str) -> None:
        self._text = text
        self.edited = True

    def data(self) -> bytes | memoryview:
        """The bytes to write: the ones read, unless the block was edited."""
        if self.edited:
            return self.text.encode("utf-8", "surrogateescape")
        return self.original

    def splice(self, start: int, end: int, new: str) -> None:
        """Replace ``text[start:end]`` with ``new``."""
        text = self.text
        self.text = text[:start] + new + text[end:]


def _start_classes() -> bytes:
    """A ``bytes.translate`` table: each byte's class at the start of a line.

    ``\\n`` stays itself; ``#`` and ``;``, which start a comment, become
    ``#``; every other byte becomes ``.``.
    """
    table = bytearray(b"." * 256)
    table[ord("\n")] = ord("\n")
    table[ord("#")] = table[ord(";")] = ord("#")
    return bytes(table)


_START_CLASSES = _start_classes()


def _line_starts(raw: bytes) -> list[int]:
    """Offsets of the lines that start with no comment mark and no line break.

    Those are the section headers, the directives and their continuation
    lines, and the lines that may be wrong: the only lines that need a
    look. Nearly every line of a generated file is a comment or empty, so
    they are found at C speed rather than by looking at 10,000 lines one by
    one: every byte is mapped to its class, then the classes are searched
    for a line break followed by an "other" byte.
    """
    classes = raw.translate(_START_CLASSES)
    found = [0] if classes.startswith(b".") else []
    position = classes.find(b"\n.")
    while position >= 0:
        found.append(position + 1)
        position = classes.find(b"\n.", position + 1)
    return found


class _Reader:
    """Cuts a file's bytes into blocks, checking them with oslo.config's rules.

    A problem is reported as a ``ConfigFileError`` naming its line: first
    any malformed section header, then the first line, in file order, that
    oslo.config cannot read.
    """

    def __init__(self, path: str, raw: bytes) -> None:
        self.path = path
        self.raw = raw

    def blocks(self) -> list[_Block]:
        """Every block of the file, the preamble first (maybe empty)."""
        raw, view = self.raw, memoryview(self.raw)
        if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
            self._lone_carriage_return()
        starts = _line_starts(raw)
        headers = [start for start in starts if raw.startswith(b"[", start)]
        ends = [*headers[1:], len(raw)]
        blocks = [_Block(None, view[: headers[0] if headers else len(raw)])]
        blocks += [
            _Block(self._section_name(start), view[start:end])
            for start, end in zip(headers, ends, strict=False)  # no ends without headers
        ]
        self._check(blocks, headers, starts)
        return blocks

    def _lone_carriage_return(self) -> None:
        """Refuse a carriage return that no line feed follows, even in a comment.

        oslo.config reads a file with Python's universal newlines, where a
        lone CR ends a line: ``# note\rdebug = true`` is a directive to a
        service and a comment to a line-feed reader. Such a file is refused
        rather than read otherwise than the service reads it.
        """
        position = self.raw.find(b"\r")
        while self.raw.startswith(b"\r\n", position):
            position = self.raw.find(b"\r", position + 2)
        start = self.raw.rfind(b"\n", 0, position) + 1
        raise self._error(
            start,
            "a carriage return without a line feed, which oslo.config reads as a line break.",
            "remove the carriage return (or end the line with CR LF), then run again.",
        )

    def _section_name(self, start: int) -> str:
        body = self._line(start).rstrip()
        if not body.endswith("]"):
            raise self._error(start, f"malformed section header {body!r}: it must end with ']'.")
        if len(body) <= 2:
            raise self._error(start, "empty section name '[]'.")
        return body[1:-1]

    def _check(self, blocks: list[_Block], headers: list[int], starts: list[int]) -> None:
        """Raise the error of the first line oslo.config cannot read, if any.

        Comments and empty lines cannot be wrong, so only the lines at
        ``starts`` are looked at, except in a block that is parsed whole.
        """
        self._parse(blocks[0], 0, in_section=False)  # the preamble: rarely more than a comment
        index = 0  # blocks[index] holds the line at hand; blocks[i] starts at headers[i - 1]
        parsed = 0  # blocks[parsed] was parsed whole
        for start in starts:
            while index < len(headers) and headers[index] <= start:
                index += 1
            if index == parsed or start == headers[index - 1]:
                continue
            body = self._line(start).rstrip()
            if body.startswith((" ", "\t")):
                # Whether an indented line continues a directive depends on
                # the lines above it: this block is parsed whole.
                self._parse(blocks[index], headers[index - 1], in_section=True)
                parsed = index
            elif body:
                try:
                    _directive_at(body, 0)
                except _Malformed as error:
                    raise self._unreadable(start, error) from None

    def _line(self, start: int) -> str:
        """The line that starts at byte ``start``, decoded."""
        end = self.raw.find(b"\n", start) + 1 or len(self.raw)
        return self.raw[start:end].decode("utf-8", "surrogateescape")

    def _parse(self, block: _Block, start: int, *, in_section: bool) -> None:
        """Check every line of ``block``, which starts at byte ``start`` of the file."""
        try:
            _parse(block.text, in_section)
        except _Malformed as error:
            before = block.text[: error.offset].encode("utf-8", "surrogateescape")
            raise self._unreadable(start + len(before), error) from None

    def _unreadable(self, start: int, error: _Malformed) -> ConfigFileError:
        return self._error(
            start, f"{error.problem}; oslo.config cannot read this file.", "fix that line, then run again."
        )

    def _error(self, start: int, problem: str, hint: str = "fix or remove that line.") -> ConfigFileError:
        """The error for the line that starts at byte ``start``."""
        return ConfigFileError(self.path, problem, line=self.raw.count(b"\n", 0, start) + 1, hint=hint)


def _shown(name: str) -> str:
    """``name`` as a message shows it: quoted when it holds a line break or another control character."""
    return name if name.isprintable() else repr(name)


def _check_encodable(what: str, text: str) -> None:
    """Refuse text that is not valid UTF-8 once written (bytes the command line could not decode)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValueError(
            f"the {what} is not valid UTF-8, and a service cannot read a file holding it.",
            hint="give the text in UTF-8.",
        ) from None


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
        self._create = create
        self._lock: FileLock | None = None
        self._load()

    def _load(self) -> None:
        """Read and check the file (nothing, for a missing file to create)."""
        try:
            raw: bytes | None = read_bytes(self.path)
        except MissingFileError:
            if not self._create:
                raise
            raw = None
        self._load_content(raw)

    def _load_content(self, raw: bytes | None) -> None:
        """Cut ``raw`` (None: a file that does not exist yet) into blocks."""
        self._read: bytes | None = raw
        raw = raw or b""
        self._blocks = _Reader(self.path, raw).blocks()
        self._saved = self._pieces()  # the file's content, as read or last written
        first_line = raw[: raw.find(b"\n") + 1]
        self._eol = "\r\n" if first_line.endswith(b"\r\n") else "\n"

    # -- context manager ---------------------------------------------------

    def __enter__(self) -> "IniFile":
        """Lock the file against other writers; read it again if one replaced it meanwhile."""
        lock = FileLock.acquire(self.path)
        try:
            if lock.content != self._read:
                if lock.content is None and not self._create:
                    raise MissingFileError(self.path, "was removed while it was being edited.")
                self._load_content(lock.content)
        except BaseException:
            lock.release()
            raise
        self._lock = lock
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc_info: object) -> None:
        try:
            if exc_type is None:
                self.save()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def text(self) -> str:
        """The file's content with the edits made so far."""
        return "".join([block.text for block in self._blocks])

    def data(self) -> bytes:
        """``text()`` as the bytes that would be written."""
        return b"".join(self._pieces())

    @property
    def changed(self) -> bool:
        """True when the edits changed the content."""
        return self._differs(self._pieces())

    def save(self) -> bool:
        """Write the edits atomically; return True if the file was written."""
        pieces = self._pieces()
        if not self._differs(pieces):
            return False
        written = atomic_write(
            self.path, pieces, new_file_mode=self.new_file_mode, new_file_owner=self.new_file_owner
        )
        self._saved = pieces
        if written:
            self._read = b"".join(pieces)  # what a later edit under the lock expects to find
        return written

    def _pieces(self) -> list[bytes | memoryview]:
        """The content, block by block: the bytes read for a block not edited."""
        return [block.data() for block in self._blocks]

    def _differs(self, pieces: list[bytes | memoryview]) -> bool:
        """Whether ``pieces`` hold other bytes than the file as read or last written."""
        saved = self._saved
        if len(pieces) == len(saved) and all(new is old for new, old in zip(pieces, saved, strict=True)):
            return False  # the very pieces: no block was edited, added or removed
        if sum(map(len, pieces)) != sum(map(len, saved)):
            return True
        return b"".join(pieces) != b"".join(saved)

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

    def get_written(self, section: str, key: str) -> str | None:
        """The text after the separator as written (no quotes removed), or None when unset.

        What readers other than oslo.config (ConfigParser, which reads paste
        files) take as the value.
        """
        found = self._live(section, key)
        return "\n".join(found[-1][1].written) if found else None

    def keys(self, section: str) -> list[str]:
        """The keys set in ``section``, each once, in file order."""
        names: dict[str, None] = {}
        for block in self._blocks_of(section):
            for directive in _parse(block.text, in_section=True):
                names.setdefault(directive.key)
        return list(names)

    # -- editing ------------------------------------------------------------

    def set(self, section: str, key: str, value: str, *, verbatim: bool = False) -> None:
        """Make ``key`` in ``section`` read as ``value``.

        ``verbatim`` writes ``value`` as the text after the separator, with
        no quotes added: for readers other than oslo.config (see
        ``get_written``); it must then have no white space at either end.

        The live line is replaced in place; else the commented default
        (``#key = <None>``) is un-commented and replaced in place; else the
        directive is added at the end of the section; a missing section is
        added at the end of the file. Other live lines for the same key are
        removed, so the file holds exactly one.
        """
        encoded = self._checked(section, key, value, verbatim=verbatim)
        found = self._live(section, key)
        if found:
            *duplicates, (block, directive) = found
            key_line = _strip_eol(block.text[directive.start : _line_end(block.text, directive.start)])
            self._replace(block, directive.start, directive.end, self._keep_style(key_line, encoded))
            for other_block, other in reversed(duplicates):
                self._replace(other_block, other.start, other.end, None)
            return
        commented = self._commented(section, key)
        if commented is not None:
            block, start, end = commented
            uncommented = _strip_eol(block.text[start:end])[1:].lstrip(" \t")
            self._replace(block, start, end, self._keep_style(uncommented, encoded))
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
            self._replace(block, directive.start, directive.end, None)
        return bool(found)

    def comment_out(self, section: str, key: str) -> bool:
        """Turn every live line of ``key`` into a comment; True if there was one."""
        found = self._live(section, key)
        for block, directive in reversed(found):
            lines = _lines(block.text[directive.start : directive.end])
            block.splice(directive.start, directive.end, "".join(["#" + line for line in lines]))
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
        return [line for block in self._blocks_of(section) for line in _lines(block.text)]

    def extract_section(self, section: str, destination: "IniFile") -> bool:
        """Move ``[section]`` into ``destination``, replacing it there.

        Returns False (and changes nothing) when this file has no such
        section, so running it again is harmless.
        """
        blocks = self._blocks_of(section)
        if not blocks:
            return False
        # Several blocks of one section become one block in the destination.
        lines = [_lines(block.text) for block in blocks]
        bodies = [_strip_eol(line) for block_lines in lines for line in block_lines[1:]]
        while bodies and not bodies[-1].strip():
            bodies.pop()
        destination.remove_section(section)
        destination._append_block([_strip_eol(lines[0][0]), *bodies])
        self.remove_section(section)
        return True

    # -- internals ----------------------------------------------------------

    def _checked(self, section: str, key: str, value: str, *, verbatim: bool = False) -> str:
        """The encoded value, after checking the section, key and value."""
        try:
            _check_section_name(section)
            _check_key(key)
            for what, text in (("section name", section), ("directive name", key), ("value", value)):
                _check_encodable(what, text)
            if verbatim:
                if value != value.strip():
                    raise InvalidValueError(
                        "the value starts or ends with white space, which this file's reader strips.",
                        hint="remove the white space from the value.",
                    )
                encode_value(value)  # the line-break check
                return value
            return encode_value(value)
        except InvalidValueError as error:
            raise InvalidValueError(
                f"Cannot set [{_shown(section)}] {_shown(key)} in {self.path}: {error.message}", error.hint
            ) from None

    def _blocks_of(self, section: str) -> list[_Block]:
        wanted = normalize_section(section)
        return [block for block in self._blocks if block.section == wanted]

    def _live(self, section: str, key: str) -> list[tuple[_Block, _Directive]]:
        return [
            (block, directive)
            for block in self._blocks_of(section)
            for directive in _directives_named(block.text, key)
        ]

    def _commented(self, section: str, key: str) -> tuple[_Block, int, int] | None:
        for block in self._blocks_of(section):
            found = _commented_line(block.text, key)
            if found is not None:
                return block, *found
        return None

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

    @staticmethod
    def _replace(block: _Block, start: int, end: int, body: str | None) -> None:
        """Replace the lines ``text[start:end]`` of ``block`` with one line, or none."""
        new = "" if body is None else body + _eol_of(block.text[start:end])
        block.splice(start, end, new)

    def _append(self, section: str, bodies: list[str]) -> None:
        """Add lines at the end of the last ``[section]`` block, or a new section."""
        blocks = self._blocks_of(section)
        if not blocks:
            self._append_block([f"[{section}]", *bodies])
            return
        block = blocks[-1]
        text = block.text
        # After the last line that is not blank (the header at least).
        insert_at = _line_end(text, len(text.rstrip()))
        missing_eol = "" if text.endswith("\n", 0, insert_at) else self._eol
        block.splice(insert_at, insert_at, missing_eol + "".join([body + self._eol for body in bodies]))

    def _append_block(self, bodies: list[str]) -> None:
        """Add a new block at the end of the file, after a blank line."""
        tail = self._blocks[-1]
        text = tail.text
        if text:  # only the preamble may be empty, and then it is the whole file
            if not text.endswith("\n"):
                text += self._eol
            if text[text.rfind("\n", 0, len(text) - 1) + 1 :].strip():
                text += self._eol
            if text != tail.text:
                tail.text = text
        name = bodies[0].rstrip()[1:-1]
        self._blocks.append(_Block.new(name, "".join([body + self._eol for body in bodies])))
