"""Debian's keystone, glance-common and glance-api, rewired, installed by apt-get in a node.

In a node rather than on the host: keystone's postinst enables and starts
its unit and bootstraps the running Keystone, which needs systemd as PID 1
(the host has none, and a policy-rc.d that forbids starting services), and
the node's apt sees Debian's security updates, so the packages rewired are
the ones the node would install. With a preseed from ``pkgos preseed
generate`` and ``DEBIAN_FRONTEND=noninteractive``: Keystone's database is
created in the node's MariaDB and migrated, Keystone bootstrapped (its
administrator, the service project, Debian's roles, its identity
endpoints), Glance's database created and migrated, its service user made
and Glance registered in the catalog, its metadata definitions installed, a
token validated; ``dpkg-reconfigure`` of each changes no config file and no
catalog entry; the purge drops both databases and removes /etc/keystone and
/etc/glance.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keystoneauth1 import exceptions

from openstack_pkg_tools.profile import DEBIAN_KEYSTONE_ROLES
from tests.e2e.debhelpers import ROOT, keystone_session, pkgos, run
from tests.nodes import node
from tests.nodes.state import NodeState

pytestmark = [pytest.mark.nodes, pytest.mark.slow]

PACKAGES = ("keystone", "glance-common", "glance-api")
ARCHIVE = "/srv/pkgos-archive"  # readable by apt's _apt user, unlike /root
ADMIN_PASSWORD = "pkgos-admin-Secret-1"  # a throwaway node's
CONFIGS = ("/etc/keystone/keystone.conf", "/etc/glance/glance-api.conf")
SITE = """\
[site]
region = "RegionOne"

[database]
type = "mysql"
host = "localhost"

[rabbitmq]
host = "127.0.0.1"

[keystone]
address = "{address}"

[controller]
address = "{address}"

[network]
provider_interface = "eth1"

[passwords]
store = "secrets.toml"
generate = true
"""


def _sh(target: NodeState, script: str, timeout: float = 1800) -> str:
    """Run ``script`` with sh in the node, noninteractive; its output (it must succeed)."""
    result = node.execute(
        target,
        ["sh", "-c", script],
        input="",
        capture=True,
        environment={"DEBIAN_FRONTEND": "noninteractive"},
        timeout=timeout,
    )
    assert result.returncode == 0, f"{script}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def _fetch(target: NodeState, path: str) -> bytes:
    """A file of the node, read through its own namespaces (a link there cannot lead to the host's)."""
    argv = node.enter_argv(target, ["cat", path])
    return subprocess.run(argv, capture_output=True, check=True).stdout


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"pkgostest-rewired-install.{os.getpid()}"
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path)


def _archive(target: NodeState, workdir: Path) -> None:
    """Debian's packages as the node's apt has them, rewired, in a signed archive the node trusts."""
    debs = workdir / "debs"
    debs.mkdir()
    listing = _sh(target, f"apt-get update -q >/dev/null && mkdir -p /root/debs && cd /root/debs && "
                  f"apt-get download -q {' '.join(PACKAGES)} >/dev/null 2>&1; ls")  # fmt: skip
    for name in listing.split():
        (debs / name).write_bytes(_fetch(target, f"/root/debs/{name}"))
    archive = workdir / "archive"
    pkgos("rewire", *map(str, sorted(debs.glob("*.deb"))), "--output-dir", str(archive))
    run(str(ROOT / "tools" / "build-debs"), str(workdir / "toolkit"))
    for deb in (workdir / "toolkit").glob("*.deb"):
        shutil.copy(deb, archive)
    line = pkgos("archive", str(archive), "--key-dir", str(workdir / "key")).stdout.strip()
    assert "trusted" not in line
    node.copy_in(target, str(archive), "/srv")
    _sh(target, f"mv /srv/archive {ARCHIVE} && chmod -R a+rX {ARCHIVE}")
    sources = line.replace(str(archive), ARCHIVE)
    _sh(target, f"echo '{sources}' > /etc/apt/sources.list.d/pkgos.list && apt-get update -q")


def _preseed(target: NodeState, workdir: Path) -> None:
    """The controller preseed's answers for the three packages, loaded into the node's debconf."""
    site = workdir / "site"
    site.mkdir()
    (site / "site.toml").write_text(SITE.format(address=target.address))
    store = site / "secrets.toml"
    store.write_text(f'keystone-admin = "{ADMIN_PASSWORD}"\n')
    store.chmod(0o600)
    pkgos("preseed", "generate", str(site / "site.toml"), "--output-dir", str(site), "--role", "controller")
    lines = (site / "controller.preseed").read_text().splitlines()
    answers = "".join(f"{line}\n" for line in lines if line.split(" ", 1)[0] in PACKAGES)
    assert "keystone keystone/create-admin-tenant boolean true\n" in answers
    assert "glance-common glance/configure_db boolean true\n" in answers
    assert "glance-api glance/configure_api-endpoint boolean true\n" in answers
    node.execute(target, ["debconf-set-selections"], input=answers, capture=True)


def _state(target: NodeState, auth_url: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Each config file's SHA-256 and the catalog (service type, interface, URL).

    Patient: on this project's shared 2-core machines Keystone's uwsgi
    has taken more than keystoneauth's 30 s to answer a login.
    """
    hashes = {path: hashlib.sha256(_fetch(target, path)).hexdigest() for path in CONFIGS}
    deadline = time.monotonic() + 300
    while True:
        try:
            admin = keystone_session(auth_url, "admin", ADMIN_PASSWORD, "admin")
            services = {s["id"]: s["type"] for s in admin.get(f"{auth_url}/services").json()["services"]}
            endpoints = admin.get(f"{auth_url}/endpoints").json()["endpoints"]
        except exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(5)
            continue
        return hashes, sorted((services[e["service_id"]], e["interface"], e["url"]) for e in endpoints)


def _glance_images(session: Any, url: str) -> list[object]:
    """The images Glance lists to ``session``, once it answers (systemd may be restarting it)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            answer = session.get(f"{url}/v2/images", raise_exc=False)
        except exceptions.ConnectionError:
            answer = None
        if answer is not None and answer.status_code == 200:
            images: list[object] = answer.json()["images"]
            return images
        assert time.monotonic() < deadline, f"Glance does not list images: {answer and answer.status_code}"
        time.sleep(3)


def test_debians_keystone_and_glance_rewired_install_from_a_preseed_and_purge(
    started_node: NodeState, workdir: Path
) -> None:
    target = started_node
    _archive(target, workdir)
    _sh(target, "apt-get install -y -q --no-install-recommends mariadb-server")
    _preseed(target, workdir)

    # Two runs, as an administrator would: in one, apt configures glance-common
    # (which does not depend on keystone) before keystone, and its service user
    # needs Keystone serving.
    out = _sh(target, "apt-get install -y -q --no-install-recommends keystone")
    out += _sh(target, "apt-get install -y -q --no-install-recommends glance-api")
    for package in PACKAGES:
        version = _sh(target, f"dpkg-query -W -f '${{Version}}' {package}")
        assert version.endswith("+pkgos1"), (package, version)
    assert "keystone: ran the database migrations of keystone" in out, out
    assert "keystone: bootstrapped Keystone: administrator admin" in out, out
    assert "glance-common: ran the database migrations of glance" in out, out
    # Every step done, none left for a re-run.
    assert not re.search(r"^(keystone|glance-common|glance-api): warning", out, re.MULTILINE), out

    auth_url = f"http://{target.address}:5000/v3"
    admin = keystone_session(auth_url, "admin", ADMIN_PASSWORD, "admin")
    # Keystone's tables in MariaDB; the service project and Debian's roles.
    tables = _sh(target, "mysql -N -e 'SHOW TABLES' keystone").split()
    assert {"alembic_version", "user", "project", "endpoint"} <= set(tables), tables
    # Glance's tables, migrated by the rewired glance-common as glance.
    tables = _sh(target, "mysql -N -e 'SHOW TABLES' glance").split()
    assert {"alembic_version", "images", "image_locations", "metadef_namespaces"} <= set(tables), tables
    # Its metadata definitions, glance's, in a directory of glance's; /etc/glance stays root's.
    owners = _sh(target, "stat -c '%n %U:%G %a' /etc/glance /etc/glance/metadefs /etc/glance/glance-api.conf")
    assert owners.split("\n")[:3] == [
        "/etc/glance root:glance 750",
        "/etc/glance/metadefs glance:glance 750",
        "/etc/glance/glance-api.conf root:glance 640",
    ], owners
    shipped = _sh(target, "ls /usr/share/glance-common/metadefs/ | grep -c '\\.json$'").strip()
    installed = _sh(target, "stat -c '%U:%G %a' /etc/glance/metadefs/*.json | sort | uniq -c").split()
    assert installed == [shipped, "glance:glance", "640"], installed
    projects = admin.get(f"{auth_url}/projects", params={"name": "service"}).json()["projects"]
    assert [project["name"] for project in projects] == ["service"]
    roles = {role["name"] for role in admin.get(f"{auth_url}/roles").json()["roles"]}
    assert set(DEBIAN_KEYSTONE_ROLES) <= roles
    # Glance's service user, made by glance-common's ksat family.
    users = admin.get(f"{auth_url}/users", params={"name": "glance"}).json()["users"]
    assert [user["name"] for user in users] == ["glance"]
    # A token Keystone issued is validated by Keystone.
    token = admin.get_token()
    checked = admin.get(f"{auth_url}/auth/tokens", headers={"X-Subject-Token": token})
    assert checked.status_code == 200 and checked.json()["token"]["user"]["name"] == "admin"
    # Glance serves that token an image list: glance-api runs as glance, and the
    # directories dpkg made root's (its log's, its image store's) are glance's.
    owners = _sh(target, "stat -c '%n %U:%G' /var/lib/glance /var/lib/glance/images /var/log/glance")
    assert owners.split("\n")[:3] == [
        "/var/lib/glance glance:glance",
        "/var/lib/glance/images glance:glance",
        "/var/log/glance glance:adm",
    ], owners
    assert _glance_images(admin, f"http://{target.address}:9292") == []
    # Keystone's own endpoints and Glance's, on the node's address.
    hashes, entries = _state(target, auth_url)
    for kind, url in (("identity", auth_url), ("image", f"http://{target.address}:9292")):
        assert [(i, u) for k, i, u in entries if k == kind] == [
            ("admin", url),
            ("internal", url),
            ("public", url),
        ], entries

    started = _sh(target, "systemctl show -p ExecMainStartTimestamp keystone")
    _sh(target, "dpkg-reconfigure keystone && dpkg-reconfigure glance-common && dpkg-reconfigure glance-api")
    assert _state(target, auth_url) == (hashes, entries)
    print(
        "keystone restarted by the reconfigure:",
        started != _sh(target, "systemctl show -p ExecMainStartTimestamp keystone"),
    )

    _sh(target, "echo 'keystone keystone/purge-db boolean true' | debconf-set-selections")
    _sh(target, "echo 'glance-common glance/purge-db boolean true' | debconf-set-selections")
    _sh(target, f"apt-get purge -y -q {' '.join(PACKAGES)}")
    databases = _sh(target, "mysql -N -e 'SHOW DATABASES'").split()
    assert "keystone" not in databases and "glance" not in databases, databases
    for gone in ("/etc/keystone", "/var/lib/glance", "/var/log/glance"):
        assert _sh(target, f"ls {gone} 2>&1 || true").strip().endswith("No such file or directory"), gone
    # What is left in /etc/glance (rootwrap's files) belongs to packages still installed.
    left = sorted(_sh(target, "find /etc/glance -mindepth 1 2>/dev/null || true").split())
    if left:  # dpkg-query -S fails on a path no package ships
        listed = _sh(target, f"dpkg-query -S {' '.join(left)}").splitlines()
        owners = {name for line in listed for name in line.split(": ")[0].split(", ")}
        assert not owners & set(PACKAGES), owners
