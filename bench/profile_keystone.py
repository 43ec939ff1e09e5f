"""Where the rewired keystone's configure phase goes: one node, its install timed line by line.

``prepare`` starts node ``kprof`` and readies it as the rewire bench does
(MariaDB, RabbitMQ, every dependency, the signed archive, the preseed).
``run`` then installs keystone (``apt-get install keystone``) with
``PKGOS_VERBOSE=1``, stamps every line of its output with the seconds since
apt's ``Configuring keystone`` status line, lists the processes of the
configure phase that lived longest (process accounting: start, elapsed
seconds, name), and purges keystone again (its database dropped), so that
the next ``run`` is a first install again. ``--overlay`` first copies this
tree's ``openstack_pkg_tools`` over the installed toolkit (``--toolkit DIR``
another copy's), to measure a change without rebuilding the archive. ``remove`` removes the node.

Run as root from the repository's top directory:
``.venv/bin/python bench/profile_keystone.py prepare|run [--overlay]|remove``.
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stock_vs_rewired as bench

from tests.nodes import node

NAME = "kprof"
PRESEED = Path(f"/run/pkgos-{NAME}.preseed")
ACCT = "/var/log/pkgos-kprof.pacct"
TOOLKIT = "/usr/lib/python3/dist-packages/openstack_pkg_tools"


def prepare(archive: Path) -> None:
    """Start the node and give it what the bench gives its rewired node."""
    with tempfile.TemporaryDirectory(prefix="pkgos-kprof.") as workdir:
        preseed = bench.generate_preseed(Path(workdir))
    preseed += bench.dbconfig_answers(preseed)
    PRESEED.touch(mode=0o600)
    PRESEED.write_text(preseed + "keystone keystone/purge-db boolean true\n")
    state = node.start(NAME)
    bench.prepare(state, archive, preseed, ["keystone"])


def overlay(state: node.NodeState, source: Path) -> None:
    """The toolkit ``source`` over the installed one (byte-compiled caches dropped)."""
    bench.run_in(state, ["rm", "-rf", TOOLKIT])
    node.copy_in(state, str(source), os.path.dirname(TOOLKIT))
    bench.run_in(state, ["find", TOOLKIT, "-name", "__pycache__", "-prune", "-exec", "rm", "-rf", "{}", "+"])


def comp_t(value: int) -> float:
    """A ``comp_t`` of the accounting file (13-bit mantissa, base-8 exponent) in seconds."""
    return ((value & 0x1FFF) << (3 * (value >> 13))) / 100.0


def processes(data: bytes, since: float) -> list[tuple[float, float, float, str, int, int]]:
    """(start, elapsed, cpu, name, pid, ppid) of each accounted process (acct v3, 64 bytes each)."""
    found = []
    for offset in range(0, len(data) - 63, 64):
        record = data[offset : offset + 64]
        pid, ppid, btime = struct.unpack_from("<III", record, 16)
        (etime,) = struct.unpack_from("<f", record, 28)
        utime, stime = struct.unpack_from("<HH", record, 32)
        name = record[48:64].split(b"\0")[0].decode(errors="replace")
        found.append((btime - since, etime / 100.0, comp_t(utime) + comp_t(stime), name, pid, ppid))
    return found


def uwsgi_cpu(state: node.NodeState) -> str:
    """CPU seconds of Keystone's running uwsgi processes (master and workers), from /proc."""
    code = (
        "import os\n"
        "total, count = 0, 0\n"
        "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "    stat = open(f'/proc/{pid}/stat').read()\n"
        "    cmdline = open(f'/proc/{pid}/cmdline', 'rb').read()\n"
        "    if b'keystone-api' in cmdline or '(uwsgi' in stat:\n"
        "        fields = stat[stat.rindex(')') + 2 :].split()\n"
        "        total += int(fields[11]) + int(fields[12]); count += 1\n"
        "print(f'{count} uwsgi processes, {total / os.sysconf(\"SC_CLK_TCK\"):.1f} CPU s')\n"
    )
    return bench.run_in(state, ["python3", "-c", code]).strip()


def run(toolkit: Path | None) -> None:
    """One timed install of keystone, then its purge."""
    state = node.get(NAME)
    if toolkit is not None:
        overlay(state, toolkit)
    bench.run_in(state, ["debconf-set-selections"], stdin=PRESEED.read_text())
    bench.run_in(state, ["rm", "-f", ACCT])
    bench.accounting(state, ACCT)
    shell = "exec apt-get install -y -q --no-install-recommends -o APT::Status-Fd=3 keystone 3>&1 2>&1"
    environment = {**bench.APT_ENV, "PKGOS_VERBOSE": "1"}
    process = subprocess.Popen(
        node.enter_argv(state, ["sh", "-c", shell], environment), stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    configuring: float | None = None
    wall = 0.0
    for raw in process.stdout:
        now = time.monotonic()
        line = raw.decode(errors="replace").rstrip("\n")
        if line.startswith("pmstatus:keystone:") and "Configuring" in line:
            configuring, wall = now, time.time()
        if configuring is not None:
            print(f"{now - configuring:7.2f} {line}", flush=True)
    print(f"apt-get exit {process.wait()}, load {Path('/proc/loadavg').read_text().split()[0]}")
    bench.accounting(state, None)
    records = processes(Path(state.root + ACCT).read_bytes(), wall)
    print("Keystone's uwsgi at the end: " + uwsgi_cpu(state))
    phase = [record for record in records if record[0] >= -1]
    print(f"CPU of the processes that ended: {sum(record[2] for record in phase):.1f} s")
    print("longest processes of the configure phase (start s, elapsed s, CPU s, name, pid, ppid):")
    for start, elapsed, cpu, name, pid, ppid in sorted(phase, key=lambda r: -r[1])[:16]:
        print(f"  {start:6.0f} {elapsed:6.2f} {cpu:6.2f} {name} {pid} {ppid}")
    purge = ["apt-get", "purge", "-y", "-q", "keystone"]
    bench.run_in(state, purge)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("action", choices=("prepare", "run", "remove"))
    parser.add_argument("--overlay", action="store_true", help="this tree's toolkit over the installed one")
    parser.add_argument("--toolkit", type=Path, help="this openstack_pkg_tools over the installed one")
    parser.add_argument("--archive", type=Path, default=Path(bench.ROOT) / "build" / "archive")
    args = parser.parse_args()
    if args.action == "prepare":
        prepare(args.archive.resolve())
    elif args.action == "run":
        run(args.toolkit or (Path(bench.ROOT) / "openstack_pkg_tools" if args.overlay else None))
    else:
        node.remove(NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
