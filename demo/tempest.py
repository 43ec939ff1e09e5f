"""Tempest against the all-in-one cloud: identity, image, network and compute.

The last phase of ``make demo`` (demo/cloud.py). In the node: Debian's
``tempest`` package (33.0.0 in bookworm) installed by apt-get, a workspace
made by ``tempest init``, its ``etc/tempest.conf`` written from what the
cloud has (the admin of the preseed, the image and flavor the VM phase
made, the provider network, Neutron's real extension list), then ``tempest
run`` of the tests in ``TESTS``. Its counts go into the summary, with every
skip reason as Tempest gave it; any failure fails the phase.

Tempest makes a project and a user of its own for each test class (dynamic
credentials, with the preseed's admin) and removes them afterwards. The
admin's password is in tempest.conf only, mode 0600 in root's home in the
node; it is never on an argv.
"""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from demo import cloud
from openstack_pkg_tools.inifile import oslo_literal

WORKSPACE = "/root/tempest"
CONFIG = f"{WORKSPACE}/etc/tempest.conf"
INCLUDE_LIST = f"{WORKSPACE}/include-list"
# Under TCG a server takes a minute or more to boot; Tempest's default of
# 300 s per wait is kept for the API calls, a longer one for builds.
BUILD_TIMEOUT = 900

# The tests, as regular expressions of Tempest's test ids (one class each):
# what the issue of the whole cloud asks for, with no test of a feature the
# cloud does not have (volumes, routers, floating IPs, live migration).
TESTS = [
    # identity: tokens, users, projects
    r"^tempest\.api\.identity\.v3\.test_tokens\.TokensV3Test\.",
    r"^tempest\.api\.identity\.admin\.v3\.test_users\.UsersV3TestJSON\.",
    r"^tempest\.api\.identity\.admin\.v3\.test_projects\.ProjectsTestJSON\.",
    # image: create, upload, get, update, deactivate, delete
    r"^tempest\.api\.image\.v2\.test_images\.BasicOperationsImagesTest\.",
    # network: networks, subnets, ports
    r"^tempest\.api\.network\.test_networks\.NetworksTest\.",
    r"^tempest\.api\.network\.test_ports\.PortsTestJSON\.",
    # compute: a server created, shown, listed; servers deleted while building and active
    r"^tempest\.api\.compute\.servers\.test_create_server\.ServersTestJSON\.",
    r"^tempest\.api\.compute\.servers\.test_delete_server\.DeleteServersTestJSON\."
    r"test_delete_(active_server|server_while_in_building_state)\b",
]


@dataclass(frozen=True)
class Counts:
    """Tempest's totals, as its last lines print them."""

    ran: int
    passed: int
    skipped: int
    failed: int


_TOTAL = re.compile(r"^ - (Passed|Skipped|Failed): (\d+)$", re.M)
_RAN = re.compile(r"^Ran: (\d+) tests? in", re.M)
# subunit-trace's line for a skipped test (``{0} tempest.api.x.Class.test_y ... SKIPPED: why``),
# or for a whole class skipped in its setup (``{0} setUpClass (tempest.api.x.Class) ...``).
_SKIPPED = re.compile(r"^\{\d+\} (?:setUpClass \((\S+)\)|(\S+)) \.\.\. SKIPPED: (.+)$", re.M)


def counts(output: str) -> Counts:
    """The totals of a ``tempest run`` output; CloudError when it printed none (it did not get that far)."""
    ran = _RAN.search(output)
    totals = dict(_TOTAL.findall(output))
    if ran is None or set(totals) != {"Passed", "Skipped", "Failed"}:
        raise cloud.CloudError("tempest printed no totals")
    return Counts(int(ran.group(1)), int(totals["Passed"]), int(totals["Skipped"]), int(totals["Failed"]))


# subunit-trace's line for a failed test, or for a class whose setup failed.
_FAILED = re.compile(r"^\{\d+\} (?:setUpClass \((\S+)\)|(\S+)) \[[^]]*\] \.\.\. FAILED$", re.M)


def failed_tests(output: str) -> list[str]:
    """An include list of what failed: each failed test, or each class whose setup failed."""
    patterns = []
    for test_class, test in _FAILED.findall(output):
        if test_class:
            patterns.append(f"^{re.escape(test_class)}\\.")
        else:
            # \b: the test itself, not another whose name it begins (test_x_y).
            patterns.append(f"^{re.escape(test.split('[', 1)[0])}\\b")
    return list(dict.fromkeys(patterns))


def skip_reasons(output: str) -> dict[str, list[str]]:
    """Each skip reason Tempest printed, with the tests (or classes) it skipped."""
    reasons: dict[str, list[str]] = {}
    for test_class, test, reason in _SKIPPED.findall(output):
        reasons.setdefault(reason.strip(), []).append((test_class or test).split("[", 1)[0])
    return reasons


def tempest_conf(run: cloud.Run, image_id: str, flavor_id: str, extensions: list[str]) -> str:
    """tempest.conf for the cloud: the admin for dynamic credentials, what exists, what does not."""
    admin_password = cloud.passwords()["keystone-admin"]
    sections = {
        "DEFAULT": {"log_file": f"{WORKSPACE}/tempest.log"},
        "auth": {
            "use_dynamic_credentials": "true",
            # The provider network is shared: each project's servers go
            # there, so Tempest makes no network, subnet or router of its own.
            "create_isolated_networks": "false",
            "admin_username": "admin",
            # As oslo.config reads it: a "$" would be taken for a substitution.
            "admin_password": oslo_literal(admin_password),
            "admin_project_name": "admin",
            "admin_domain_name": "Default",
        },
        "identity": {"uri_v3": cloud.keystone_url(run), "auth_version": "v3", "region": "RegionOne"},
        "compute": {
            "image_ref": image_id,
            "image_ref_alt": image_id,
            "flavor_ref": flavor_id,
            "flavor_ref_alt": flavor_id,
            "fixed_network_name": cloud.NETWORK,
            "min_compute_nodes": "1",
            "build_timeout": str(BUILD_TIMEOUT),
        },
        "compute-feature-enabled": {
            "console_output": "true",
            "resize": "false",
            "live_migration": "false",
            "vnc_console": "false",
        },
        # No SSH into the servers: under TCG a boot takes minutes, and the
        # provider network is reachable only inside the node.
        "validation": {"run_validation": "false"},
        "network": {"project_networks_reachable": "false"},
        "network-feature-enabled": {"api_extensions": ",".join(extensions), "ipv6": "false"},
        "service_available": {
            "nova": "true",
            "glance": "true",
            "neutron": "true",
            "cinder": "false",
            "swift": "false",
            "horizon": "false",
        },
    }
    lines = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {value}" for key, value in options.items()]
        lines.append("")
    return "\n".join(lines)


def tempest(run: cloud.Run) -> None:
    """Tempest installed in the node, configured for the cloud, run; counts and skips in the summary.

    Its output goes to tempest.log in the run's build directory.
    """
    log = cloud.target().build / "tempest.log"
    log.write_text("")
    install = ["apt-get", "install", "-y", "--no-install-recommends", "tempest"]
    if cloud.inside_logged(install, log, {"DEBIAN_FRONTEND": "noninteractive"}) != 0:
        raise cloud.CloudError(f"{shlex.join(install)} failed in the node (log: {log})")
    version = cloud.inside(["dpkg-query", "-W", "-f", "${Version}", "tempest"]).strip()
    cloud.shell(f"test -d {WORKSPACE}/etc || tempest init {WORKSPACE}")
    image_id = cloud.openstack("image", "show", cloud.IMAGE_NAME, "-f", "value", "-c", "id").strip()
    flavor_id = cloud.openstack("flavor", "show", cloud.FLAVOR, "-f", "value", "-c", "id").strip()
    extensions = cloud.openstack("extension", "list", "--network", "-f", "value", "-c", "Alias").split()
    cloud.inside(
        ["sh", "-c", f"umask 077 && cat > {CONFIG}"], input=tempest_conf(run, image_id, flavor_id, extensions)
    )
    began = time.monotonic()
    status, output = _run(TESTS, log)
    result = counts(output)
    run.note(
        f"tempest {version}: ran {result.ran}, passed {result.passed}, skipped {result.skipped}, "
        f"failed {result.failed} in {time.monotonic() - began:.0f} s (log: {log})"
    )
    for reason, tests in sorted(skip_reasons(output).items()):
        run.note(f"  skipped {len(tests)}: {reason} (e.g. {tests[0]})")
    if not result.ran:
        raise cloud.CloudError(f"tempest ran no test, exit {status} (log: {log})")
    if status == 0 and not result.failed:
        return
    # What failed runs once more, and both runs are reported: a guard for
    # connections reset by an API server (Debian's Keystone did so until the
    # after-install step gave it Connection: close), not for failed tests.
    failed = failed_tests(output)
    if not failed:
        raise cloud.CloudError(f"tempest: exit {status}, and no failed test named (log: {log})")
    for pattern in failed:
        run.note(f"  failed: {pattern}")
    rerun_log = log.with_name("tempest-rerun.log")
    rerun_log.write_text("")
    rerun_status, rerun_output = _run(failed, rerun_log)
    rerun = counts(rerun_output)
    run.note(
        f"tempest rerun of what failed: ran {rerun.ran}, passed {rerun.passed}, skipped {rerun.skipped}, "
        f"failed {rerun.failed} (log: {rerun_log})"
    )
    if rerun_status != 0 or rerun.failed or not rerun.ran:
        raise cloud.CloudError(
            f"tempest: {rerun.failed} failed again, exit {rerun_status} (log: {rerun_log})"
        )


def _run(include: list[str], log: Path) -> tuple[int, str]:
    """``tempest run`` of the tests ``include`` names, its output appended to ``log``: exit status, output."""
    cloud.inside(["sh", "-c", f"cat > {INCLUDE_LIST}"], input="\n".join(include) + "\n")
    argv = ["sh", "-c", f"cd {WORKSPACE} && exec tempest run --include-list {INCLUDE_LIST} --concurrency 2"]
    status = cloud.inside_logged(argv, log)
    return status, log.read_text(errors="replace")
