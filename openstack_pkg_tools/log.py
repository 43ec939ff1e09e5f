"""Progress and diagnostics on stderr.

Two styles, chosen from the environment:

* interactive use (the ``pkgos`` command, image builds): nested, timed
  steps, ``==> Creating database glance`` then ``<== Creating database
  glance (0.4 s)``;
* inside a maintainer script (dpkg sets ``DPKG_MAINTSCRIPT_NAME``): quiet,
  plain lines prefixed with the package, as Debian's own tools print them.

Nothing here ever receives a secret: callers pass redacted text (see
``urls.redacted``), and ``run()`` logs argv lists, which never hold one.
``PKGOS_VERBOSE=1`` adds debug lines.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class _Nesting:
    """How deep inside nested steps the next line is printed."""

    depth = 0


_nesting = _Nesting()


def _in_maintainer_script() -> bool:
    return "DPKG_MAINTSCRIPT_NAME" in os.environ


def _prefix() -> str:
    package = os.environ.get("DPKG_MAINTSCRIPT_PACKAGE")
    return f"{package}: " if package else "pkgos: "


def _emit(line: str) -> None:
    # Maintainer scripts may have stdout bound to debconf's protocol, so
    # every diagnostic goes to stderr, unbuffered enough to interleave with
    # the children's own output.
    print(line, file=sys.stderr, flush=True)


def verbose() -> bool:
    """True when debug lines are wanted (``PKGOS_VERBOSE=1``)."""
    return os.environ.get("PKGOS_VERBOSE", "") not in ("", "0")


def info(message: str) -> None:
    """A plain progress line, indented under the current step."""
    if _in_maintainer_script():
        _emit(_prefix() + message)
    else:
        _emit("    " * _nesting.depth + message)


def warning(message: str) -> None:
    """Something the user should know about; the work goes on."""
    _emit(_prefix() + "warning: " + message)


def debug(message: str) -> None:
    """A line shown only with ``PKGOS_VERBOSE=1``."""
    if verbose():
        info(message)


@contextmanager
def step(title: str) -> Iterator[None]:
    """Announce a unit of work, time it, and nest the lines inside it.

    In a maintainer script only the title is printed (and a line if the
    step fails); interactively the end of the step is printed with its
    duration.
    """
    quiet = _in_maintainer_script()
    started = time.monotonic()
    info(title if quiet else "==> " + title)
    _nesting.depth += 1
    try:
        yield
    except BaseException:
        _nesting.depth -= 1
        info(f"{title}: failed after {time.monotonic() - started:.1f} s")
        raise
    _nesting.depth -= 1
    if not quiet:
        info(f"<== {title} ({time.monotonic() - started:.1f} s)")
