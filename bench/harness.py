"""Shared pieces of the benchmarks: the reference tools' cache, timing, tables.

Benchmarks compare this project with Debian's reference tools side by side,
in one run, on this machine. The reference packages are downloaded with
``apt-get download`` into ``.cache/bench`` at benchmark time and extracted
there; none of their files is part of this repository.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"


def reference_root(*packages: str) -> Path:
    """Download (once) and unpack (once) Debian ``packages``; the tree they unpack to."""
    tree = CACHE / "root"
    CACHE.mkdir(parents=True, exist_ok=True)
    for package in packages:
        marker = CACHE / f"{package}.unpacked"
        if marker.exists():
            continue
        debs = sorted(CACHE.glob(f"{package}_*.deb"))
        if not debs:
            subprocess.run(["apt-get", "download", package], cwd=CACHE, check=True, capture_output=True)
            debs = sorted(CACHE.glob(f"{package}_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(tree)], check=True)
        marker.touch()
    return tree


def timed_runs(
    argv: Sequence[str],
    runs: int,
    before_each: Callable[[], None] = lambda: None,
    *,
    env: Mapping[str, str] | None = None,
    exit_codes: Collection[int] = (0,),
) -> list[float]:
    """Wall-clock seconds of ``runs`` runs of ``argv``, each after ``before_each()``.

    A run must end with one of ``exit_codes`` (a checker that found problems
    may exit 1 by design).
    """
    seconds = []
    for _ in range(runs):
        before_each()
        started = time.perf_counter()
        result = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        seconds.append(time.perf_counter() - started)
        assert result.returncode in exit_codes, result.stderr
    return seconds


def summary(seconds: Sequence[float]) -> str:
    """Median, best and worst of a list of timings, in milliseconds."""
    return (
        f"median {statistics.median(seconds) * 1000:8.1f} ms   "
        f"min {min(seconds) * 1000:8.1f} ms   max {max(seconds) * 1000:8.1f} ms"
    )


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain text table on stdout."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, ["-" * width for width in widths], *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    sys.stdout.flush()


def timed(action: Callable[[], object]) -> float:
    """Wall-clock seconds of one call of ``action``."""
    started = time.monotonic()
    action()
    return time.monotonic() - started


def print_medians(title: str, timings: dict[str, list[float]]) -> None:
    """One line per phase: the median, best and worst of its timings, in seconds."""
    print(title)
    for name, values in timings.items():
        low, high = min(values), max(values)
        print(f"  {name:30} {statistics.median(values):6.2f} s  (min {low:.2f}, max {high:.2f})")
