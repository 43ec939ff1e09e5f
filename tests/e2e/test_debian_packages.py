"""The toolkit's own Debian packages: they build, they are lintian clean,
each holds what it should, and once installed they configure a service."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from demo.consumers import Consumer, build
from tests.e2e.debhelpers import (
    catalog,
    forget_everything,
    forget_questions,
    generated_preseed,
    package_workdir,
    run,
    tables,
)
from tests.servers.keystone import KeystoneServer
from tests.servers.mariadb import MariaDB

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def debs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("debs")
    subprocess.run([str(ROOT / "tools" / "build-debs"), str(out)], check=True, capture_output=True, text=True)
    return {path.name.split("_")[0]: path for path in out.glob("*.deb")}


def field(deb: Path, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), name], check=True, capture_output=True, text=True
    ).stdout.strip()


def contents(deb: Path) -> list[str]:
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], check=True, capture_output=True, text=True).stdout
    return [line.split()[-1] for line in listing.splitlines()]


@pytest.mark.slow
def test_both_packages_are_built(debs: dict[str, Path]) -> None:
    assert sorted(debs) == ["openstack-pkg-tools", "python3-openstack-pkg-tools"]


@pytest.mark.slow
def test_lintian_finds_nothing(debs: dict[str, Path]) -> None:
    result = subprocess.run(
        ["lintian", "--pedantic", "--fail-on", "error,warning,info,pedantic", *map(str, debs.values())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


@pytest.mark.slow
def test_the_library_depends_only_on_debian_packages(debs: dict[str, Path]) -> None:
    library = debs["python3-openstack-pkg-tools"]
    assert field(library, "Depends") == (
        "python3-debconf, python3-debian, python3-keystoneauth1, python3-pymysql, "
        "python3-sh, python3-yaml, python3:any"
    )
    assert field(library, "Recommends") == "python3-psycopg2"
    files = contents(library)
    package = "./usr/lib/python3/dist-packages/openstack_pkg_tools/"
    for data in (
        "inifile.py",
        "profiles/glance.toml",
        "maintscript/phases.py",
        "preseed/check.py",
        "templates/po/de.po",
    ):
        assert package + data in files
    assert not any(path.startswith("./usr/bin/") and path != "./usr/bin/" for path in files)


@pytest.mark.slow
def test_the_packages_sort_above_debians_shell_library_and_replace_the_image_builder(
    debs: dict[str, Path],
) -> None:
    """Debian's openstack-pkg-tools is 123: ours must sort above it, or apt-get upgrade puts it back."""
    from openstack_pkg_tools.build.rewirer import toolkit_version

    for deb in debs.values():
        assert field(deb, "Version") == toolkit_version()
        subprocess.run(["dpkg", "--compare-versions", field(deb, "Version"), "gt", "123"], check=True)
    # It ships build-openstack-debian-image and its manual page, as openstack-debian-images does.
    command = debs["openstack-pkg-tools"]
    assert field(command, "Conflicts") == "openstack-debian-images"
    assert field(command, "Replaces") == "openstack-debian-images"


@pytest.mark.slow
def test_the_command_package_has_pkgos_and_its_manual(debs: dict[str, Path]) -> None:
    command = debs["openstack-pkg-tools"]
    assert field(command, "Depends").startswith("python3, python3-openstack-pkg-tools (= ")
    files = contents(command)
    for command in ("pkgos", "build-openstack-debian-image"):
        assert f"./usr/bin/{command}" in files
        assert f"./usr/share/man/man1/{command}.1.gz" in files


# The packages as a user gets them: no source tree on any path, the pkgos
# of /usr/bin, the library of /usr/lib/python3/dist-packages.
INSTALLED_ENV = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
    "HOME": "/root",
}
CONSUMER = "pkgostest-e2e-installed-glance"
TOOLKIT = ("python3-openstack-pkg-tools", "openstack-pkg-tools")


def installed_run(*argv: str, stdin: str = "") -> str:
    # From /, so that not even python3 -c finds the source tree in its working directory.
    return run(*argv, stdin=stdin, env=INSTALLED_ENV, cwd="/").stdout


def forget_installed() -> None:
    run("debconf-set-selections", stdin=f"{CONSUMER} glance/purge-db boolean true\n")
    forget_everything(CONSUMER)
    forget_questions("glance-common", "glance-api")
    run("dpkg", "--purge", *TOOLKIT, check=False)


@pytest.mark.slow
def test_the_installed_packages_configure_glance_from_a_preseed(
    debs: dict[str, Path], local_mariadb: MariaDB, local_keystone: KeystoneServer
) -> None:
    with package_workdir("pkgostest-e2e-installed.", forget_installed) as workdir:
        apt = ("apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=900")
        installed_run(*apt, *(str(debs[name]) for name in TOOLKIT))
        library = installed_run(
            "/usr/bin/python3", "-c", "import openstack_pkg_tools; print(openstack_pkg_tools.__file__)"
        )
        assert library.startswith("/usr/lib/python3/dist-packages/")

        consumer = Consumer("glance", CONSUMER, "1.0")  # depends on openstack-pkg-tools
        deb = build(consumer, workdir, ["/usr/bin/pkgos"], lambda argv: installed_run(*argv))
        passwords = {"keystone-admin": local_keystone.admin_password}
        preseed = generated_preseed(workdir, "glance", local_keystone.region, passwords)
        installed_run("debconf-set-selections", stdin=preseed)
        installed_run(*apt, str(deb))

        assert len(tables(local_mariadb, "glance")) == 14
        assert catalog(local_keystone, "image")[0] == ["glance"]
        assert "auth_url = http://127.0.0.1:5000\n" in Path(f"/etc/{CONSUMER}/glance-api.conf").read_text()

        # The toolkit removed first (as apt-get autoremove would), the
        # package still purges: its postrm says what stays, and succeeds.
        run("dpkg", "--remove", CONSUMER)
        run("dpkg", "--purge", *TOOLKIT)
        purged = run("dpkg", "--purge", CONSUMER, env=INSTALLED_ENV, cwd="/")
        assert f"{CONSUMER}: pkgos (openstack-pkg-tools) is not installed" in purged.stderr
        assert f"/etc/{CONSUMER}/glance-api.conf" in purged.stderr
        status = run("dpkg-query", "-W", "-f", "${db:Status-Abbrev}", CONSUMER, check=False).stdout
        assert status.strip() in ("", "un")
