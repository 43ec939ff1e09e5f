"""Time to provision one service's MariaDB database, as a whole process.

Starts a throwaway MariaDB (not timed), then runs ``pkgos db ensure`` once
per service as a separate process (database + user + grants for localhost
and % + login check + writing the URL into a config file), as a
maintainer script would. Prints each run, then the mean time per service;
the last line is ``seconds=<mean>``. Target: under 0.3 s.

    .venv/bin/python bench/db_provision.py [--services N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.servers

from tests.servers.mariadb import MariaDB

SERVICES = [
    "keystone",
    "glance",
    "nova",
    "nova_api",
    "nova_cell0",
    "placement",
    "neutron",
    "cinder",
    "heat",
    "barbican",
]


ROOT = str(Path(__file__).resolve().parents[1])
# Maintainer scripts run Debian's interpreter with the toolkit installed
# system-wide: no venv, no editable-install finder.
PYTHON = "/usr/bin/python3"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ensure(server: MariaDB, name: str, conf: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one ``pkgos db ensure`` process."""
    argv = [PYTHON, "-m", "openstack_pkg_tools", "db", "ensure", "--engine", "mysql", "--name", name]
    argv += [
        "--password-stdin",
        "--port",
        str(server.port),
        "--admin-socket",
        server.socket,
        "--config",
        conf,
    ]
    started, cpu = time.perf_counter(), _cpu()
    env = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run(
        argv, input="s3cr:t@p/ss%41#\n", capture_output=True, text=True, check=False, env=env
    )
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    if result.returncode != 0:
        raise SystemExit(f"pkgos db ensure failed:\n{result.stderr}")
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=len(SERVICES))
    args = parser.parse_args()
    names = [f"bench_{SERVICES[i % len(SERVICES)]}_{i}" for i in range(args.services)]
    with MariaDB() as server, tempfile.TemporaryDirectory(prefix="pkgosbench-") as directory:
        first: list[float] = []
        again: list[float] = []
        cpu: list[float] = []
        for name in names:
            conf = os.path.join(directory, f"{name}.conf")
            Path(conf).write_text("[database]\n")
            wall, used = ensure(server, name, conf)
            first.append(wall)
            cpu.append(used)
            again.append(ensure(server, name, conf)[0])
            print(
                f"{name}: first run {wall:.3f} s ({used:.3f} s CPU), second run (no change) {again[-1]:.3f} s"
            )
    print(
        f"services: {len(names)}; first run mean {statistics.mean(first):.3f} s, "
        f"median {statistics.median(first):.3f} s, min {min(first):.3f} s, max {max(first):.3f} s, "
        f"CPU mean {statistics.mean(cpu):.3f} s; idempotent re-run mean {statistics.mean(again):.3f} s; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"seconds={statistics.mean(first):.3f}")


if __name__ == "__main__":
    main()
