"""Keystone installed by apt-get from a generated preseed, and bootstrapped by its postinst.

A consumer package ``pkgostest-keystone`` (Depends: python3-keystone,
uwsgi-core, uwsgi-plugin-python3) gets its database questions and shell
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
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.debhelpers import answers, apt_install, forget_everything, keystone_session, pkgos, purge, run
from tests.e2e.test_glance_package import SITE, ArgvWatch
from tests.servers.keystone import free_port, start_uwsgi, stop, wait_ready
from tests.servers.mariadb import MariaDB

PACKAGE = "pkgostest-keystone"
PREFIX = "keystone"
ETC = Path(f"/etc/{PACKAGE}")
CONF = ETC / "keystone.conf"
ADMIN_PASSWORD = "Adm1n&|p@ss:/%#w=rd$x"
# Keystone's own migration hands the connection URL to a ConfigParser that
# interpolates "%" (keystone/common/sql/upgrades.py, Debian 12): any
# percent-encoded character in the password makes keystone-manage db_sync
# crash. Generated passwords (letters and digits) never need encoding.
DB_PASSWORD = "Ks-db_pass.Word-2024"
DATABASE = "keystone"
PRESEED_OWNER = "keystone"

PROFILE = f"""\
name = "{PACKAGE}"
package = "{PACKAGE}"
prefix = "{PREFIX}"

[[config]]
source = "keystone.conf"

# keystone-manage creates the keys as the package's user, in directories it owns.
[[directory]]
path = "/etc/{PACKAGE}/fernet-keys"
mode = "0700"
purge = true

[[directory]]
path = "/etc/{PACKAGE}/credential-keys"
mode = "0700"
purge = true

# The migration is the first step of the bootstrap in postinst.
[[database]]
"""

DEFAULT_CONF = f"""\
[DEFAULT]

[database]
# Written by the package's postinst from the db questions.
# connection = <None>

[token]
provider = fernet

[fernet_tokens]
key_repository = /etc/{PACKAGE}/fernet-keys/

[fernet_receipts]
key_repository = /etc/{PACKAGE}/fernet-keys/

[credential]
key_repository = /etc/{PACKAGE}/credential-keys/
"""

# Keystone's own questions (the names Debian's keystone package uses).
OWN_TEMPLATES = f"""\
Template: {PREFIX}/admin-password
Type: password
Description: Password of the Keystone administrator:
 Used once, to bootstrap Keystone; forgotten afterwards.

Template: {PREFIX}/region-name
Type: string
Default: regionOne
Description: Region of the identity endpoints:

Template: {PREFIX}/endpoint-ip
Type: string
Default: 127.0.0.1
Description: Address of the identity endpoints:
"""

# Before the generated line: Keystone's answers, read while debconf still
# talks to this script (pkgos ends the conversation when it is done). The
# administrator's password is forgotten at once and kept in a variable only.
READ_ANSWERS = f"""\
. /usr/share/debconf/confmodule
if [ "$1" = configure ]; then
    db_get {PREFIX}/region-name
    region="$RET"
    db_get {PREFIX}/endpoint-ip
    url="http://$RET:5000/v3"
    db_get {PREFIX}/admin-password
    admin_password="$RET"
    db_set {PREFIX}/admin-password ""
fi
"""

# After it (the database exists and keystone.conf names it): the bootstrap,
# the password on stdin through printf, a shell builtin, so on no argv;
# without a password (a reconfigure) the administrator is kept as it is.
BOOTSTRAP = f"""\
if [ "$1" = configure ]; then
    set -- --no-service-project --config-file {CONF} --keystone-user {PACKAGE} \\
        --keystone-group {PACKAGE} --public-url "$url" --region "$region"
    if [ -n "$admin_password" ]; then
        printf '%s' "$admin_password" | pkgos keystone bootstrap --password-stdin "$@"
    else
        pkgos keystone bootstrap "$@"
    fi
fi
"""

CONTROL = """\
Package: {package}
Version: 1.0
Architecture: all
Maintainer: openstack-pkg-tools tests <root@localhost>
Depends: debconf, python3-debconf, adduser, python3-keystone, uwsgi-core, uwsgi-plugin-python3
Description: Keystone packaged by the openstack-pkg-tools tests
 Built by the test suite from Debian's python3-keystone; purged when the
 tests end.
"""

pytestmark = pytest.mark.slow


def build(workdir: Path) -> Path:
    """The consumer package: generated scripts and templates plus Keystone's own."""
    debian = workdir / "source" / "debian"
    debian.mkdir(parents=True)
    profile = workdir / "profile.toml"
    profile.write_text(PROFILE)
    control = CONTROL.format(package=PACKAGE)
    (debian / "control").write_text(f"Source: {PACKAGE}\n\n{control}")
    (debian / f"{PACKAGE}.templates").write_text(OWN_TEMPLATES)
    pkgos("gen-debian", str(profile), PACKAGE, "--debian-dir", str(debian), "--shell")
    tree = workdir / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(control)
    (tree / "DEBIAN" / "templates").write_text(run("po2debconf", str(debian / f"{PACKAGE}.templates")).stdout)
    for phase in ("config", "postinst", "postrm"):
        script = (debian / f"{PACKAGE}.{phase}").read_text()
        if phase == "postinst":
            script = script.replace(". /usr/share/debconf/confmodule\n", READ_ANSWERS)
            script = script.replace("#DEBHELPER#", BOOTSTRAP)
        (tree / "DEBIAN" / phase).write_text(script.replace("#DEBHELPER#", ""))
        (tree / "DEBIAN" / phase).chmod(0o755)
    share = tree / "usr" / "share" / PACKAGE
    share.mkdir(parents=True)
    (share / "keystone.conf").write_text(DEFAULT_CONF)
    deb = workdir / f"{PACKAGE}_1.0_all.deb"
    run("dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb))
    return deb


def generate_preseed(workdir: Path) -> str:
    """The keystone lines of the controller's preseed generated from a test site file."""
    site = workdir / "site"
    site.mkdir()
    (site / "site.toml").write_text(SITE.format(region="RegionOne"))
    secrets = site / "secrets.toml"
    secrets.write_text(f'keystone-admin = "{ADMIN_PASSWORD}"\nkeystone-db = "{DB_PASSWORD}"\n')
    secrets.chmod(0o600)
    pkgos("preseed", "generate", str(site / "site.toml"), "--output-dir", str(site), "--role", "controller")
    lines = (site / "controller.preseed").read_text().splitlines()
    return "".join(f"{line}\n" for line in lines if f" {PREFIX}/" in line)


def cleanup() -> None:
    forget_everything(PACKAGE)
    run("debconf-communicate", PRESEED_OWNER, stdin="PURGE\n", check=False)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.fail("the dpkg tests install packages: run them as root (make check does)")
    path = Path(tempfile.mkdtemp(prefix="pkgostest-keystone-pkg."))
    cleanup()
    try:
        yield path
    finally:
        cleanup()
        shutil.rmtree(path)


def keystone_tables(server: MariaDB) -> set[str]:
    with server.admin_connect() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (DATABASE,)
        )
        return {row[0] for row in cursor.fetchall()}


def test_keystone_installs_and_bootstraps_itself_from_a_generated_preseed(
    workdir: Path, local_mariadb: MariaDB
) -> None:
    deb = build(workdir)
    preseed = generate_preseed(workdir)
    assert f"{PREFIX}/admin-password password {ADMIN_PASSWORD}" in preseed

    with ArgvWatch([ADMIN_PASSWORD, DB_PASSWORD]) as watch:
        run("debconf-set-selections", stdin=preseed)
        installed = apt_install(deb)
    output = installed.stdout + installed.stderr
    assert ADMIN_PASSWORD not in output
    assert DB_PASSWORD not in output
    assert watch.found == []

    # The database has Keystone's schema and the bootstrap's data.
    tables = keystone_tables(local_mariadb)
    assert {"user", "project", "endpoint", "region", "assignment"} <= tables
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

    # Reconfigure without a new password keeps the admin as it is.
    again = run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
    assert "keeping Keystone's admin user as it is" in again.stdout + again.stderr

    run("debconf-set-selections", stdin=f"{PACKAGE} {PREFIX}/purge-db boolean true\n")
    purge(PACKAGE)
    assert keystone_tables(local_mariadb) == set()
    assert not ETC.exists()
    assert subprocess.run(["dpkg", "-s", PACKAGE], capture_output=True, check=False).returncode != 0
