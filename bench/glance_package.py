"""How long Glance takes to install itself from a generated preseed, phase by phase.

Builds the e2e tests' ``pkgostest-e2e-glance`` (Debian's python3-glance, scripts
and templates from ``pkgos gen-debian``), starts a throwaway MariaDB on
Debian's socket and a real Keystone on 127.0.0.1:5000, loads the glance
answers of a generated controller preseed, and times each phase once per
round: apt-get install (database, db sync, [keystone_authtoken], service
user, catalog), dpkg-reconfigure with nothing to change, an upgrade
(db sync again), and purge (database dropped). Run as root:
`make bench-glance`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import print_medians, timed

from tests.e2e.debhelpers import apt_install, purge, run
from tests.e2e.test_glance_package import PACKAGE, PREFIX, build, cleanup, generate_preseed
from tests.servers.keystone import keystone_server
from tests.servers.mariadb import MariaDB

ROUNDS = 3


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pkgostest-bench-glance."))
    phases = ("apt-get install (preseeded)", "dpkg-reconfigure (no change)", "upgrade (db sync)", "purge")
    timings: dict[str, list[float]] = {phase: [] for phase in phases}
    cleanup()
    try:
        (workdir / "keystone").mkdir()
        with (
            MariaDB(socket="/run/mysqld/mysqld.sock", port=3306),
            keystone_server(str(workdir / "keystone"), port=5000) as keystone,
        ):
            first, second = build(workdir, "1.0"), build(workdir, "2.0")
            preseed = generate_preseed(workdir, keystone)
            for _ in range(ROUNDS):
                run("debconf-set-selections", stdin=preseed)
                timings[phases[0]].append(timed(lambda: apt_install(first)))
                reconfigure = timed(lambda: run("dpkg-reconfigure", "-fnoninteractive", PACKAGE))
                timings[phases[1]].append(reconfigure)
                timings[phases[2]].append(timed(lambda: apt_install(second)))
                run("debconf-set-selections", stdin=f"{PACKAGE} {PREFIX}/purge-db boolean true\n")
                timings[phases[3]].append(timed(lambda: purge(PACKAGE)))
    finally:
        cleanup()
        shutil.rmtree(workdir)
    print_medians(f"{PACKAGE}: median of {ROUNDS} runs", timings)


if __name__ == "__main__":
    main()
