"""Debian's own glance-api, rewired, installed by apt-get from the signed archive.

The archive holds the rewired glance-api, the toolkit's own packages
(built from this tree), and, unchanged, the Debian packages glance-api
needs that the test machine may lack (glance-common of the version of the
installed python3-glance, and three small ones). apt reads that archive
alone, through a private sources list, lists and cache: nothing else is
upgraded. Every package, file, user and answer the install adds is removed
afterwards. With the endpoint answers of a generated preseed and nothing
asked, the rewired postinst (the toolkit's) registers Glance in a real
Keystone, dpkg-reconfigure changes nothing, and a purge runs debhelper's
blocks after the toolkit's.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.debhelpers import (
    CACHE,
    ROOT,
    catalog,
    forget_questions,
    generated_preseed,
    package_workdir,
    pkgos,
    run,
)
from tests.e2e.test_rewire import private_apt
from tests.servers.keystone import KeystoneServer

# Debian's packages glance-api pulls in besides python3-glance (installed
# for the test suite), taken unchanged from Debian's archive; sqlite3 is
# python3-q-text-as-data's, which a fresh machine does not have.
DEBIAN_EXTRA = (
    "glance-common",
    "python3-q-text-as-data",
    "python3-pastescript",
    "dbconfig-common",
    "sqlite3",
)
TOOLKIT = ("openstack-pkg-tools", "python3-openstack-pkg-tools")
ENV = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
    "HOME": "/root",
}


def _installed(package: str) -> str:
    """The installed version of ``package``, empty when it is not installed."""
    result = run("dpkg-query", "-W", "-f", "${Version} ${db:Status-Abbrev}", package, check=False)
    version, _, status = result.stdout.partition(" ")
    return version if result.returncode == 0 and status.startswith("ii") else ""


def _download(package: str, version: str = "") -> Path:
    """``package`` (of ``version``) from Debian's archive, into the cache once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    pattern = f"{package}_{version.replace(':', '%3a')}_*.deb" if version else f"{package}_*.deb"
    found = sorted(CACHE.glob(pattern))
    if not found:
        run("apt-get", "download", f"{package}={version}" if version else package, cwd=str(CACHE))
        found = sorted(CACHE.glob(pattern))
    assert len(found) == 1, found
    return found[0]


@contextmanager
def _undone(packages: tuple[str, ...]) -> Iterator[None]:
    """Put back, after the block, what Debian's glance-common changes outside dpkg's records."""
    new = [package for package in packages if not _installed(package)]
    had_user = _exists("glance")
    etc = Path("/etc/glance")
    before = etc.stat() if etc.exists() else None
    files = set(etc.rglob("*")) if etc.exists() else set()
    try:
        yield
    finally:
        run("dpkg", "--purge", *new, check=False, env=ENV)
        forget_questions("glance-common", "glance-api", "dbconfig-common")
        if not had_user and _exists("glance"):
            run("deluser", "glance", check=False)
            run("delgroup", "glance", check=False)
        if before is not None:
            for path in sorted(set(etc.rglob("*")) - files, reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
            os.chown(etc, before.st_uid, before.st_gid)
            etc.chmod(stat.S_IMODE(before.st_mode))
        elif etc.exists():
            shutil.rmtree(etc)


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


@pytest.mark.slow
def test_rewired_glance_api_installs_from_the_signed_archive_and_registers_glance(
    local_keystone: KeystoneServer,
) -> None:
    version = _installed("python3-glance")
    assert version, "the test suite's python3-glance is not installed: run make check"
    packages = ("glance-api", *DEBIAN_EXTRA, *TOOLKIT)
    with _undone(packages), package_workdir("pkgostest-rewire-install.", lambda: None) as workdir:
        archive = workdir / "archive"
        pkgos("rewire", str(_download("glance-api", version)), "--output-dir", str(archive))
        run(str(ROOT / "tools" / "build-debs"), str(workdir / "toolkit"))
        debian = [_download("glance-common", version), *map(_download, DEBIAN_EXTRA[1:])]
        for deb in [*(workdir / "toolkit").glob("*.deb"), *debian]:
            shutil.copy(deb, archive)
        line = pkgos("archive", str(archive), "--key-dir", str(workdir / "key")).stdout.strip()

        options = [*private_apt(workdir / "apt", line), "-oDPkg::Lock::Timeout=900"]
        run("apt-get", *options, "update", env=ENV)

        # Only the endpoint answers: Debian's glance-common keeps its own
        # (dbconfig-common) questions at their defaults.
        passwords = {"keystone-admin": local_keystone.admin_password}
        preseed = generated_preseed(workdir, "glance", local_keystone.region, passwords)
        endpoint = "".join(
            f"{line}\n"
            for line in preseed.splitlines()
            if "/api-" in line or "configure_api-endpoint" in line
        )
        assert "glance/configure_api-endpoint boolean true" in endpoint
        run("debconf-set-selections", stdin=endpoint)
        install = run(
            "apt-get", *options, "install", "-y", "-q", "--no-install-recommends", "glance-api", env=ENV
        )
        assert _installed("glance-api") == f"{version}+pkgos1", install.stdout
        assert _installed("python3-glance") == version
        assert "pkgos maintscript" in Path("/var/lib/dpkg/info/glance-api.postinst").read_text()
        names, endpoints = catalog(local_keystone, "image")
        assert names == ["glance"]
        assert [interface for interface, _ in endpoints] == ["admin", "internal", "public"]

        run("dpkg-reconfigure", "glance-api", env=ENV)
        assert catalog(local_keystone, "image") == (names, endpoints)

        # debhelper's db_purge block runs after the toolkit's postrm: the
        # conversation must still be open for it (a closed one hangs dpkg).
        run("timeout", "120", "dpkg", "--purge", "glance-api", env=ENV)
        assert not _installed("glance-api")
        assert run("debconf-show", "glance-api", check=False).stdout == ""
