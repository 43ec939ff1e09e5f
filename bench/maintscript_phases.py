"""How long a profile-driven package takes in each dpkg phase on this machine.

Builds the test suite's fixture package (python3 maintainer scripts from a
profile, all four template families), then times, N times each:
dpkg -i (fresh, user and directories created), dpkg-reconfigure with
nothing to change, dpkg --purge. Run as root: `make bench-maintscript`.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.debhelpers import forget_everything, purge, run
from tests.e2e.test_maintscript_dpkg import PACKAGE, _build

ROUNDS = 5


def _timed(action: Callable[[], object]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pkgostest-bench."))
    timings: dict[str, list[float]] = {"dpkg -i (fresh)": [], "dpkg-reconfigure (no change)": [], "purge": []}
    try:
        deb = _build(workdir)
        for _ in range(ROUNDS):
            forget_everything(PACKAGE)
            timings["dpkg -i (fresh)"].append(_timed(lambda: run("dpkg", "-i", str(deb))))
            reconfigure = _timed(lambda: run("dpkg-reconfigure", "-fnoninteractive", PACKAGE))
            timings["dpkg-reconfigure (no change)"].append(reconfigure)
            timings["purge"].append(_timed(lambda: purge(PACKAGE)))
    finally:
        forget_everything(PACKAGE)
        shutil.rmtree(workdir)
    print(f"{PACKAGE}: median of {ROUNDS} runs")
    for name, values in timings.items():
        low, high = min(values), max(values)
        print(f"  {name:30} {statistics.median(values):6.2f} s  (min {low:.2f}, max {high:.2f})")


if __name__ == "__main__":
    main()
