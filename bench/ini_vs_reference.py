#!/usr/bin/python3
"""Ten edits of nova.conf: Debian's shell library against this project.

Both tools make the same edits to a fresh copy of Debian's nova.conf (10,000
lines, mostly commented defaults): the database and api_database connection
URLs, transport_url, six [keystone_authtoken] keys, then one read. Each tool
runs as a whole process, the way a maintainer script runs it: a bash script
sourcing the reference ``pkgos_func``, and a Python script using this
project's ``IniFile``, started as ``python3 -I -S`` with the library's
directory put on ``sys.path``: the interpreter's leanest start (about 10 ms
here), so that the figure is the editor's. A script that starts with
``site`` (``#!/usr/bin/python3``, as generated maintainer scripts and
``pkgos`` do) pays the ``.pth`` files of every installed package on top:
13-17 ms more on this project's machines. The values carry characters real
passwords have.

A Python process that does nothing (``python3 -I -S -c pass``) is timed in
the same rounds: the reference's time over its time is the ceiling of the
ratio for any Python tool on this machine, printed before the ratio.

Then both files are read back with oslo.config's own parser, and every value
the reference corrupted is reported. The last line is
``ratio=<reference_seconds/our_seconds>`` (medians).

Run with ``make bench`` or ``.venv/bin/python bench/ini_vs_reference.py``.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ROOT, print_table, reference_root, summary, timed_runs

# (section, key, value): what a postinst writes into nova.conf.
EDITS = [
    ("database", "connection", "mysql+pymysql://nova:Gz8&kq=4@192.0.2.10/nova?charset=utf8"),
    ("api_database", "connection", "mysql+pymysql://nova_api:Gz8%23kq@192.0.2.10/nova_api?charset=utf8"),
    ("DEFAULT", "transport_url", "rabbit://openstack:Rb7*qx@192.0.2.11:5672/"),
    ("keystone_authtoken", "www_authenticate_uri", "http://192.0.2.12:5000"),
    ("keystone_authtoken", "auth_url", "http://192.0.2.12:5000"),
    ("keystone_authtoken", "region_name", "regionOne"),
    ("keystone_authtoken", "username", "nova"),
    ("keystone_authtoken", "password", "Nv\\9 x&y"),
    ("keystone_authtoken", "project_name", "service"),
]
READ = ("database", "connection")

# Python's own start-up and exit, timed alongside: the floor of any Python tool.
IDLE_PYTHON = ["/usr/bin/python3", "-I", "-S", "-c", "pass"]


def reference_script(library: Path) -> str:
    """The bash script doing the edits with the reference library."""
    lines = ["#!/bin/bash", f". {shlex.quote(str(library))}", 'FILE="$1"']
    lines += [
        f'pkgos_inifile set "$FILE" {section} {key} {shlex.quote(value)}' for section, key, value in EDITS
    ]
    lines += [f'pkgos_inifile get "$FILE" {READ[0]} {READ[1]}', 'echo "$RET"']
    return "\n".join(lines) + "\n"


def our_script() -> str:
    """The Python script doing the same edits with this project."""
    return "\n".join(
        [
            "import sys",
            f"sys.path.insert(0, {str(ROOT)!r})",
            "from openstack_pkg_tools.inifile import IniFile",
            "with IniFile(sys.argv[1]) as conf:",
            *[f"    conf.set({section!r}, {key!r}, {value!r})" for section, key, value in EDITS],
            f"    print(conf.get({READ[0]!r}, {READ[1]!r}))",
            "",
        ]
    )


def read_back(path: Path) -> dict[tuple[str, str], str | None]:
    """Each edited value as oslo.config itself reads it from ``path``."""
    from oslo_config import cfg, iniparser

    sections: dict[str, dict[str, list[str]]] = {}
    try:
        cfg.ConfigParser(str(path), sections).parse()
    except iniparser.ParseError as error:
        print(f"oslo.config cannot parse {path.name}: {error}")
        return {(section, key): None for section, key, _ in EDITS}
    return {(section, key): (sections.get(section, {}).get(key) or [None])[-1] for section, key, _ in EDITS}


def main() -> int:
    """Run the benchmark; 0 when this project's file is correct."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9, help="runs of each tool (default 9)")
    options = parser.parse_args()

    tree = reference_root("openstack-pkg-tools", "nova-common")
    library = tree / "usr/share/openstack-pkg-tools/pkgos_func"
    sample = tree / "usr/share/nova-common/nova.conf"
    # Installed packages are byte-compiled; so is this tree before timing.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "openstack_pkg_tools")], check=True)

    work = Path(tempfile.mkdtemp(prefix="pkgos-bench-ini-"))
    try:
        (work / "reference.sh").write_text(reference_script(library))
        (work / "ours.py").write_text(our_script())
        tools = {
            "reference (pkgos_func)": (["bash", str(work / "reference.sh")], work / "reference.conf"),
            "openstack-pkg-tools": (
                ["/usr/bin/python3", "-I", "-S", str(work / "ours.py")],
                work / "ours.conf",
            ),
        }
        timings: dict[str, list[float]] = {}
        idle: list[float] = []
        # Alternate the tools run by run, so that a busy moment of the
        # machine weighs on both alike.
        for _ in range(options.runs):
            for name, (argv, target) in tools.items():
                seconds = timed_runs(
                    [*argv, str(target)], 1, lambda target=target: shutil.copy(sample, target)
                )
                timings.setdefault(name, []).extend(seconds)
            idle += timed_runs(IDLE_PYTHON, 1, lambda: None)

        print(f"{len(EDITS)} sets + 1 get on {sample.name} ({len(sample.read_text().splitlines())} lines),")
        print(f"{options.runs} runs of each tool, each run a whole process on a fresh copy:\n")
        rows = [[name, summary(seconds)] for name, seconds in timings.items()]
        print_table(["tool", "time"], [*rows, ["(python3 -I -S, doing nothing)", summary(idle)]])
        return report(tools, timings, idle)
    finally:
        shutil.rmtree(work)


def report(
    tools: dict[str, tuple[list[str], Path]], timings: dict[str, list[float]], idle: list[float]
) -> int:
    """Print what each tool left in its file, and the ratio as the last line.

    ``idle`` are the timings of a Python process that does nothing: the
    reference's time over theirs is the most any Python tool can reach here.
    """
    reference_name, our_name = list(tools)
    reference_values = read_back(tools[reference_name][1])
    our_values = read_back(tools[our_name][1])
    rows, corrupted, ours_wrong = [], 0, 0
    for section, key, expected in EDITS:
        theirs, ours = reference_values[(section, key)], our_values[(section, key)]
        corrupted += theirs != expected
        ours_wrong += ours != expected
        rows.append(
            [
                f"[{section}] {key}",
                repr(expected),
                "ok" if theirs == expected else f"CORRUPTED: {theirs!r}",
                "ok" if ours == expected else f"WRONG: {ours!r}",
            ]
        )
    print("\nValues read back with oslo.config's parser:\n")
    print_table(["directive", "written", "reference", "openstack-pkg-tools"], rows)
    print(f"\nreference corrupted {corrupted} of {len(EDITS)} values; openstack-pkg-tools {ours_wrong}.")
    reference_median = statistics.median(timings[reference_name])
    print(
        f"A Python process that does nothing takes {statistics.median(idle) * 1000:.1f} ms here: "
        f"no Python tool can reach a ratio above {reference_median / statistics.median(idle):.1f}."
    )
    print(f"ratio={reference_median / statistics.median(timings[our_name]):.1f}")
    return 1 if ours_wrong else 0


if __name__ == "__main__":
    sys.exit(main())
