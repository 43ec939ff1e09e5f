"""A typed facade over Debian's ``debconf`` module, for maintainer scripts.

Debian's module has three traps that this facade closes:

* its own re-exec under the frontend passes ``/usr/bin/python3`` as the
  script, so the frontend cannot tell which package runs and loads no
  templates; ``ensure_frontend()`` re-execs with the script's own path;
* creating a ``debconf.Debconf`` rebinds ``sys.stdout`` to stderr (so a
  stray ``print`` cannot corrupt the protocol); the facade keeps the real
  stdout as the protocol channel and leaves the rebinding in place;
* ``INPUT`` answers code 30 when a question will not be shown (already
  seen, or below the asked priority): that is normal, not an error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol

from .errors import PkgosError

FRONTEND = "/usr/share/debconf/frontend"
# INPUT's answer when the question is not shown (seen, or priority too low).
QUESTION_SKIPPED = 30
# Where a shell confmodule keeps the protocol channel.
CONFMODULE_FD = 3
# What a boolean question holds.
TRUE, FALSE = "true", "false"


class Priority(StrEnum):
    """The priority a question is asked with; the frontend shows it if at or above its threshold."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class DebconfFailure(PkgosError):
    """debconf refused a command (unknown question, no frontend)."""


class _Channel(Protocol):
    """The subset of ``debconf.Debconf`` the facade uses (also what tests fake)."""

    def command(self, command: str, *params: str) -> str: ...

    def stop(self) -> None: ...


def ensure_frontend(argv: Sequence[str], script: str | None = None) -> None:
    """Re-exec under debconf's frontend unless already running under it.

    ``script`` is the maintainer script the frontend should run again
    (default: ``argv[0]``, the running script); its path tells the frontend
    the package, hence which templates to load. Returns only when a
    frontend is already talking to us (``DEBIAN_HAS_FRONTEND`` is set).
    """
    if os.environ.get("DEBIAN_HAS_FRONTEND"):
        return
    path = os.path.abspath(script or argv[0])
    # debconf's own modules set this: the frontend may run from a preinst,
    # when the Perl libraries are being unpacked.
    os.environ["PERL_DL_NONLAZY"] = "1"
    os.execv(FRONTEND, [FRONTEND, path, *argv[1:]])  # noqa: S606 (argv list, no shell)


def _debian_debconf() -> Any:
    """Debian's module (python3-debconf), loaded on first use: only maintainer scripts need it."""
    import debconf  # noqa: PLC0415

    return debconf


class Debconf:
    """One conversation with the debconf frontend.

    ``open()`` connects through the inherited stdin/stdout; tests pass any
    object with ``command()`` and ``stop()``.
    """

    def __init__(self, channel: _Channel, *, shared: bool = False) -> None:
        self._channel = channel
        # A shell script's own channel: the script talks on it after us.
        self._shared = shared

    @classmethod
    def open(cls) -> Debconf:
        """Connect to the frontend that runs this process.

        A shell maintainer script that sourced confmodule has sent its
        stdout to stderr and kept the protocol channel on descriptor 3
        (``DEBCONF_REDIR``): a command it runs talks there.
        """
        write = None  # Debian's module then writes to stdout
        shared = bool(os.environ.get("DEBCONF_REDIR"))
        if shared:
            write = open(CONFMODULE_FD, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 (lives as long as the process)
        return cls(_debian_debconf().Debconf(write=write), shared=shared)

    def _command(self, command: str, *params: str) -> str:
        try:
            return self._channel.command(command, *params)
        except _debian_debconf().DebconfError as error:
            code, text = (*error.args, None, "")[:2]
            raise DebconfFailure(
                f"debconf refused {command.upper()} {' '.join(params)}: {code} {text}".rstrip() + ".",
                hint="check that the package's templates declare this question "
                "(pkgos merge-templates) and that the script runs under debconf.",
            ) from None

    def get(self, question: str) -> str:
        """The current value of ``question``."""
        return self._command("get", question)

    def get_bool(self, question: str) -> bool:
        """The value of a boolean question."""
        return self.get(question) == TRUE

    def set(self, question: str, value: str) -> None:
        """Set ``question`` to ``value`` (one line: the protocol has no way to send more)."""
        if "\n" in value or "\r" in value:
            raise DebconfFailure(
                f"Cannot set {question}: the value spans several lines.", hint="use one line."
            )
        self._command("set", question, value)

    def set_bool(self, question: str, value: bool) -> None:
        """Set a boolean question."""
        self.set(question, TRUE if value else FALSE)

    def seen(self, question: str) -> bool:
        """True when the question was shown (or preseeded) already."""
        return self._command("fget", question, "seen") == TRUE

    def mark_unseen(self, question: str) -> None:
        """Make the question show again at the next ``ask`` (reconfigure)."""
        self._command("fset", question, "seen", FALSE)

    def ask(self, question: str, priority: Priority = Priority.MEDIUM) -> bool:
        """Queue ``question``; False when debconf will not show it (normal)."""
        try:
            self._channel.command("input", str(priority), question)
        except _debian_debconf().DebconfError as error:
            if error.args and error.args[0] == QUESTION_SKIPPED:
                return False
            raise DebconfFailure(
                f"debconf cannot ask {question}: {error}.",
                hint="declare the question in the package's templates (pkgos merge-templates).",
            ) from None
        return True

    def go(self) -> None:
        """Show the queued questions."""
        self._command("go")

    def forget(self, question: str) -> None:
        """Drop a volatile answer (a password) from the debconf database.

        The value is cleared and the question marked unseen, so nothing of
        the secret is kept after the maintainer script ends.
        """
        self.set(question, "")
        self.mark_unseen(question)

    def purge(self) -> None:
        """Remove every question of the running package from the database (postrm purge)."""
        self._command("purge")

    def stop(self) -> None:
        """End the conversation (the frontend keeps the answers).

        Not on a shell script's channel: the script goes on talking after
        pkgos returns (debhelper's ``db_purge`` in postrm purge), and after
        a STOP the frontend answers nothing, so the script would wait forever.
        """
        if not self._shared:
            self._channel.stop()
