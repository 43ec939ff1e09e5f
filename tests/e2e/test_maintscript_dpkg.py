"""Maintainer scripts generated from a profile, run by the real dpkg and debconf.

A fixture package ``pkgostest-foo`` is built with dpkg-deb from a test
profile: its templates come from ``pkgos merge-templates``, its python3
maintainer scripts from ``pkgos gen-maintscripts``. It is installed,
reconfigured and purged on this machine, non-interactively, with answers
from debconf-set-selections, and purged again at the end of the module.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.debhelpers import (
    apt_install,
    catalog,
    dpkg_install,
    forget_everything,
    keystone_session,
    pkgos,
    purge,
    run,
    selections,
)
from tests.servers.keystone import KeystoneServer
from tests.servers.mariadb import MariaDB

PACKAGE = "pkgostest-foo"
ETC = Path(f"/etc/{PACKAGE}")
CONF = ETC / f"{PACKAGE}.conf"
LIB = Path(f"/var/lib/{PACKAGE}")
LOG = Path(f"/var/log/{PACKAGE}")
ADMIN_SECRET = "Adm1n&s3cret|%@"
SERVICE_SECRET = "svc-Pa55"

PROFILE = """\
name = "{package}"
package = "{package}"

[[config]]
source = "{package}.conf"

[[database]]

[messaging]

[keystone_authtoken]

[[catalog]]
package = "{package}"
type = "pkgostest"
port = 9999
path = "/v1"
description = "Test service"
"""

DEFAULT_CONF = """\
[DEFAULT]
# transport_url = <None>

[database]
# connection = <None>

[keystone_authtoken]
# www_authenticate_uri = <None>
"""

CONTROL = """\
Package: {package}
Version: 1.0
Architecture: all
Maintainer: openstack-pkg-tools tests <root@localhost>
Depends: debconf, python3-debconf, adduser
Description: test package for openstack-pkg-tools maintainer scripts
 Built by the test suite; purged when the tests end.
"""

pytestmark = pytest.mark.slow


# What dh_installdebconf puts at #DEBHELPER# in a postrm: it talks to debconf
# after the toolkit's line, on the same conversation.
DEBCONF_PURGE_BLOCK = """\
# Automatically added by dh_installdebconf/13.11.4
if [ "$1" = purge ] && [ -e /usr/share/debconf/confmodule ]; then
	. /usr/share/debconf/confmodule
	db_purge
fi
# End automatically added section
"""


def _build(workdir: Path, package: str = PACKAGE, *style: str, postrm_block: str = "") -> Path:
    workdir = workdir / package
    workdir.mkdir()
    profile = workdir / "profile.toml"
    profile.write_text(PROFILE.format(package=package))
    control = CONTROL.format(package=package)
    debian = workdir / "source" / "debian"
    debian.mkdir(parents=True)
    (debian / "control").write_text(f"Source: {package}\n\n{control}")
    families = ("db", "rabbit", "ksat", "endpoint")
    pkgos("merge-templates", package, package, *families, "--debian-dir", str(debian))
    pkgos("gen-maintscripts", str(profile), package, "--debian-dir", str(debian), *style)
    tree = workdir / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(control)
    templates = run("po2debconf", str(debian / f"{package}.templates")).stdout
    (tree / "DEBIAN" / "templates").write_text(templates)
    for phase in ("config", "postinst", "postrm"):
        script = (debian / f"{package}.{phase}").read_text()
        # What dh_installdeb does with the debhelper marker: its snippets, or nothing.
        snippet = postrm_block if phase == "postrm" else ""
        (tree / "DEBIAN" / phase).write_text(script.replace("#DEBHELPER#", snippet))
        (tree / "DEBIAN" / phase).chmod(0o755)
    share = tree / "usr" / "share" / package
    share.mkdir(parents=True)
    (share / f"{package}.conf").write_text(DEFAULT_CONF)
    deb = workdir / f"{package}_1.0_all.deb"
    run("dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb))
    return deb


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.fail("the dpkg tests install packages: run them as root (make check does)")
    path = Path(tempfile.mkdtemp(prefix="pkgostest-deb."))
    yield path
    shutil.rmtree(path)


@pytest.fixture(scope="module")
def deb(workdir: Path) -> Iterator[Path]:
    forget_everything(PACKAGE)
    try:
        yield _build(workdir)
    finally:
        forget_everything(PACKAGE)


def _mode(path: Path) -> tuple[int, str, str]:
    info = path.stat()
    return stat.S_IMODE(info.st_mode), pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name


def _snapshot() -> dict[str, tuple[int, int, int, int, bytes]]:
    result = {}
    for path in (ETC, CONF, LIB, LOG):
        info = path.stat()
        content = path.read_bytes() if path.is_file() else b""
        result[str(path)] = (info.st_mode, info.st_uid, info.st_gid, info.st_mtime_ns, content)
    return result


def test_install_without_preseed_asks_nothing_and_sets_up_the_service(deb: Path) -> None:
    forget_everything(PACKAGE)
    result = dpkg_install(deb)
    assert pwd.getpwnam(PACKAGE).pw_shell == "/usr/sbin/nologin"
    assert _mode(ETC) == (0o750, "root", PACKAGE)
    assert _mode(CONF) == (0o640, "root", PACKAGE)
    assert CONF.read_text() == DEFAULT_CONF
    assert _mode(LIB) == (0o750, PACKAGE, PACKAGE)
    assert _mode(LOG) == (0o750, PACKAGE, "adm")
    answers = selections(PACKAGE)
    assert answers["configure_db"] == "false"
    assert answers["ksat-admin-password"] == ""
    assert "created system user" in result.stderr


def test_reconfigure_noninteractive_changes_nothing(deb: Path) -> None:
    dpkg_install(deb)
    before = _snapshot()
    result = run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
    assert _snapshot() == before
    assert f"{PACKAGE}: already set up: nothing changed." in result.stderr


def test_reconfigure_seeds_questions_from_the_current_config(deb: Path) -> None:
    dpkg_install(deb)
    text = CONF.read_text().replace(
        "# transport_url = <None>", "transport_url = rabbit://alice:p%40ss@mq.example.org:5672/"
    )
    text = text.replace(
        "# www_authenticate_uri = <None>",
        "auth_uri = https://ks.example.org:5000\nadmin_user = foo-svc\nregion_name = regionTwo",
    )
    CONF.write_text(text)
    run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
    answers = selections(PACKAGE)
    assert answers["rabbit-host"] == "mq.example.org"
    assert answers["rabbit-userid"] == "alice"
    # Seeded for the run, then forgotten: the config file holds it.
    assert answers["rabbit-password"] == ""
    assert answers["ksat-public-url"] == "https://ks.example.org:5000"
    assert answers["ksat-service-username"] == "foo-svc"
    assert answers["ksat-region"] == "regionTwo"
    assert CONF.read_text() == text


def test_admin_passwords_are_kept_by_a_failed_postinst_and_gone_after_a_successful_one(deb: Path) -> None:
    dpkg_install(deb)
    preseed = "".join(
        f"{PACKAGE} {PACKAGE}/{name} {kind} {value}\n"
        for name, kind, value in [
            ("configure_ksat", "boolean", "true"),
            ("ksat-public-url", "string", "http://127.0.0.1:5000"),
            ("ksat-service-password", "password", SERVICE_SECRET),
            ("ksat-admin-password", "password", ADMIN_SECRET),
            ("configure_api-endpoint", "boolean", "true"),
            ("api-keystone-admin-password", "password", ADMIN_SECRET),
            ("api-endpoint-address", "string", "2001:db8::5"),
        ]
    )
    run("debconf-set-selections", stdin=preseed)
    assert selections(PACKAGE)["ksat-admin-password"] == ADMIN_SECRET
    # No Keystone answers here: postinst fails, says how to finish, and
    # keeps the answers for that.
    failed = run("dpkg-reconfigure", "-fnoninteractive", PACKAGE, check=False)
    assert failed.returncode != 0
    errors = [line for line in failed.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "dpkg --configure -a" in errors[0], failed.stderr
    assert ADMIN_SECRET not in failed.stdout + failed.stderr
    assert SERVICE_SECRET not in failed.stdout + failed.stderr
    assert selections(PACKAGE)["ksat-admin-password"] == ADMIN_SECRET
    assert selections(PACKAGE)["configure_ksat"] == "true"

    # The same run with nothing asked of Keystone succeeds, and forgets them.
    run(
        "debconf-set-selections",
        stdin=f"{PACKAGE} {PACKAGE}/ksat-create-service-user boolean false\n"
        f"{PACKAGE} {PACKAGE}/configure_api-endpoint boolean false\n",
    )
    result = run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
    answers = selections(PACKAGE)
    assert answers["ksat-admin-password"] == ""
    assert answers["api-keystone-admin-password"] == ""
    assert answers["ksat-service-password"] == ""
    assert answers["configure_ksat"] == "false"
    everything = run("debconf-get-selections").stdout
    assert ADMIN_SECRET not in everything
    assert SERVICE_SECRET not in everything
    assert ADMIN_SECRET not in result.stdout + result.stderr
    assert SERVICE_SECRET not in result.stdout + result.stderr


def test_a_bad_answer_is_refused_before_anything_changes(deb: Path) -> None:
    purge(PACKAGE)
    run(
        "debconf-set-selections",
        stdin=f"{PACKAGE} {PACKAGE}/configure_rabbit boolean true\n"
        f"{PACKAGE} {PACKAGE}/rabbit-host string  \n",
    )
    result = run("dpkg", "-i", str(deb), check=False)
    assert result.returncode != 0
    assert f"{PACKAGE}/rabbit-host is empty" in result.stderr
    assert not ETC.exists()
    assert not LIB.exists()
    purge(PACKAGE)


def test_apt_get_install_runs_config_twice_and_works(deb: Path) -> None:
    purge(PACKAGE)
    result = apt_install(deb)
    # apt-utils' dpkg-preconfigure runs config before unpacking; postinst runs it again.
    assert "Preconfiguring packages" in result.stdout
    assert "failed to preconfigure" not in result.stdout + result.stderr
    assert _mode(CONF) == (0o640, "root", PACKAGE)
    assert selections(PACKAGE)["configure_db"] == "false"


def test_purge_removes_everything_and_reinstall_works(deb: Path) -> None:
    dpkg_install(deb)
    (LIB / "state").write_text("data")
    run("debconf-set-selections", stdin=f"{PACKAGE} {PACKAGE}/purge-db boolean true\n")
    purge(PACKAGE)
    assert not ETC.exists()
    assert not LIB.exists()
    assert not LOG.exists()
    assert selections(PACKAGE) == {}
    dpkg_install(deb)
    assert _mode(CONF) == (0o640, "root", PACKAGE)
    assert not (LIB / "state").exists()


def test_shell_maintainer_scripts_work_the_same(workdir: Path) -> None:
    package = "pkgostest-shfoo"
    forget_everything(package)
    try:
        deb = _build(workdir, package, "--shell", postrm_block=DEBCONF_PURGE_BLOCK)
        result = apt_install(deb)
        assert "failed to preconfigure" not in result.stdout + result.stderr
        conf = Path(f"/etc/{package}/{package}.conf")
        assert _mode(conf) == (0o640, "root", package)
        run(
            "debconf-set-selections",
            stdin=f"{package} {package}/configure_ksat boolean true\n"
            f"{package} {package}/ksat-create-service-user boolean false\n"
            f"{package} {package}/ksat-service-password password {SERVICE_SECRET}\n"
            f"{package} {package}/ksat-admin-password password {ADMIN_SECRET}\n",
        )
        run("dpkg-reconfigure", "-fnoninteractive", package)
        assert selections(package)["ksat-admin-password"] == ""
        # debhelper's db_purge after the toolkit's line gets its answer: the
        # toolkit left the conversation open (a STOP made it wait forever).
        purged = run("timeout", "120", "dpkg", "--purge", package, check=False)
        assert purged.returncode == 0, purged.stderr
        assert not Path(f"/var/lib/{package}").exists()
        assert selections(package) == {}
    finally:
        forget_everything(package)


DB_SECRET = "Db&p@ss:/%#w$rd 'x\""


def _databases(server: MariaDB) -> set[str]:
    with server.admin_connect() as connection, connection.cursor() as cursor:
        cursor.execute("SHOW DATABASES")
        return {row[0] for row in cursor.fetchall()}


def test_database_is_created_written_synced_and_dropped_on_purge(deb: Path, local_mariadb: MariaDB) -> None:
    import pymysql

    from openstack_pkg_tools.urls import DatabaseUrl

    dpkg_install(deb)
    run(
        "debconf-set-selections",
        stdin="".join(
            f"{PACKAGE} {PACKAGE}/{name} {kind} {value}\n"
            for name, kind, value in [
                ("configure_db", "boolean", "true"),
                ("db-type", "select", "mysql"),
                ("db-host", "string", "127.0.0.1"),
                ("db-name", "string", "pkgostest_foo"),
                ("db-user", "string", "pkgostest_foo"),
                ("db-password", "password", DB_SECRET),
            ]
        ),
    )
    result = run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
    assert DB_SECRET not in result.stdout + result.stderr
    assert "pkgostest_foo" in _databases(local_mariadb)
    url = DatabaseUrl.parse(Path(CONF).read_text().split("connection = ", 1)[1].splitlines()[0])
    assert (url.user, url.password, url.database) == ("pkgostest_foo", DB_SECRET, "pkgostest_foo")
    # The URL read back from the file logs in.
    pymysql.connect(
        host="127.0.0.1", port=3306, user=url.user, password=url.password, database=url.database
    ).close()

    # Again, with the answers seeded from the config: nothing changes.
    before = _snapshot()
    run("debconf-set-selections", stdin=f"{PACKAGE} {PACKAGE}/configure_db boolean true\n")
    run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
    assert _snapshot() == before

    run("debconf-set-selections", stdin=f"{PACKAGE} {PACKAGE}/purge-db boolean true\n")
    purge(PACKAGE)
    assert "pkgostest_foo" not in _databases(local_mariadb)
    with local_mariadb.admin_connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM mysql.user WHERE user = 'pkgostest_foo'")
        assert cursor.fetchone() == (0,)


SERVICE_PASSWORD = "Svc$pa55&|w=rd"


def _keystone_preseed(server: KeystoneServer) -> str:
    return "".join(
        f"{PACKAGE} {PACKAGE}/{name} {kind} {value}\n"
        for name, kind, value in [
            ("configure_ksat", "boolean", "true"),
            ("ksat-public-url", "string", "http://127.0.0.1:5000"),
            ("ksat-region", "string", server.region),
            ("ksat-service-username", "string", "pkgostest-foo-svc"),
            ("ksat-service-password", "password", SERVICE_PASSWORD),
            ("ksat-admin-password", "password", server.admin_password),
            ("configure_api-endpoint", "boolean", "true"),
            ("api-keystone-address", "string", "127.0.0.1"),
            ("api-keystone-admin-password", "password", server.admin_password),
            ("api-endpoint-address", "string", "127.0.0.1"),
            ("api-endpoint-region-name", "string", server.region),
        ]
    )


def test_authtoken_service_user_and_catalog_against_a_real_keystone(
    deb: Path, local_keystone: KeystoneServer
) -> None:
    from oslo_config import cfg

    dpkg_install(deb)
    run("debconf-set-selections", stdin=_keystone_preseed(local_keystone))
    result = run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
    output = result.stdout + result.stderr
    assert local_keystone.admin_password not in output
    assert SERVICE_PASSWORD not in output
    assert "warning" not in output

    # The service reads its password verbatim through oslo.config...
    opts = cfg.ConfigOpts()
    names = ["www_authenticate_uri", "auth_url", "username", "password", "project_name", "region_name"]
    opts.register_opts([cfg.StrOpt(name) for name in names], group="keystone_authtoken")
    opts(["--config-file", str(CONF)], default_config_files=[], default_config_dirs=[])
    written = opts.keystone_authtoken
    assert (written.username, written.password) == ("pkgostest-foo-svc", SERVICE_PASSWORD)
    # ...and authenticates with what was written.
    assert keystone_session(
        written.auth_url + "/v3", written.username, written.password, written.project_name
    ).get_token()

    # The catalog has the service with its three endpoints.
    assert catalog(local_keystone, "pkgostest") == (
        [PACKAGE],
        [(interface, "http://127.0.0.1:9999/v1") for interface in ("admin", "internal", "public")],
    )
    assert selections(PACKAGE)["ksat-admin-password"] == ""
    assert selections(PACKAGE)["api-keystone-admin-password"] == ""

    # Again: nothing changes in Keystone or in the file.
    before = _snapshot()
    run("debconf-set-selections", stdin=_keystone_preseed(local_keystone))
    again = run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
    assert "Keystone:" not in again.stderr
    assert _snapshot() == before
