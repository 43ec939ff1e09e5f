"""Keystone installed by apt-get from a generated preseed, and bootstrapped by its postinst.

The Keystone package that ``make demo-short`` installs (``demo/packages/keystone``),
built here as ``pkgostest-e2e-keystone`` (Depends: python3-keystone,
uwsgi-core, uwsgi-plugin-python3), gets its database questions and shell
maintainer scripts from ``pkgos gen-debian``; its own templates carry
Keystone's questions (admin password, region, endpoint address) and its
postinst adds, after the generated line, the bootstrap: db_sync,
fernet and credential keys owned by the package's user, ``keystone-manage
bootstrap`` with the admin password on stdin, never on an argv. The test
then serves the installed Keystone with uwsgi (no systemd here) and logs
in as the administrator.
"""

from __future__ import annotations

import grp
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.debhelpers import (
    ArgvWatch,
    answers,
    apt_install,
    build_consumer,
    forget_everything,
    forget_questions,
    generated_preseed,
    keystone_session,
    package_workdir,
    purge,
    run,
    tables,
)
from tests.servers.keystone import free_port, start_uwsgi, stop, wait_ready
from tests.servers.mariadb import MariaDB

PACKAGE = "pkgostest-e2e-keystone"
PREFIX = "keystone"
ETC = Path(f"/etc/{PACKAGE}")
CONF = ETC / "keystone.conf"
ADMIN_PASSWORD = "Adm1n&|p@ss:/%#w=rd$x"
# Keystone's own migration hands the connection URL to a ConfigParser that
# interpolates "%" (keystone/common/sql/upgrades.py, Debian 12): any
# percent-encoded character in the password makes keystone-manage db_sync
# crash, so the keystone profile refuses such a password (percent_in_url).
# Generated passwords (letters and digits) never need encoding.
DB_PASSWORD = "Ks-db_pass.Word-2024"
DATABASE = "keystone"
PRESEED_OWNER = "keystone"

pytestmark = pytest.mark.slow


def build(workdir: Path) -> Path:
    """The demo's Keystone package: generated scripts and templates plus Keystone's own."""
    return build_consumer(workdir, "keystone", PACKAGE, "1.0")


def cleanup() -> None:
    forget_everything(PACKAGE)
    forget_questions(PRESEED_OWNER)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with package_workdir("pkgostest-e2e-keystone-pkg.", cleanup) as path:
        yield path


def files_under(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Modification time and content of every file below ``folder``."""
    return {
        str(path): (path.stat().st_mtime_ns, path.read_bytes())
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_keystone_installs_and_bootstraps_itself_from_a_generated_preseed(
    workdir: Path, local_mariadb: MariaDB
) -> None:
    deb = build(workdir)
    passwords = {"keystone-admin": ADMIN_PASSWORD, "keystone-db": DB_PASSWORD}
    preseed = generated_preseed(workdir, PREFIX, "RegionOne", passwords)
    assert f"{PREFIX}/admin-password password {ADMIN_PASSWORD}" in preseed

    with ArgvWatch([ADMIN_PASSWORD, DB_PASSWORD]) as watch:
        run("debconf-set-selections", stdin=preseed)
        installed = apt_install(deb)
    output = installed.stdout + installed.stderr
    assert ADMIN_PASSWORD not in output
    assert DB_PASSWORD not in output
    assert watch.found == []

    # The database has Keystone's schema and the bootstrap's data.
    schema = tables(local_mariadb, DATABASE)
    assert {"user", "project", "endpoint", "region", "assignment"} <= schema
    # The keys belong to the package's user, readable by nobody else.
    for repository in ("fernet-keys", "credential-keys"):
        info = (ETC / repository).stat()
        assert (info.st_uid, info.st_gid) == (pwd.getpwnam(PACKAGE).pw_uid, grp.getgrnam(PACKAGE).gr_gid)
        assert stat.S_IMODE(info.st_mode) & 0o007 == 0
    # The administrator's password is forgotten.
    assert answers(PREFIX)["admin-password"] == ""

    # Served from the installed config, it answers on 127.0.0.1 and the administrator logs in.
    port = free_port()
    uwsgi_dir = workdir / "uwsgi"
    uwsgi_dir.mkdir()
    shutil.copy(CONF, uwsgi_dir / "keystone.conf")
    process = start_uwsgi(str(uwsgi_dir), port)
    try:
        url = f"http://127.0.0.1:{port}/v3"
        wait_ready(url, process, str(uwsgi_dir))
        admin = keystone_session(url, "admin", ADMIN_PASSWORD, "admin")
        assert admin.get_token()
        services = admin.get(f"{url}/services?type=identity").json()["services"]
        assert [service["name"] for service in services] == ["keystone"]
        endpoints = admin.get(f"{url}/endpoints?service_id={services[0]['id']}").json()["endpoints"]
        assert sorted((e["interface"], e["url"], e["region_id"]) for e in endpoints) == [
            (interface, "http://127.0.0.1:5000/v3", "RegionOne")
            for interface in ("admin", "internal", "public")
        ]
    finally:
        stop(process)

    # Reconfigure changes nothing: create-admin-tenant was answered once (as
    # Debian's package, postinst turns it off), the config file and the keys
    # stay untouched.
    before = files_under(ETC)
    assert {str(CONF), str(ETC / "fernet-keys" / "0"), str(ETC / "credential-keys" / "0")} <= set(before)
    assert answers(PREFIX)["create-admin-tenant"] == "false"
    again = run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
    assert f"{PACKAGE}: already set up: nothing changed." in again.stderr
    assert files_under(ETC) == before
    # Answered yes again without a password, the bootstrap keeps the administrator as it is.
    run("debconf-set-selections", stdin=f"{PACKAGE} {PREFIX}/create-admin-tenant boolean true\n")
    again = run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
    assert "keeping Keystone's admin user as it is" in again.stdout + again.stderr
    assert files_under(ETC) == before

    run("debconf-set-selections", stdin=f"{PACKAGE} {PREFIX}/purge-db boolean true\n")
    purge(PACKAGE)
    assert tables(local_mariadb, DATABASE) == set()
    assert not ETC.exists()
    assert subprocess.run(["dpkg", "-s", PACKAGE], capture_output=True, check=False).returncode != 0
