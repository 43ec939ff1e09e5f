"""Argument types the commands share: a value out of range is refused by the parser itself.

``argparse`` turns the ``ArgumentTypeError`` into ``pkgos CMD: error:
argument --port: ...`` and exit code 2, before any handler runs.
"""

from __future__ import annotations

import argparse
import math


def port(text: str) -> int:
    """A TCP port, 1 to 65535 (``int()`` alone takes 99999, which a socket wraps to 34463)."""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give a number from 1 to 65535")
    return int(text)


def seconds(text: str) -> float:
    """A duration in seconds: a finite number from 0 to one day."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 86400")
    return value


def count(text: str) -> int:
    """A number of tries, 1 to 100."""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count from 1 to 100")
    return int(text)
