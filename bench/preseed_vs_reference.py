#!/usr/bin/python3
"""Checking a preseed: debconf-set-selections --checkonly against pkgos preseed check.

The controller preseed generated from preseed/example-site.toml is corrupted
three ways (a misspelt question name, ``yes`` for a boolean, a value a select
does not offer). Debian's only check before an install is
``debconf-set-selections --checkonly``; it runs here against a private
debconf database that holds the questions' templates. Both tools are timed
as whole processes, and the problems each finds are counted. Then the time
of ``pkgos preseed generate`` (three roles) and ``pkgos metapkg build``
(every meta-package, unchanged so nothing is rewritten) is measured.

Run with ``make bench-preseed`` or ``.venv/bin/python bench/preseed_vs_reference.py``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ROOT, print_table, summary, timed_runs

sys.path.insert(0, str(ROOT))
from tests.preseed_examples import generate_example, private_debconf

# The checkers exit 1 when they find problems, as they should here.
CHECKER_EXITS = (0, 1)
CORRUPTIONS = (
    ("glance/configure_rabbit boolean true", "glance/configure_rabit boolean true"),
    ("nova/configure_ksat boolean true", "nova/configure_ksat boolean yes"),
    ("heat/api-endpoint-proto select http", "heat/api-endpoint-proto select ftp"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    work = Path(tempfile.mkdtemp(prefix="pkgos-bench-preseed-"))
    try:
        bench(work, runs)
    finally:
        shutil.rmtree(work)


def bench(work: Path, runs: int) -> None:
    generate_example(work)
    text = (work / "controller.preseed").read_text()
    for old, new in CORRUPTIONS:
        text = text.replace(old, new, 1)
    corrupted = work / "corrupted.preseed"
    corrupted.write_text(text)
    env = private_debconf(work)
    templates = [arg for path in sorted(work.glob("*.templates")) for arg in ("--templates", str(path))]
    pkgos = [sys.executable, "-m", "openstack_pkg_tools"]
    meta = str(ROOT / "meta-packages")
    reference = subprocess.run(
        ["debconf-set-selections", "--checkonly", str(corrupted)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    ours = subprocess.run(
        [*pkgos, "preseed", "check", str(corrupted), *templates], capture_output=True, text=True, check=False
    )
    reference_found = len([line for line in reference.stderr.splitlines() if line.strip()])
    ours_found = len(ours.stderr.splitlines())

    rows = [
        [
            "debconf-set-selections --checkonly",
            f"exit {reference.returncode}, {reference_found} problems",
            summary(
                timed_runs(
                    ["debconf-set-selections", "--checkonly", str(corrupted)],
                    runs,
                    env=env,
                    exit_codes=CHECKER_EXITS,
                )
            ),
        ],
        [
            "pkgos preseed check",
            f"exit {ours.returncode}, {ours_found} problems",
            summary(
                timed_runs(
                    [*pkgos, "preseed", "check", str(corrupted), *templates], runs, exit_codes=CHECKER_EXITS
                )
            ),
        ],
        [
            "pkgos preseed generate (3 roles)",
            "",
            summary(
                timed_runs(
                    [
                        *pkgos,
                        "preseed",
                        "generate",
                        str(work / "example-site.toml"),
                        "--output-dir",
                        str(work),
                    ],
                    runs,
                )
            ),
        ],
        [
            "pkgos metapkg build (8 packages)",
            "",
            summary(
                timed_runs(
                    [*pkgos, "metapkg", "build", "--definitions", meta, "--output", str(work / "debs")], runs
                )
            ),
        ],
    ]
    print(f"A controller preseed with {len(CORRUPTIONS)} planted problems, {runs} runs each:")
    print_table(["tool", "result", "time"], rows)
    print("pkgos found:")
    print(ours.stderr, end="")


if __name__ == "__main__":
    main()
