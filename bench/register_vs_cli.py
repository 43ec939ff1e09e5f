"""Registering one service: the reference's openstack CLI calls vs. this project.

Starts a throwaway Keystone (tests/servers/keystone.py), then registers the
same shape of service (service + public, internal and admin endpoints +
service user + role on the service project) twice, side by side:

* the reference way: one ``openstack`` CLI run per object, plus the
  "does a service of this type exist?" check the reference runs first;
  the HTTP requests are counted from each run's ``--debug`` output;
* this project: ``register_service`` and ``ensure_service_user`` in-process
  through one Keystone session; the requests are counted by the client.

Then this project's registration runs again, which must make zero writes.
The last line is ``ratio=<cli_seconds/our_seconds>`` for the fresh
registration. Run as root: ``make bench-keystone`` (about 1-2 minutes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from openstack_pkg_tools.keystone import (  # noqa: E402
    Endpoints,
    KeystoneClient,
    ServiceSpec,
    ServiceUserSpec,
    ensure_service_user,
    register_service,
)
from tests.servers.keystone import KeystoneServer, keystone_server  # noqa: E402

URLS = ("http://192.0.2.10:9292", "http://10.0.0.10:9292", "http://10.0.1.10:9292")


def openstack(server: KeystoneServer, *args: str) -> int:
    """Run one ``openstack`` CLI call as the reference does; return its HTTP request count."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": tempfile.gettempdir(),
        **server.os_environ(),
    }
    result = subprocess.run(
        ["openstack", "--debug", *args], capture_output=True, text=True, env=env, check=False, timeout=300
    )
    if result.returncode != 0:
        raise SystemExit(f"openstack {' '.join(args[:2])} failed:\n{result.stderr[-2000:]}")
    return sum(1 for line in result.stderr.splitlines() if line.startswith("REQ: curl"))


def reference_way(
    server: KeystoneServer, name: str, service_type: str, password: str
) -> tuple[float, int, int]:
    """The reference's calls; return (seconds, CLI runs, HTTP requests)."""
    # The reference passes the password on the command line: reproduced here
    # on a throwaway Keystone only, to measure it.
    calls = [
        ("service", "list", "-f", "value", "-c", "Type"),
        ("service", "create", "--name", name, "--description", "OpenStack Image", service_type),
        *(
            ("endpoint", "create", "--region", server.region, name, interface, url)
            for interface, url in zip(("public", "internal", "admin"), URLS, strict=True)
        ),
        ("user", "create", "--domain", "default", "--password", password, name),
        ("role", "add", "--project", "service", "--user", name, "service"),
    ]
    started = time.monotonic()
    requests = sum(openstack(server, *call) for call in calls)
    return time.monotonic() - started, len(calls), requests


def our_way(server: KeystoneServer, name: str, service_type: str, password: str) -> tuple[float, int, int]:
    """This project's in-process reconcile; return (seconds, requests, writes)."""
    started = time.monotonic()
    client = KeystoneClient(server.credentials())
    spec = ServiceSpec(
        name, service_type, Endpoints(*URLS), region=server.region, description="OpenStack Image"
    )
    register_service(client, spec)
    ensure_service_user(client, ServiceUserSpec(name, password))
    return time.monotonic() - started, client.counts.total, client.counts.writes


def pkgos_commands(server: KeystoneServer, name: str, service_type: str, password: str) -> float:
    """The same with two ``pkgos`` runs, as a shell script would; return seconds."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **server.os_environ()}
    command = [sys.executable, "-m", "openstack_pkg_tools", "keystone"]
    urls = ["--public-url", URLS[0], "--internal-url", URLS[1], "--admin-url", URLS[2]]
    runs = [
        ([*command, "register", name, "--type", service_type, *urls], ""),
        ([*command, "service-user", name, "--password-stdin"], password),
    ]
    started = time.monotonic()
    for argv, stdin in runs:
        subprocess.run(argv, input=stdin, text=True, env=env, cwd=ROOT, check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    """Run both ways on one Keystone and print the figures."""
    workdir = tempfile.mkdtemp(prefix="pkgos-bench-keystone-")
    try:
        with keystone_server(workdir) as server:
            # Warm up Keystone (first requests load its policy and caches).
            KeystoneClient(server.credentials()).get("/services")
            cli = reference_way(server, "glancecli", "imagecli", "Bench-Pw-1")
            ours = our_way(server, "glance", "image", "Bench-Pw-2")
            rerun = our_way(server, "glance", "image", "Bench-Pw-2")
            commands = pkgos_commands(server, "glancecmd", "imagecmd", "Bench-Pw-3")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"reference (openstack CLI): {cli[0]:.2f} s, {cli[1]} CLI runs, {cli[2]} HTTP requests")
    print(f"pkgos (in-process):        {ours[0]:.2f} s, {ours[1]} HTTP requests, {ours[2]} writes")
    print(f"pkgos re-run:              {rerun[0]:.2f} s, {rerun[1]} HTTP requests, {rerun[2]} writes")
    print(f"pkgos (two pkgos runs):    {commands:.2f} s, ratio to the CLI {cli[0] / commands:.1f}")
    if rerun[2] != 0:
        raise SystemExit("the idempotent re-run wrote to Keystone")
    print(f"ratio={cli[0] / ours[0]:.1f}")


if __name__ == "__main__":
    main()
