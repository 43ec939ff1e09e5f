"""Faults during a whole install, and password rotation, in one node (make check-faults, root).

Debian's keystone, glance-common and glance-api, rewired, are installed
in a node from ``make archive``'s signed archive and a generated preseed
(stack.py); the state of that clean install is the baseline. Each case
starts Glance over (glance-api and glance-common purged with Glance's
database, its Keystone user and service deleted, the preseed loaded
again), breaks something during ``apt-get install glance-api``, checks
that the failure is one error line (``glance-common: error: ...``, the
prefix of a maintainer script's lines) with no secret and nothing
half-written, repairs the fault, runs ``dpkg --configure -a`` (or
``dpkg-reconfigure``), and compares the node with the baseline: the same
config file bytes, the same databases, users and grants, the same
Keystone catalog, users and role assignments. Then ``check_node``, the
same checks after every case: every unit active, the administrator's
token, Glance storing an image with it, the service user's token, both
databases migrated, no password left in debconf, no question asked. See
docs/operators.md, sections 5 and 6.
"""

from __future__ import annotations

import difflib
import json
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.nodes import node
from tests.nodes.fixtures import require_nodes

from .stack import (
    APT,
    DEBCONF_FILES,
    DEBCONF_LOGGED,
    GLANCE,
    GLANCE_COMMON,
    GLANCE_CONF,
    GLANCE_PACKAGES,
    KEYSTONE,
    MARIADB_UNIT,
    RABBIT_USER,
    RABBITMQ_UNIT,
    Logged,
    Stack,
    assert_no_secret,
    check_node,
    ensure_rabbit_account,
    execute,
    install_node,
    lines_of,
    logged,
    probe,
    remove,
    serve,
    snapshot,
    split_conversation,
    start,
    stop,
    wait_for_port,
)

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def installed() -> Iterator[tuple[Stack, tuple[Logged, ...]]]:
    require_nodes()
    workdir = Path(tempfile.mkdtemp(prefix="pkgostest-faults."))
    try:
        yield install_node(workdir)
    finally:
        remove()
        shutil.rmtree(workdir)


@pytest.fixture
def stack(installed: tuple[Stack, tuple[Logged, ...]]) -> Stack:
    return installed[0]


# -- what the fault cases check ---------------------------------------------------------


def assert_failed_cleanly(stack: Stack, result: Logged, *named: str) -> None:
    """One error line naming what failed and the fix; no secret shown; every config file whole."""
    output = result.output
    assert result.returncode != 0, output
    # Maintainer scripts prefix their lines with the package's name (pkgos: outside them).
    errors = [line for line in output.splitlines() if ": error:" in line and "dpkg: error" not in line]
    assert len(errors) == 1, output[-4000:]
    assert errors[0].startswith(f"{GLANCE_COMMON}: error: "), errors[0]
    for word in (*named, "Hint:", "then run: dpkg --configure -a"):
        assert word in errors[0], errors[0]
    assert_no_secret(stack, output)
    assert_whole(stack)
    # The answers wait for dpkg --configure -a: only in debconf's root-only password file.
    assert_no_secret(stack, execute(stack.node, "cat", DEBCONF_FILES[0]).stdout)
    assert status(stack, GLANCE_COMMON) == "iF"


def status(stack: Stack, package: str) -> str:
    """dpkg's abbreviated status of ``package`` in the node (ii: installed, iF: half-configured)."""
    return execute(stack.node, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}", package).stdout.strip()


def assert_whole(stack: Stack) -> None:
    """Every config file reads with oslo.config's parser, and no stray file (a temporary one) is there.

    dpkg's own ``.dpkg-new`` of a conffile (glance-api's uwsgi file) stays
    until its package, unpacked, is configured: not the toolkit's.
    """
    assert probe(stack.node, {"action": "parse", "configs": [GLANCE.etc]}) == {"problems": {}}
    files = {path.removesuffix(".dpkg-new") for path in snapshot_files(stack)}
    assert files <= set(stack.baseline["files"]), files - set(stack.baseline["files"])


def snapshot_files(stack: Stack) -> Any:
    listing = execute(stack.node, "find", GLANCE.etc, "-type", "f").stdout
    return sorted(listing.split())


def start_over(stack: Stack) -> None:
    """Glance as if it had never been installed: purged with its database, gone from Keystone.

    The purge stops glance-api (debhelper's prerm).
    """
    execute(stack.node, "debconf-set-selections", stdin=f"{GLANCE_COMMON} glance/purge-db boolean true\n")
    execute(stack.node, *APT, "purge", *GLANCE_PACKAGES)
    request = {
        "action": "forget",
        "admin_password": stack.admin_password,
        "user": "glance",
        "service": "glance",
    }
    probe(stack.node, request)
    # What Keystone's uwsgi said of its workers (a reset connection above is retried).
    deaths = execute(stack.node, "grep", "-c", "DAMN", "/var/log/keystone/keystone.log", check=False).stdout
    print("keystone workers that died so far:", deaths.strip())
    execute(stack.node, "debconf-set-selections", stdin=lines_of(stack.preseed, GLANCE_PACKAGES))


def install(stack: Stack) -> Logged:
    return logged(stack.node, *APT, "install", GLANCE.package)


def converge(stack: Stack, failed: Logged, *command: str) -> None:
    """dpkg --configure -a (or ``command``) finishes the install: the clean install's node, working."""
    run = logged(stack.node, *(command or ("dpkg", "--configure", "-a")))
    assert run.returncode == 0, run.output[-6000:]
    assert_no_secret(stack, run.output)
    for package in GLANCE_PACKAGES:
        assert status(stack, package) == "ii", package
    restart_glance(stack)
    assert_same_as_clean_install(stack)
    check_node(stack, failed, run)


def restart_glance(stack: Stack) -> None:
    execute(stack.node, "systemctl", "restart", GLANCE.unit)
    wait_for_port(stack.node, GLANCE.port)


def assert_same_as_clean_install(stack: Stack) -> None:
    now = snapshot(stack)
    for part in stack.baseline:
        assert now[part] == stack.baseline[part], f"{part} differs from the clean install's"


# -- the cases -----------------------------------------------------------------------


def test_the_clean_install_works_and_keeps_no_password_in_debconf(
    installed: tuple[Stack, tuple[Logged, ...]],
) -> None:
    stack, runs = installed
    check_node(stack, *runs)
    assert stack.baseline["keystone"]["users"] == ["admin", "glance"]
    assert f"{RABBIT_USER}" in stack.baseline["rabbitmq"]
    assert {"keystone", "glance"} <= set(stack.baseline["mariadb"]["databases"])
    # The passwords are in glance-api.conf alone (0640 root:glance), not in the paste file or uwsgi.ini.
    for path in stack.baseline["files"]:
        if path != GLANCE_CONF:
            assert_no_secret(stack, execute(stack.node, "cat", path).stdout)


def test_mariadb_down_during_postinst_then_dpkg_configure_converges(stack: Stack) -> None:
    start_over(stack)
    stop(stack.node, MARIADB_UNIT)
    try:
        result = install(stack)
    finally:
        start(stack.node, MARIADB_UNIT)
    assert_failed_cleanly(stack, result, "database 'glance'", "start the database server")
    converge(stack, result)


def test_keystone_down_during_postinst_then_dpkg_configure_converges(stack: Stack) -> None:
    start_over(stack)
    stop(stack.node, KEYSTONE.unit)
    try:
        result = install(stack)
    finally:
        serve(stack.node, KEYSTONE)
    assert_failed_cleanly(stack, result, "Keystone", "start Keystone")
    converge(stack, result)


def test_rabbitmq_down_the_url_is_written_and_the_account_waits_for_it(stack: Stack) -> None:
    execute(stack.node, "rabbitmqctl", "delete_user", RABBIT_USER, check=False)
    start_over(stack)
    stop(stack.node, RABBITMQ_UNIT)
    try:
        # transport_url is written without RabbitMQ: the install succeeds.
        installed = install(stack)
        account = ensure_rabbit_account(stack.node, stack.passwords, check=False)
    finally:
        start(stack.node, RABBITMQ_UNIT)
    assert installed.returncode == 0, installed.output[-6000:]
    assert_no_secret(stack, installed.output)
    output = account.stdout + account.stderr
    assert account.returncode == 2, output
    # One error line (rabbitmqctl's own diagnostics follow it, indented), and the fix.
    errors = [line for line in output.splitlines() if line.startswith("pkgos: error:")]
    assert len(errors) == 1 and "rabbitmqctl" in errors[0], output
    assert output.rstrip().endswith("Hint: start rabbitmq-server, or run as root."), output
    assert_no_secret(stack, output)
    ensure_rabbit_account(stack.node, stack.passwords)
    restart_glance(stack)
    assert_same_as_clean_install(stack)
    check_node(stack, installed)


@pytest.mark.parametrize("whole_script", [False, True], ids=["worker", "script"])
def test_kill_9_of_postinst_during_db_sync_then_a_re_run_converges(stack: Stack, whole_script: bool) -> None:
    """SIGKILL during glance-common's db sync: of the toolkit's worker, or of the postinst's own shell too.

    When the shell itself dies of a signal, debconf's frontend, which ran
    it, exits 0 (it reports ``$? >> 8``): dpkg believes the postinst
    succeeded. The answers are still there, so dpkg-reconfigure finishes.
    """
    start_over(stack)
    argv = node.enter_argv(stack.node, [*APT, "install", GLANCE.package], DEBCONF_LOGGED)
    apt = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        request = {
            "action": "kill_during",
            "marker": "glance-manage",
            "script": f"{GLANCE_COMMON}.postinst",
            # Once the first table is made: MariaDB keeps it, and the migration's record is not made yet.
            "after_table": "glance",
            "whole_script": whole_script,
        }
        killed = probe(stack.node, request)
    finally:
        text, _ = apt.communicate(timeout=1800)
    result = split_conversation(apt.returncode, text)
    assert killed.get("killed") and "error" not in killed, killed
    assert any("glance-manage" in line for line in killed["killed"]), killed
    assert any("pkgos maintscript" in line for line in killed["killed"]), killed
    print(
        f"killed with {killed.get('tables_before_kill')} of glance's tables made:",
        *killed["killed"],
        sep="\n  ",
    )
    assert_no_secret(stack, result.output)
    assert_whole(stack)
    # The database was made, and the migration killed half-way: some tables, no revision recorded.
    request = {"action": "snapshot", "admin_password": stack.admin_password, "configs": []}
    mariadb = probe(stack.node, request)["mariadb"]
    made = set(mariadb["tables"].get("glance", [])) - {"alembic_version"}
    assert killed["tables_before_kill"] > 0 and made, (killed, mariadb)
    assert not mariadb["versions"].get("glance"), mariadb
    if whole_script:
        assert result.returncode == 0 and status(stack, GLANCE_COMMON) == "ii", result.output[-6000:]
        converge(stack, result, "dpkg-reconfigure", GLANCE_COMMON)
    else:
        assert result.returncode != 0 and status(stack, GLANCE_COMMON) == "iF", result.output[-6000:]
        converge(stack, result)


def test_password_rotation_with_dpkg_reconfigure(stack: Stack) -> None:
    old_db, old_keystone = stack.glance_password("db"), stack.glance_password("keystone")
    new_db, new_keystone = f"Rotated{secrets.token_hex(12)}", f"Rotated{secrets.token_hex(12)}"
    before = execute(stack.node, "cat", GLANCE_CONF).stdout
    preseed = "".join(
        f"{GLANCE_COMMON} glance/{name} {kind} {value}\n"
        for name, kind, value in (
            ("configure_db", "boolean", "true"),
            ("db-password", "password", new_db),
            ("configure_ksat", "boolean", "true"),
            ("ksat-service-password", "password", new_keystone),
            ("ksat-admin-password", "password", stack.admin_password),
        )
    )
    execute(stack.node, "debconf-set-selections", stdin=preseed)
    result = logged(stack.node, "dpkg-reconfigure", GLANCE_COMMON)
    assert result.returncode == 0, "dpkg-reconfigure failed"
    assert_no_secret(stack, result.output, new_db, new_keystone)
    restart_glance(stack)

    check_node(stack, result, service_password=new_keystone, more_secrets=(new_db, new_keystone))
    token = {"action": "token", "user": "glance", "password": old_keystone, "project": "service"}
    assert probe(stack.node, token) == {"token": False}
    login = {"action": "db_login", "user": "glance"}
    assert probe(stack.node, {**login, "password": new_db}) == {"login": True}
    assert probe(stack.node, {**login, "password": old_db})["login"] is False

    # The connection URL and the service user's password changed, nothing else.
    after = execute(stack.node, "cat", GLANCE_CONF).stdout
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    assert len(changed) == 4, changed
    assert sum(new_db in line for line in changed) == 1 and sum(new_keystone in line for line in changed) == 1
    assert sum(old_db in line for line in changed) == 1 and sum(old_keystone in line for line in changed) == 1
    now = snapshot(stack)
    for part in ("mariadb", "rabbitmq", "keystone"):
        assert now[part] == stack.baseline[part], f"{part} changed: {json.dumps(now[part])[:2000]}"
    others = {path: value for path, value in now["files"].items() if path != GLANCE_CONF}
    assert others == {p: v for p, v in stack.baseline["files"].items() if p != GLANCE_CONF}
