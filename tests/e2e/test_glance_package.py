"""A real OpenStack service installed by apt-get from a generated preseed, with no question asked.

The Glance package that ``make demo-short`` installs (``demo/packages/glance``;
Depends: python3-glance, Debian's Glance code) is built here as
``pkgostest-e2e-glance``, its debconf side from its service profile with
``pkgos gen-debian``; it carries a default glance-api.conf. A site file names 127.0.0.1 for
everything; ``pkgos preseed generate`` turns it into the controller's
preseed, whose glance answers are the only ones given to debconf. The
package then installs with DEBIAN_FRONTEND=noninteractive against a
throwaway MariaDB and a real Keystone, is reconfigured, upgraded, purged
and installed again. While dpkg runs, every process's argv is scanned for
the test's passwords.

The package uses the real question prefix ``glance/`` (so the generated
preseed applies as it would to Debian's glance-common and glance-api) but
its own name, system user and directories, so as not to clash with
Debian's glance packages.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openstack_pkg_tools.build.templates import render
from openstack_pkg_tools.questions import Family, of_family, switch_of
from openstack_pkg_tools.urls import DatabaseUrl
from tests.e2e.debhelpers import (
    ArgvWatch,
    answers,
    apt_install,
    build_consumer,
    catalog,
    forget_everything,
    forget_questions,
    generated_preseed,
    keystone_session,
    package_workdir,
    purge,
    run,
    tables,
)
from tests.servers.keystone import KeystoneServer
from tests.servers.mariadb import MariaDB

PACKAGE = "pkgostest-e2e-glance"
PREFIX = "glance"
ETC = Path(f"/etc/{PACKAGE}")
CONF = ETC / "glance-api.conf"
LIB = Path(f"/var/lib/{PACKAGE}")
LOG = Path(f"/var/log/{PACKAGE}")
# Characters the reference tools corrupt: & | @ : / % # = $ and a space-free
# mix, so that the preseed line stays one token.
DB_PASSWORD = "Gl&nce|p@ss:/%#w=rd$1"
SERVICE_PASSWORD = "Svc$pa55&|w=rd@glance"
DATABASE = "glance"
GLANCE_TABLES = 14
# The owners the generated preseed gives the glance questions (Debian's packages).
PRESEED_OWNERS = ("glance-common", "glance-api")

pytestmark = pytest.mark.slow


def build(workdir: Path, version: str) -> Path:
    """The demo's Glance package at ``version``, its debconf side generated from its profile."""
    return build_consumer(workdir, "glance", PACKAGE, version)


def generate_preseed(workdir: Path, keystone: KeystoneServer) -> str:
    """The glance lines of the controller's preseed generated from a test site file."""
    passwords = {
        "keystone-admin": keystone.admin_password,
        "glance-db": DB_PASSWORD,
        "glance-keystone": SERVICE_PASSWORD,
    }
    return generated_preseed(workdir, PREFIX, keystone.region, passwords)


def cleanup() -> None:
    forget_everything(PACKAGE)
    forget_questions(*PRESEED_OWNERS)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with package_workdir("pkgostest-e2e-glance.", cleanup) as path:
        yield path


def database_users(server: MariaDB) -> list[str]:
    with server.admin_connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT user FROM mysql.user WHERE user = %s", (DATABASE,))
        return [row[0] for row in cursor.fetchall()]


def written_authtoken() -> Any:
    """[keystone_authtoken] of glance-api.conf as Glance reads it (oslo.config)."""
    from oslo_config import cfg

    opts = cfg.ConfigOpts()
    names = ["www_authenticate_uri", "auth_url", "username", "password", "project_name", "region_name"]
    opts.register_opts([cfg.StrOpt(name) for name in names], group="keystone_authtoken")
    opts.register_opts([cfg.StrOpt("connection")], group="database")
    opts(["--config-file", str(CONF)], default_config_files=[], default_config_dirs=[])
    return opts


def token_for(auth: Any) -> str:
    """A token for the service user of [keystone_authtoken] ``auth``."""
    session = keystone_session(auth.auth_url + "/v3", auth.username, auth.password, auth.project_name)
    token: str = session.get_token()
    return token


def snapshot() -> dict[str, tuple[int, int, bytes]]:
    """Content and modification time of the files postinst writes."""
    return {str(path): (path.stat().st_mtime_ns, path.stat().st_mode, path.read_bytes()) for path in [CONF]}


def _untranslated(text: str) -> dict[str, dict[str, str]]:
    """Template stanzas by name, without their translations (po2debconf's Field-ll fields)."""
    from debian.deb822 import Deb822

    stanzas = {}
    for stanza in Deb822.iter_paragraphs(text.splitlines()):
        fields = {key.lstrip("_"): value for key, value in stanza.items() if "-" not in key}
        stanzas[fields["Template"]] = fields
    return stanzas


def assert_templates_are_the_table(installed: str) -> None:
    """Every shared question the package ships is the table's, and every family it ships is whole."""
    ours = _untranslated("\n\n".join(render(PREFIX, tuple(Family))))
    shipped = {
        name: fields for name, fields in _untranslated(installed).items() if name.startswith(f"{PREFIX}/")
    }
    assert shipped == {name: ours[name] for name in shipped}
    families = {
        family
        for family in Family
        if (switch := switch_of(family)) is not None and switch.full_name(PREFIX) in shipped
    }
    assert families == {Family.DB, Family.RABBIT, Family.KSAT, Family.ENDPOINT}
    assert set(shipped) == {q.full_name(PREFIX) for family in families for q in of_family(family)}


def test_glance_installs_from_a_generated_preseed_and_survives_its_life_cycle(
    workdir: Path, local_mariadb: MariaDB, local_keystone: KeystoneServer
) -> None:
    first, second = build(workdir, "1.0"), build(workdir, "2.0")
    preseed = generate_preseed(workdir, local_keystone)
    assert f"{PREFIX}/db-password password {DB_PASSWORD}" in preseed
    secrets = [DB_PASSWORD, SERVICE_PASSWORD, local_keystone.admin_password]

    with ArgvWatch(secrets) as watch:
        run("debconf-set-selections", stdin=preseed)
        installed = apt_install(first)
        output = installed.stdout + installed.stderr
        # Nothing asked, nothing leaked, nothing left for later.
        assert "failed to preconfigure" not in output
        assert not any(secret in output for secret in secrets)
        assert "warning" not in output

        # The templates the package ships are the question table, rendered.
        assert_templates_are_the_table(Path(f"/var/lib/dpkg/info/{PACKAGE}.templates").read_text())

        # The database: created, its URL written, migrated by Glance itself.
        assert len(tables(local_mariadb, DATABASE)) == GLANCE_TABLES
        opts = written_authtoken()
        url = DatabaseUrl.parse(opts.database.connection)
        assert (url.user, url.password, url.database) == (DATABASE, DB_PASSWORD, DATABASE)
        # The catalog: the image service, three interfaces.
        assert catalog(local_keystone, "image") == (
            ["glance"],
            [(interface, "http://127.0.0.1:9292") for interface in ("admin", "internal", "public")],
        )
        # The service user logs in with what glance-api.conf says, read as Glance reads it.
        auth = opts.keystone_authtoken
        assert (auth.username, auth.password, auth.region_name) == (
            "glance",
            SERVICE_PASSWORD,
            local_keystone.region,
        )
        assert token_for(auth)
        # The administrator's password was used once and forgotten; the
        # service's too: glance-api.conf holds it, config reads it from there.
        kept = answers(PREFIX)
        assert kept["ksat-admin-password"] == ""
        assert kept["api-keystone-admin-password"] == ""
        assert kept["db-password"] == kept["ksat-service-password"] == ""

        # dpkg-reconfigure changes nothing, with or without the preseed loaded again.
        before = snapshot()
        schema = tables(local_mariadb, DATABASE)
        again = run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
        assert f"{PACKAGE}: already set up: nothing changed." in again.stderr
        run("debconf-set-selections", stdin=preseed)
        again = run("dpkg-reconfigure", "-fnoninteractive", PACKAGE)
        assert "Keystone:" not in again.stderr
        assert "wrote" not in again.stderr
        assert snapshot() == before
        assert tables(local_mariadb, DATABASE) == schema

        # An upgrade keeps every answer and password, and migrates again.
        answered = answers(PREFIX)
        upgraded = apt_install(second)
        assert f"{PACKAGE}: ran the database migrations of {PACKAGE}" in upgraded.stdout + upgraded.stderr
        assert answers(PREFIX) == answered
        assert snapshot()[str(CONF)][2] == before[str(CONF)][2]
        assert token_for(auth)

        # Purge removes the database, its user and the files.
        run("debconf-set-selections", stdin=f"{PACKAGE} {PREFIX}/purge-db boolean true\n")
        purge(PACKAGE)
        assert tables(local_mariadb, DATABASE) == set()
        assert database_users(local_mariadb) == []
        assert not ETC.exists()
        assert not LIB.exists()
        assert not LOG.exists()

        # Installing again after the purge works, from the same preseed.
        run("debconf-set-selections", stdin=preseed)
        apt_install(second)
        assert len(tables(local_mariadb, DATABASE)) == GLANCE_TABLES
        auth = written_authtoken().keystone_authtoken
        assert token_for(auth)

    assert watch.scans > 10
    assert watch.found == []


def test_the_argv_watch_sees_a_secret_on_a_command_line() -> None:
    canary = "pkgostest-canary-" + os.urandom(6).hex()
    with ArgvWatch([canary]) as watch:
        subprocess.run(["/usr/bin/python3", "-c", "import time; time.sleep(0.3)", canary], check=True)
    assert any(canary in argv for argv in watch.found)
