"""How long a profile-driven package takes in each dpkg phase on this machine.

Builds the test suite's fixture package (python3 maintainer scripts from a
profile, all four template families), then times, N times each:
dpkg -i (fresh, user and directories created), dpkg-reconfigure with
nothing to change, dpkg --purge. Run as root: `make bench-maintscript`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import print_medians, timed

from tests.e2e.debhelpers import dpkg_install, forget_everything, purge, run
from tests.e2e.test_maintscript_dpkg import PACKAGE, _build

ROUNDS = 5


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pkgostest-bench."))
    timings: dict[str, list[float]] = {"dpkg -i (fresh)": [], "dpkg-reconfigure (no change)": [], "purge": []}
    try:
        deb = _build(workdir)
        for _ in range(ROUNDS):
            forget_everything(PACKAGE)
            timings["dpkg -i (fresh)"].append(timed(lambda: dpkg_install(deb)))
            reconfigure = timed(lambda: run("dpkg-reconfigure", "-fnoninteractive", PACKAGE))
            timings["dpkg-reconfigure (no change)"].append(reconfigure)
            timings["purge"].append(timed(lambda: purge(PACKAGE)))
    finally:
        forget_everything(PACKAGE)
        shutil.rmtree(workdir)
    print_medians(f"{PACKAGE}: median of {ROUNDS} runs", timings)


if __name__ == "__main__":
    main()
