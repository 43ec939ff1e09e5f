"""Debian's keystone, glance-common and glance-api, rewired, installed by apt-get in one node.

What the fault tests build on (see test_install_faults.py and
docs/operators.md, sections 5 and 6). On the host: ``make archive``, the
signed archive of Debian's packages rewired (``+pkgos`` versions) and the
toolkit's own packages built from this tree, and an all-in-one preseed
from ``pkgos preseed generate`` (its keystone, glance-common and
glance-api lines). In the node: MariaDB and RabbitMQ from Debian, the
archive as an APT source (``signed-by`` its key), then ``apt-get
install keystone`` and ``apt-get install glance-api`` with
``DEBIAN_FRONTEND=noninteractive``, nothing asked. The packages' own
systemd units serve Keystone and Glance (their postinsts start them), so
a test stops and starts them as an operator would.

glance-common's postinst runs the toolkit's database, db sync,
transport_url, [keystone_authtoken] and service user steps; glance-api's
registers Glance in Keystone's catalog; keystone's creates and migrates
Keystone's database and bootstraps it.

``check_node`` is what every case checks after its recovery (the
all-in-one checks for what this node has): every unit active, a token for
the preseed's administrator, Glance listing, storing and deleting an image
with it, Glance's service user getting a token, both databases migrated
to their last revision by the services' own checks, no password in
debconf and no question asked.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.nodes import node
from tests.nodes.state import NodeState
from tests.nodes.system import NodeError

ROOT = Path(__file__).resolve().parents[3]
PKGOS = [sys.executable, "-m", "openstack_pkg_tools"]
NODE = "ft"
ARCHIVE = "/srv/pkgos-archive"  # readable by apt's _apt user, unlike /root
PROBE = "/root/pkgos-probe.py"
NONINTERACTIVE = {"DEBIAN_FRONTEND": "noninteractive"}
# debconf's developer log on stderr: every command of the conversation (it holds answers).
DEBCONF_LOGGED = {**NONINTERACTIVE, "DEBCONF_DEBUG": "developer"}
APT = ["apt-get", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600"]


@dataclass(frozen=True)
class Service:
    """One OpenStack package of the node and the unit that serves it."""

    package: str
    unit: str
    port: int
    etc: str


KEYSTONE = Service("keystone", "keystone", 5000, "/etc/keystone")
GLANCE = Service("glance-api", "glance-api", 9292, "/etc/glance")
# The package whose postinst makes Glance's database, migrates it and makes its service user.
GLANCE_COMMON = "glance-common"
GLANCE_CONF = f"{GLANCE.etc}/glance-api.conf"
GLANCE_PACKAGES = (GLANCE.package, GLANCE_COMMON)
MARIADB_UNIT = "mariadb"
RABBITMQ_UNIT = "rabbitmq-server"
UNITS = (MARIADB_UNIT, RABBITMQ_UNIT, KEYSTONE.unit, GLANCE.unit)
# The RabbitMQ user the generated preseed gives every service.
RABBIT_USER = "openstack"
# The packages whose preseed lines the node gets.
PACKAGES = (KEYSTONE.package, GLANCE_COMMON, GLANCE.package)
# Each service's own check that its database is at the last revision (exit 0), as its user.
MIGRATED = {
    "keystone": ["runuser", "-u", "keystone", "--", "keystone-manage", "db_sync", "--check"],
    "glance": ["runuser", "-u", "glance", "--", "glance-manage", "--config-file", GLANCE_CONF, "db", "check"],
}
PRIORITIES = ("low", "medium", "high", "critical")
# debconf's developer log: "debconf (developer): <-- INPUT high q", "<-- FSET q seen true", "<-- RESET q".
CONVERSATION = re.compile(r"^debconf \(developer\): <-- (INPUT|FSET|RESET) (\S+) ?(.*)$")


@dataclass(frozen=True)
class Stack:
    """The node, its passwords (the site's store) and the state of its clean install."""

    node: NodeState
    passwords: dict[str, str]
    preseed: str  # Glance's lines of the generated preseed (glance-common's and glance-api's)
    baseline: dict[str, Any]

    def glance_password(self, kind: str) -> str:
        """The store's ``glance-db`` or ``glance-keystone`` password."""
        return self.passwords[f"glance-{kind}"]

    @property
    def admin_password(self) -> str:
        return self.passwords["keystone-admin"]


@dataclass(frozen=True)
class Logged:
    """A command's result without debconf's developer log, and that log's conversation lines."""

    returncode: int
    output: str  # stdout and stderr, debconf's log taken out (it holds the answers: never print it)
    # Never shown, in an assertion's message either: it holds the answers.
    conversation: tuple[str, ...] = field(repr=False)
    priority: str = field(
        default=""
    )  # the lowest priority it shows; empty: debconf's (dpkg-reconfigure shows them all)


def execute(
    state: NodeState, *argv: str, stdin: str = "", check: bool = True, timeout: float = 1200
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as root in the node, noninteractively; fail with its output unless ``check`` is off."""
    result = node.execute(
        state, list(argv), input=stdin, capture=True, environment=NONINTERACTIVE, timeout=timeout
    )
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr)[-6000:]
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode} in the node:\n{output}")
    return result


def logged(state: NodeState, *argv: str) -> Logged:
    """Run a package command (apt-get, dpkg, dpkg-reconfigure) in the node with debconf's developer log."""
    result = node.execute(state, list(argv), input="", capture=True, environment=DEBCONF_LOGGED, timeout=1800)
    run = split_conversation(result.returncode, result.stdout + result.stderr)
    return Logged(
        run.returncode, run.output, run.conversation, "low" if argv[0] == "dpkg-reconfigure" else ""
    )


def split_conversation(returncode: int, text: str) -> Logged:
    """The output without debconf's developer log, and that log's lines."""
    mine: list[str] = []
    conversation: list[str] = []
    for line in text.splitlines():
        (conversation if line.startswith("debconf (developer):") else mine).append(line)
    return Logged(returncode, "\n".join(mine), tuple(conversation))


def asked(run: Logged, preseed: str, priority: str) -> list[str]:
    """The questions an interactive run would have shown: an INPUT at ``priority`` or above, not seen.

    A question starts seen when the preseed answers it; FSET and RESET in
    the log change that (noninteractive never marks a question seen
    itself). The names only: the log holds the answers.
    """
    seen = {parts[1] for parts in (line.split(None, 3) for line in preseed.splitlines()) if len(parts) == 4}
    threshold = PRIORITIES.index(priority)
    shown = []
    for line in run.conversation:
        match = CONVERSATION.match(line)
        if match is None:
            continue
        command, first, second = match.groups()
        if command == "FSET" and second == "seen true":
            seen.add(first)
        elif command == "RESET" or (command == "FSET" and second == "seen false"):
            seen.discard(first)
        elif (
            command == "INPUT" and first in PRIORITIES and second not in seen
            and PRIORITIES.index(first) >= threshold
        ):  # fmt: skip
            shown.append(f"{second} ({first})")
    return shown


def inputs(run: Logged) -> int:
    """How many INPUT commands the run's debconf log holds (none: no log was captured)."""
    return sum(1 for line in run.conversation if " <-- INPUT " in line)


def probe(state: NodeState, request: dict[str, Any]) -> Any:
    """An answer of probe.py, run in the node (the request, secrets included, on its stdin)."""
    return json.loads(execute(state, "/usr/bin/python3", PROBE, stdin=json.dumps(request)).stdout)


def host(*argv: str, cwd: Path = ROOT) -> str:
    """Run ``argv`` on the host; its stdout, or a failure with its output."""
    result = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result.stdout


def archive() -> Path:
    """``make archive``'s signed archive: Debian's packages rewired, the toolkit's own."""
    host("make", "archive")
    repository = ROOT / "build" / "archive"
    listing = (repository / "Packages").read_text()
    for package in PACKAGES:
        version = re.search(rf"^Package: {package}\n(?:.+\n)*?Version: (\S+)", listing, re.MULTILINE)
        assert version and "+pkgos" in version.group(1), f"{package} is not rewired in {repository}"
    return repository


def preseed(workdir: Path) -> tuple[str, dict[str, str]]:
    """The keystone and glance lines of the all-in-one preseed of a one-machine site, and its passwords."""
    site = workdir / "site"
    site.mkdir()
    text = (ROOT / "preseed" / "demo-site.toml").read_text()
    (site / "site.toml").write_text(text.replace('type = "sqlite"', 'type = "mysql"\nhost = "localhost"'))
    host(
        *PKGOS,
        "preseed",
        "generate",
        str(site / "site.toml"),
        "--role",
        "all-in-one",
        "--output-dir",
        str(site),
    )
    answers = lines_of((site / "all-in-one.preseed").read_text(), PACKAGES)
    return answers, tomllib.loads((site / "secrets.toml").read_text())


def lines_of(text: str, packages: tuple[str, ...]) -> str:
    """The lines of a preseed that answer questions of ``packages`` (the first field)."""
    return "".join(f"{line}\n" for line in text.splitlines() if line.split(" ", 1)[0] in packages)


def serve(state: NodeState, service: Service) -> None:
    """Start ``service``'s unit; wait until it answers."""
    execute(state, "systemctl", "start", service.unit)
    wait_for_port(state, service.port)


def wait_for_port(state: NodeState, port: int, timeout: float = 300) -> None:
    """Wait until something answers HTTP on 127.0.0.1:``port`` in the node."""
    deadline = time.monotonic() + timeout
    script = (
        "import urllib.request, urllib.error\n"
        "try:\n"
        f"    urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=10).close()\n"
        "except urllib.error.HTTPError:\n"
        "    pass\n"
    )
    while execute(state, "/usr/bin/python3", "-c", script, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing answers on port {port} in the node after {timeout:.0f} s")
        time.sleep(1)


def stop(state: NodeState, unit: str) -> None:
    execute(state, "systemctl", "stop", unit)


def start(state: NodeState, unit: str) -> None:
    execute(state, "systemctl", "start", unit)


def install_node(workdir: Path) -> tuple[Stack, tuple[Logged, ...]]:
    """Start the node and install the stack in it: the stack with its clean install's snapshot, its runs."""
    repository = archive()
    answers, passwords = preseed(workdir)
    state = node.start(NODE)
    execute(state, "apt-get", "update", "-q")
    execute(state, *APT, "install", "mariadb-server", "rabbitmq-server")
    node.copy_in(state, str(repository), "/srv")
    execute(state, "mv", f"/srv/{repository.name}", ARCHIVE)
    node.copy_in(state, str(Path(__file__).with_name("probe.py")), "/root")
    execute(state, "mv", "/root/probe.py", PROBE)
    execute(
        state,
        "tee",
        "/etc/apt/sources.list.d/pkgos.list",
        stdin=f"deb [signed-by={ARCHIVE}/archive-key.pgp] file:{ARCHIVE} ./\n",
    )
    execute(state, "apt-get", "update", "-q")
    execute(state, "debconf-set-selections", stdin=answers)
    # Two runs, as an administrator would: glance-common does not depend on
    # keystone, and its service user needs Keystone serving.
    runs = []
    for service in (KEYSTONE, GLANCE):
        run = logged(state, *APT, "install", service.package)
        assert run.returncode == 0, run.output[-6000:]
        runs.append(run)
        wait_for_port(state, service.port)
    ensure_rabbit_account(state, passwords)
    stack = Stack(state, passwords, answers, {})
    return Stack(state, passwords, answers, snapshot(stack)), tuple(runs)


def ensure_rabbit_account(state: NodeState, passwords: dict[str, str], check: bool = True) -> Any:
    """The operator's step after the install: Glance's RabbitMQ account on the local broker."""
    return execute(
        state,
        "pkgos",
        "rabbit",
        "ensure",
        "--config",
        GLANCE_CONF,
        "--host",
        "127.0.0.1",
        "--user",
        RABBIT_USER,
        "--password-stdin",
        "--create-user",
        stdin=passwords["rabbitmq"] + "\n",
        check=check,
    )


def snapshot(stack: Stack) -> Any:
    """What an install leaves that matters: config files, databases, RabbitMQ users, Keystone's state."""
    request = {"action": "snapshot", "admin_password": stack.admin_password, "configs": [GLANCE.etc]}
    return probe(stack.node, request)


def remove() -> None:
    """Remove the node, if it exists."""
    try:
        node.remove(NODE)
    except NodeError as error:
        if "no node named" not in str(error):
            raise


# -- what every case checks after its recovery ------------------------------------------

DEBCONF_FILES = ("/var/cache/debconf/config.dat", "/var/cache/debconf/passwords.dat")


def assert_no_secret(stack: Stack, text: str, *more: str) -> None:
    """None of the store's passwords, nor ``more``, is in ``text`` (the names only are shown)."""
    leaked = [name for name, value in stack.passwords.items() if value in text]
    leaked += [f"a new password ({value[:3]}...)" for value in more if value in text]
    assert not leaked, f"secrets shown: {leaked}"


def assert_no_password_in_debconf(stack: Stack, *more: str) -> None:
    for path in DEBCONF_FILES:
        assert_no_secret(stack, execute(stack.node, "cat", path).stdout, *more)


def debconf_priority(state: NodeState) -> str:
    """debconf's priority in the node: the lowest priority of a question it shows."""
    answer = execute(state, "debconf-communicate", stdin="GET debconf/priority\n").stdout.split()
    return answer[1] if len(answer) == 2 and answer[1] in PRIORITIES else "high"


def check_node(
    stack: Stack, *runs: Logged, service_password: str = "", more_secrets: tuple[str, ...] = ()
) -> None:
    """The all-in-one checks for this node: it works, and the runs that led here asked nothing.

    Every unit of the stack active; a token for the preseed's administrator,
    with which Glance lists images, stores one (uploaded, read back) and
    deletes it; Glance's service user gets a token with ``service_password``
    (the store's by default); Keystone's and Glance's databases at their last
    revision by the services' own checks (``keystone-manage db_sync
    --check``, ``glance-manage db check``, as their users); no password in
    debconf; and in each of ``runs`` (a ``dpkg-reconfigure`` shows every
    priority) no question shown that the preseed had not answered.
    """
    states = execute(stack.node, "systemctl", "is-active", *UNITS, check=False).stdout.split()
    assert states == ["active"] * len(UNITS), dict(zip(UNITS, states, strict=False))
    request = {
        "action": "works",
        "admin_password": stack.admin_password,
        "user": "glance",
        "password": service_password or stack.glance_password("keystone"),
        "project": "service",
    }
    answer = probe(stack.node, request)
    assert answer == {
        "admin_token": True,
        "list": [200, 0],
        "list_without_token": 401,
        "image": {
            "create": 201,
            "upload": 204,
            "status": "active",
            "read_back": True,
            "delete": 204,
            "gone": 404,
        },
        "service_token": True,
    }, answer
    for service, argv in MIGRATED.items():
        result = execute(stack.node, *argv, check=False)
        assert result.returncode == 0, (
            f"{service}'s database is not migrated:\n{result.stdout}{result.stderr}"
        )
    assert_no_password_in_debconf(stack, *more_secrets)
    priority = debconf_priority(stack.node)
    for run in runs:
        assert inputs(run) > 0, "no debconf log captured"
        shown = asked(run, stack.preseed, run.priority or priority)
        assert not shown, f"asked: {shown}"
