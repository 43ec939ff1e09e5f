"""The exceptions of openstack-pkg-tools.

The library raises; only entry points (the ``pkgos`` command, maintainer
script phases) turn an error into a message and an exit code. Every error
carries a message that names the object and the file, and a hint that says
how to fix it.
"""


class PkgosError(Exception):
    """Base class of every error the toolkit raises on purpose.

    ``exit_code`` is what an entry point exits with: 2 for bad input and
    failed operations, as documented in the command's ``--help``.
    """

    exit_code = 2
    default_hint = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} Hint: {self.hint}"
        return self.message


class ConfigFileError(PkgosError):
    """A configuration file is missing, unreadable or malformed.

    ``line`` is the 1-based line number when the problem is on one line.
    """

    def __init__(self, path: str, problem: str, *, line: int | None = None, hint: str | None = None) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}", hint)
        self.path = path
        self.line = line


class InvalidValueError(PkgosError):
    """A value, name or answer cannot be used as given."""


class CommandError(PkgosError):
    """A child process failed, timed out or could not be started.

    The message holds the pasteable command (which never contains a secret:
    secrets travel on stdin or in files), the exit code and the last lines
    of its error output, with the password of any URL in them replaced by
    ``***`` (``redact_urls``).
    """

    TAIL_LINES = 20

    def __init__(
        self,
        command: str,
        *,
        exit_code: int | None,
        stderr: str = "",
        reason: str | None = None,
        hint: str | None = None,
    ) -> None:
        if reason is None:
            reason = f"exited with code {exit_code}"
        self.reason = reason
        tail = redact_urls(last_lines(stderr, self.TAIL_LINES))
        message = f"Command failed: {command}: {reason}."
        if tail:
            message += "\n" + tail
        super().__init__(message, hint)
        self.command = command
        self.returncode = exit_code
        self.stderr = stderr


def last_lines(text: str, count: int) -> str:
    """The last ``count`` non-empty lines of ``text``, indented for a message."""
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join("  " + line for line in lines[-count:])


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret replaced by ``***``, as it is and percent-encoded.

    For what a server or a child printed: a child given a URL may print it
    with the password encoded.
    """
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "***")
        from urllib.parse import quote  # noqa: PLC0415 (only messages that may hold a secret need it)

        encoded = quote(secret, safe="")
        if encoded != secret:
            text = text.replace(encoded, "***")
    return text


def redact_urls(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` URL in it replaced by ``***``.

    A safety net for what a child printed (a migration that quotes its
    database URL): the secrets a caller knows are redacted by ``redact``.
    """
    if "://" not in text:
        return text
    import re  # noqa: PLC0415 (only text holding a URL needs it)

    return re.sub(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s]*@", r"\1***@", text)
