"""Debian's stock keystone and glance-api against the rewired ones, each installed in a fresh node.

The same install twice, from the same generated preseed, each on a clean
Debian 12 node (tests/nodes) with equal servers: MariaDB and RabbitMQ
installed by apt-get in each node the same way (the RabbitMQ user of the
preseed added with rabbitmqctl), every dependency of the measured packages
installed beforehand, their .debs downloaded beforehand. Then one timed
``apt-get install keystone glance-api`` (glance-common comes with it):

- node ``bnstock``: Debian's archive only, so Debian's packages and their
  shell scripts;
- node ``bnrew``: the same, plus the signed archive of ``make archive``
  (``--archive``, default build/archive), whose ``+pkgos`` versions apt
  prefers: the rewired packages and the toolkit they depend on.

Measured in each node:

- **configure phase** of each package: from apt's ``Configuring PKG`` to
  ``Installed PKG`` status lines (``-o APT::Status-Fd``, dpkg's own
  half-configured and installed states), timestamped by this process as
  they arrive. The node has no apt-utils, as a minimal Debian has none, so
  apt does no preconfiguring: the package's ``config`` script runs inside
  its postinst (debconf's confmodule), and the configure phase holds every
  step the maintainer scripts take after unpacking;
- **Keystone requests**: request lines of Keystone's uwsgi log
  (``/var/log/keystone/keystone.log``, Debian's ``keystone-uwsgi.ini``;
  the private Keystone of a rewired keystone's first install writes its
  access lines there too), counted at each status line, so per package;
- **processes started**: BSD process accounting switched on inside the
  node (accounting is per PID namespace, so nothing of the host or other
  nodes is counted; one record per process, threads not included) plus the
  processes still running at the end that were not running before; a
  package's own processes are its postinst's process tree (the debconf
  frontend it re-executes into, and their children) by the parent PIDs of
  the records; daemons systemd starts are counted in the total only;
- **what was asked**: debconf's ``DEBCONF_DEBUG=developer`` log of the
  conversation, kept inside the node (it holds answers), with
  ``DEBIAN_FRONTEND=noninteractive``; a question a package shows with
  ``INPUT`` at or above debconf's priority while not marked seen is one an
  interactive install would have asked;
- **what failed**: apt's exit status, dpkg's errors (``pmerror``), and the
  lines of the install's output that say error or failed.

Nothing of Debian's scripts is changed; what stock asks or fails is
recorded, not fixed. Afterwards each node's Keystone is checked from the
host (a token for the preseed's admin, Glance's service and endpoints).

The last line is ``ratio=<stock seconds / rewired seconds>``, the configure
phases summed over the packages the archive holds rewired. Until the
archive holds a rewired keystone, the bench says so and runs its interim
mode: keystone stock in both nodes, the ratio over glance-api alone.

Run as root: ``make bench-rewire`` (builds the archive first) or
``.venv/bin/python bench/stock_vs_rewired.py --archive build/archive``.
Nodes are removed at the end (``--keep`` keeps them for inspection).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import re
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import ROOT, print_table

from demo import stock
from tests.nodes import node
from tests.nodes.state import NodeState
from tests.nodes.system import NodeError

MEASURED = ("keystone", "glance-common", "glance-api")
# What the operator asks apt for, in this order: in one apt-get run, apt
# configures glance-common (which does not depend on keystone) before
# keystone, and Debian's glance-common then fails to create its service user
# in a Keystone that is not there yet (measured: "Connection refused").
INSTALLED = ("keystone", "glance-api")
SERVERS = ("mariadb-server", "rabbitmq-server", "python3")
NODES = {"stock": "bnstock", "rewired": "bnrew"}
ARCHIVE_IN_NODE = "/srv/pkgos-archive"
WORK = "/root/pkgos-bench"
PACCT = "/var/log/pkgos-bench.pacct"
KEYSTONE_LOG = "/var/log/keystone/keystone.log"
METHOD = "(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)"
# A request line of uwsgi, or (common log format) of the private Keystone a
# rewired keystone's first install makes its project and roles through.
REQUEST = re.compile(rf"\] {METHOD} \S+ => generated |\] \"{METHOD} \S+ HTTP/1\.[01]\" \d{{3}} ")
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}
SITE = """\
[site]
region = "regionOne"
[database]
host = "localhost"
type = "mysql"
admin_user = "root"
[rabbitmq]
host = "127.0.0.1"
user = "openstack"
[keystone]
address = "127.0.0.1"
proto = "http"
admin_user = "admin"
admin_project = "admin"
[controller]
address = "127.0.0.1"
proto = "http"
[network]
provider_interface = "eth1"
[passwords]
store = "secrets.toml"
generate = true
"""


@dataclasses.dataclass
class Phase:
    """One package's configure phase, as apt's status lines showed it."""

    started: float | None = None
    ended: float | None = None
    requests_before: int = 0
    requests_after: int = 0
    failed: str = ""

    @property
    def seconds(self) -> float:
        """Length of the phase (0 when it never started)."""
        if self.started is None:
            return 0.0
        return (self.ended if self.ended is not None else self.started) - self.started


@dataclasses.dataclass
class Outcome:
    """What one node's install measured."""

    label: str
    versions: dict[str, str]
    phases: dict[str, Phase]
    install_seconds: float
    loads: list[str]
    exit_code: int
    requests: int
    processes: int
    package_processes: dict[str, int]
    commands: dict[str, int]
    asked: list[str]
    asked_lower: list[str]
    troubles: list[str]
    checks: dict[str, str]


class BenchError(Exception):
    """A step of the bench that failed before anything could be measured."""


# --- the archive and the preseed -------------------------------------------


def rewired_in(archive: Path) -> dict[str, str]:
    """Every package the archive's index lists in a rewired (``pkgos``) version, with that version."""
    for name in ("Packages", "InRelease", "archive-key.pgp"):
        if not (archive / name).is_file():
            raise BenchError(f"{archive} has no {name}: build the archive first (make archive)")
    found: dict[str, str] = {}
    for stanza in (archive / "Packages").read_text().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line.startswith(" ")
        )
        if "pkgos" in fields.get("Version", "") and fields.get("Package") in MEASURED:
            found[fields["Package"]] = fields["Version"]
    return found


def generate_preseed(workdir: Path) -> str:
    """The keystone, glance-common and glance-api lines of a controller preseed generated by pkgos."""
    (workdir / "site.toml").write_text(SITE)
    subprocess.run(
        [sys.executable, "-m", "openstack_pkg_tools", "preseed", "generate", str(workdir / "site.toml"),
         "--output-dir", str(workdir / "preseed"), "--role", "controller"],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    lines = (workdir / "preseed" / "controller.preseed").read_text().splitlines()
    return "".join(f"{line}\n" for line in lines if line.split(" ", 1)[0] in MEASURED)


def dbconfig_answers(preseed: str) -> str:
    """Debian's dbconfig-common answers for the same databases: MariaDB through its socket, as root.

    Debian's keystone and glance-common take their database from
    dbconfig-common's questions (``keystone/database-type``, ...), which the
    generated preseed does not answer: unanswered, dbconfig-common makes an
    SQLite database under noninteractive, and Debian's Keystone then fails
    under uwsgi's threads (measured: "SQLite objects created in a thread can
    only be used in that same thread", the connection dropped). Both nodes
    get these lines, so both installs use the same MariaDB; the rewired
    packages do not read them.
    """
    lines = []
    for owner, prefix, name in (("keystone", "keystone", "keystone"), ("glance-common", "glance", "glance")):
        password = preseed_value(preseed, f"{prefix}/db-password")
        lines += [
            f"{owner} {owner}/dbconfig-install boolean true",
            f"{owner} {owner}/database-type select mysql",
            f"{owner} {owner}/mysql/method select Unix socket",
            f"{owner} {owner}/mysql/admin-user string root",
            f"{owner} {owner}/db/dbname string {name}",
            f"{owner} {owner}/db/app-user string {name}@localhost",
            f"{owner} {owner}/mysql/app-pass password {password}",
            f"{owner} {owner}/app-password-confirm password {password}",
        ]
    return "".join(f"{line}\n" for line in lines)


def check_candidates(state: NodeState, rewired: Sequence[str]) -> None:
    """Refuse to measure when apt would not install the rewired version of each of ``rewired``.

    An archive rewired from an older Debian version than the node's
    (a stable update since ``make archive``) loses to Debian's own.
    """
    for package in rewired:
        policy = run_in(state, ["apt-cache", "policy", package])
        candidate = re.search(r"Candidate: (\S+)", policy)
        if candidate is None or "pkgos" not in candidate.group(1):
            version = candidate.group(1) if candidate else "(none)"
            raise BenchError(
                f"apt in {state.name} would install {package} {version}, "
                "not the archive's rewired version: Debian has a newer one; rebuild the archive "
                f"(apt-get update, remove .cache/debs/{package}_*.deb, make archive)"
            )


def preseed_value(preseed: str, question: str) -> str:
    """The answer ``preseed`` gives ``question``."""
    for line in preseed.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[1] == question:
            return parts[3]
    raise BenchError(f"the generated preseed does not answer {question}")


# --- inside a node -----------------------------------------------------------


def run_in(state: NodeState, argv: list[str], *, stdin: str | None = None, what: str = "") -> str:
    """Run ``argv`` in the node; its output, or BenchError with the end of its output."""
    result = node.execute(state, argv, input=stdin or "", capture=True, environment=APT_ENV)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-8:]
        raise BenchError(
            f"{what or ' '.join(argv)} failed in {state.name} (exit {result.returncode}): " + " | ".join(tail)
        )
    return result.stdout


def apt_install(state: NodeState, packages: Iterable[str], *extra: str) -> None:
    """apt-get install ``packages`` without recommends, untimed (preparation)."""
    run_in(state, ["apt-get", "install", "-y", "-q", "--no-install-recommends", *extra, *packages])


def prepare(state: NodeState, archive: Path | None, preseed: str, rewired: Sequence[str]) -> None:
    """Equal servers, every dependency, the measured .debs downloaded, the preseed loaded."""
    if archive is not None:
        node.copy_in(state, str(archive), "/srv")
        run_in(state, ["mv", f"/srv/{archive.name}", ARCHIVE_IN_NODE])
        line = f"deb [signed-by={ARCHIVE_IN_NODE}/archive-key.pgp] file:{ARCHIVE_IN_NODE} ./\n"
        run_in(state, ["tee", "/etc/apt/sources.list.d/pkgos.list"], stdin=line)
    run_in(state, ["apt-get", "update", "-q"])
    apt_install(state, SERVERS)
    for unit in ("mariadb", "rabbitmq-server"):
        run_in(state, ["systemctl", "is-active", "--quiet", unit], what=f"{unit} running")
    # The preseed's RabbitMQ user, as an operator adds it (the password on stdin).
    password = preseed_value(preseed, "glance/rabbit-password")
    run_in(state, ["rabbitmqctl", "add_user", "openstack"], stdin=f"{password}\n")
    run_in(state, ["rabbitmqctl", "set_permissions", "openstack", ".*", ".*", ".*"])
    simulated = run_in(state, ["apt-get", "install", "-s", "--no-install-recommends", *INSTALLED])
    dependencies = sorted(
        {match.group(1) for match in re.finditer(r"^Inst (\S+)", simulated, re.MULTILINE)} - set(MEASURED)
    )
    apt_install(state, dependencies)
    check_candidates(state, rewired)
    apt_install(state, INSTALLED, "--download-only")
    run_in(state, ["debconf-set-selections"], stdin=preseed)
    run_in(state, ["mkdir", "-p", WORK])


def live_pids(state: NodeState) -> set[int]:
    """The PIDs of the node's processes now (its PID namespace's numbers)."""
    return {int(name) for name in run_in(state, ["ls", "/proc"]).split() if name.isdigit()}


def accounting(state: NodeState, path: str | None) -> int:
    """Switch the node's process accounting on into ``path``, or off (None); the switching process's PID.

    Switched on, the file records that process's own exit: the caller leaves it out.
    """
    code = (
        "import ctypes, os, sys\n"
        "path = sys.argv[1].encode() if len(sys.argv) > 1 else None\n"
        "if path: open(path, 'ab').close()\n"
        "print(os.getpid())\n"
        "sys.exit(ctypes.CDLL(None, use_errno=True).acct(path) != 0)\n"
    )
    return int(run_in(state, ["python3", "-c", code, *([path] if path else [])], what="acct()"))


@dataclasses.dataclass(frozen=True)
class Record:
    """One process from the accounting file: its PID, parent and command name."""

    pid: int
    ppid: int
    comm: str


def read_accounting(data: bytes) -> list[Record]:
    """The records of a version 3 accounting file (64 bytes each, ``struct acct_v3``)."""
    records = []
    for offset in range(0, len(data) - 63, 64):
        record = data[offset : offset + 64]
        if record[1] != 3:
            raise BenchError(f"process accounting record of version {record[1]}, not 3")
        pid, ppid = struct.unpack_from("<II", record, 16)
        records.append(Record(pid, ppid, record[48:64].split(b"\0")[0].decode(errors="replace")))
    return records


def running_records(state: NodeState, pids: Iterable[int]) -> list[Record]:
    """Records for processes still running (their PID, parent and name from /proc)."""
    records = []
    for pid in sorted(pids):
        stat = node.execute(state, ["cat", f"/proc/{pid}/stat"], capture=True).stdout
        if ")" in stat:
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            records.append(Record(pid, int(stat[stat.rindex(")") + 2 :].split()[1]), comm))
    return records


def tree_counts(records: Sequence[Record]) -> dict[str, int]:
    """Processes in each measured package's postinst tree.

    dpkg runs PKG.postinst; sourcing debconf's confmodule re-executes it as
    the frontend (whose record keeps the last name, ``frontend``), which runs
    the postinst again as its child: the tree's root is that frontend.
    """
    children: dict[int, list[int]] = {}
    by_pid = {record.pid: record for record in records}
    for record in records:
        children.setdefault(record.ppid, []).append(record.pid)
    counts = {}
    for package in MEASURED:
        name = f"{package}.postinst"[:15]
        roots = set()
        for record in records:
            if record.comm == name:
                parent = by_pid.get(record.ppid)
                roots.add(parent.pid if parent is not None and parent.comm == "frontend" else record.pid)
        seen: set[int] = set()
        stack = list(roots)
        while stack:
            pid = stack.pop()
            if pid not in seen:
                seen.add(pid)
                stack.extend(children.get(pid, []))
        counts[package] = len(seen)
    return counts


def count_requests(state: NodeState) -> int:
    """Request lines in the node's Keystone uwsgi log (read from the host, no process in the node)."""
    path = Path(state.root + KEYSTONE_LOG)
    try:
        return sum(1 for line in path.read_text(errors="replace").splitlines() if REQUEST.search(line))
    except FileNotFoundError:
        return 0


def timed_install(
    state: NodeState, package_asked: str, phases: dict[str, Phase]
) -> tuple[float, int, list[str]]:
    """One measured apt-get install of ``package_asked``: its seconds, exit code and dpkg's errors.

    Fills ``phases`` for the measured packages it configures.
    """
    shell = (
        f"exec apt-get install -y -q --no-install-recommends -o APT::Status-Fd=3 {package_asked} "
        f"3>&1 >{WORK}/apt-{package_asked}.out 2>{WORK}/apt-{package_asked}.err"
    )
    environment = {**APT_ENV, "DEBCONF_DEBUG": "developer"}
    errors = []
    current: str | None = None
    started = time.monotonic()
    process = subprocess.Popen(
        node.enter_argv(state, ["sh", "-c", shell], environment), stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    for raw in process.stdout:
        now = time.monotonic()
        kind, _, rest = raw.decode(errors="replace").rstrip("\n").partition(":")
        package, _, rest = rest.partition(":")
        message = rest.partition(":")[2]
        if kind == "pmerror":
            errors.append(f"{package}: {message}")
            if package in phases:
                phases[package].failed = message
        if kind != "pmstatus":
            continue
        if current is not None and current != package and phases[current].ended is None:
            phases[current].ended = now  # a failed configure: the next package's line ends it
            phases[current].requests_after = count_requests(state)
            current = None
        if package not in phases:
            continue
        if message.startswith("Configuring "):
            phases[package].started = now
            phases[package].requests_before = count_requests(state)
            current = package
        elif message.startswith("Installed ") and phases[package].started is not None:
            phases[package].ended = now
            phases[package].requests_after = count_requests(state)
            current = None
    exit_code = process.wait()
    seconds = time.monotonic() - started
    if current is not None and phases[current].ended is None:
        phases[current].ended = started + seconds
        phases[current].requests_after = count_requests(state)
    return seconds, exit_code, errors


def install_logs(state: NodeState) -> str:
    """Everything the measured installs wrote, debconf's debug log too (it holds answers: never print it)."""
    return "".join(
        Path(state.root + f"{WORK}/apt-{package}.{kind}").read_text(errors="replace")
        for package in INSTALLED
        for kind in ("out", "err")
    )


def questions(state: NodeState, preseed: str) -> tuple[list[str], list[str]]:
    """Questions an interactive install would have shown: at debconf's priority, and below it.

    From debconf's developer log of the measured installs (demo/stock.py's ``asked``).
    """
    config = Path(state.root + "/var/cache/debconf/config.dat").read_text(errors="replace")
    return stock.asked(install_logs(state), preseed, stock.debconf_priority(config))


def passwords(preseed: str) -> set[str]:
    """Every password the preseed holds."""
    return {
        parts[3]
        for parts in (line.split(None, 3) for line in preseed.splitlines())
        if parts[2:3] == ["password"]
    }


def troubles(state: NodeState, secrets: set[str]) -> list[str]:
    """Distinct lines of the install's output that say something went wrong, passwords masked.

    debconf's debug lines are left out: they hold the answers, and stay in the node.
    """
    return stock.troubles(install_logs(state), secrets)


def versions(state: NodeState) -> dict[str, str]:
    """Installed version of each measured package (empty when not installed)."""
    versions = {}
    for package in MEASURED:
        result = node.execute(
            state, ["dpkg-query", "-W", "-f", "${Version} ${db:Status-Abbrev}", package], capture=True
        )
        version, _, status = result.stdout.partition(" ")
        versions[package] = (
            version if status.startswith("ii") else f"{version} ({status.strip() or 'absent'})"
        )
    return versions


def keystone_checks(state: NodeState, password: str) -> dict[str, str]:
    """From the host: a token for the preseed's admin, and the catalog's identity and image entries."""
    base = f"http://{state.address}:5000/v3"
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": password}},
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    checks: dict[str, str] = {}
    try:
        request = urllib.request.Request(
            f"{base}/auth/tokens", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            token = response.headers["X-Subject-Token"]
            catalog = json.load(response)["token"].get("catalog", [])
        checks["admin token"] = "issued"
        for kind in ("identity", "image"):
            entries = [entry for entry in catalog if entry["type"] == kind]
            interfaces = sorted(endpoint["interface"] for entry in entries for endpoint in entry["endpoints"])
            checks[f"{kind} in catalog"] = ", ".join(interfaces) or "missing"
        users = urllib.request.Request(f"{base}/users?name=glance", headers={"X-Auth-Token": token})
        with urllib.request.urlopen(users, timeout=30) as response:
            checks["glance service user"] = "present" if json.load(response)["users"] else "missing"
    except (OSError, ValueError, KeyError) as error:
        checks.setdefault("admin token", f"failed: {error}")
    return checks


def measure(
    label: str, name: str, archive: Path | None, preseed: str, rewired: Sequence[str], *, keep: bool
) -> Outcome:
    """One fresh node: prepare it, install the measured packages, gather everything, remove it."""
    print(
        f"{label}: starting node {name}, installing MariaDB, RabbitMQ and every dependency (untimed)",
        flush=True,
    )
    with contextlib.suppress(NodeError):
        node.get(name)
        raise BenchError(f"node {name} exists already: not a clean system (python3 -m tests.nodes rm {name})")
    try:
        state = node.start(name)
        prepare(state, archive, preseed, rewired)
        before = live_pids(state)
        switcher = accounting(state, PACCT)
        phases = {package: Phase() for package in MEASURED}
        seconds, exit_code, errors, loads = 0.0, 0, [], []
        for package in INSTALLED:
            print(f"{label}: apt-get install {package} (timed)", flush=True)
            # The machine is shared: its load when each timed install starts goes with the figures.
            loads.append(Path("/proc/loadavg").read_text().split()[0])
            step_seconds, step_code, step_errors = timed_install(state, package, phases)
            seconds += step_seconds
            exit_code = exit_code or step_code
            errors += step_errors
        accounting(state, None)
        requests = count_requests(state)
        after = live_pids(state)
        exited = [
            record
            for record in read_accounting(Path(state.root + PACCT).read_bytes())
            if record.pid not in before and record.pid != switcher
        ]
        records = exited + running_records(state, after - before)
        commands: dict[str, int] = {}
        for record in records:
            commands[record.comm] = commands.get(record.comm, 0) + 1
        asked, lower = questions(state, preseed)
        checks = keystone_checks(state, preseed_value(preseed, "keystone/admin-password"))
        return Outcome(
            label=label,
            versions=versions(state),
            phases=phases,
            install_seconds=seconds,
            loads=loads,
            exit_code=exit_code,
            requests=requests,
            processes=len(records),
            package_processes=tree_counts(records),
            commands=dict(sorted(commands.items(), key=lambda item: -item[1])[:8]),
            asked=asked,
            asked_lower=lower,
            troubles=errors + troubles(state, passwords(preseed)),
            checks=checks,
        )
    finally:
        if not keep:
            node.remove(name)


# --- report ------------------------------------------------------------------


def report(stock: Outcome, rewired: Outcome, compared: Sequence[str]) -> float:
    """The tables and findings; returns stock seconds / rewired seconds over ``compared``."""
    outcomes = (stock, rewired)
    print()
    print_table(
        ["package", *(f"{o.label} version" for o in outcomes)],
        [[package, *(o.versions[package] for o in outcomes)] for package in MEASURED],
    )
    print()
    rows = []
    for package in MEASURED:
        row = [package]
        for outcome in outcomes:
            phase = outcome.phases[package]
            row += [
                f"{phase.seconds:.1f}" + (" FAILED" if phase.failed else ""),
                str(phase.requests_after - phase.requests_before),
                str(outcome.package_processes[package]),
            ]
        rows.append(row)
    rows.append(
        [
            "both apt-get installs",
            *(
                cell
                for o in outcomes
                for cell in (
                    f"{o.install_seconds:.1f} (exit {o.exit_code})",
                    str(o.requests),
                    str(o.processes),
                )
            ),
        ]
    )
    header = ["configure phase"]
    for outcome in outcomes:
        header += [f"{outcome.label} s", f"{outcome.label} ks req", f"{outcome.label} procs"]
    print_table(header, rows)
    print(
        "(procs of a package: its postinst's process tree; "
        "of the whole install: every process started in the node)"
    )
    for outcome in outcomes:
        print()
        print(
            f"{outcome.label}: host load average (1 min) as each timed install began: "
            + ", ".join(outcome.loads)
        )
        print(
            f"{outcome.label}: most started commands: "
            + ", ".join(f"{c} x{n}" for c, n in outcome.commands.items())
        )
        print(
            f"{outcome.label}: asked (would be shown at debconf's priority): "
            + (", ".join(outcome.asked) or "nothing")
        )
        print(f"{outcome.label}: unseen below the priority: " + (", ".join(outcome.asked_lower) or "nothing"))
        print(f"{outcome.label}: failed: " + ("; ".join(outcome.troubles[:12]) or "nothing"))
        print(f"{outcome.label}: after install: " + "; ".join(f"{k}: {v}" for k, v in outcome.checks.items()))
    stock_seconds = sum(stock.phases[package].seconds for package in compared)
    rewired_seconds = sum(rewired.phases[package].seconds for package in compared)
    print()
    print(
        f"configure phases compared ({' + '.join(compared)}): "
        f"stock {stock_seconds:.1f} s, rewired {rewired_seconds:.1f} s"
    )
    return stock_seconds / rewired_seconds if rewired_seconds else float("inf")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--archive", type=Path, default=ROOT / "build" / "archive", help="the signed archive of make archive"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep both nodes for inspection (remove them with python3 -m tests.nodes rm)",
    )
    parser.add_argument(
        "--generated-only",
        action="store_true",
        help="the generated preseed alone, without Debian's dbconfig-common answers (stock then uses SQLite)",
    )
    args = parser.parse_args(argv)
    archive = args.archive.resolve()
    try:
        rewired = rewired_in(archive)
        if "glance-api" not in rewired:
            raise BenchError(f"{archive} holds no rewired glance-api: run make archive")
        compared = [package for package in MEASURED if package in rewired]
        if "keystone" not in rewired:
            print(
                "INTERIM MODE: rewired keystone is missing from the archive "
                f"({archive}/Packages has no keystone +pkgos version): keystone is Debian's stock package "
                "in both nodes and only " + ", ".join(compared) + " is compared.",
                flush=True,
            )
        print("rewired in the archive: " + ", ".join(f"{p} {v}" for p, v in rewired.items()), flush=True)
        with tempfile.TemporaryDirectory(prefix="pkgos-bench-rewire.") as workdir:
            preseed = generate_preseed(Path(workdir))
        if not args.generated_only:
            preseed += dbconfig_answers(preseed)
        stock = measure("stock", NODES["stock"], None, preseed, [], keep=args.keep)
        ours = measure("rewired", NODES["rewired"], archive, preseed, compared, keep=args.keep)
        ratio = report(stock, ours, compared)
    except (BenchError, NodeError, subprocess.CalledProcessError) as error:
        print(f"stock_vs_rewired: error: {error}", file=sys.stderr)
        return 2
    if "keystone" not in rewired:
        print(
            "INTERIM MODE: keystone stock in both nodes (rewired keystone missing from the archive); "
            "ratio over " + " + ".join(compared) + " only"
        )
    print(f"ratio={ratio:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
