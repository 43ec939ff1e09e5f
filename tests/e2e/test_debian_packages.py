"""The toolkit's own Debian packages: they build, they are lintian clean,
and each holds what it should."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

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
        "python3-debconf, python3-debian, python3-jinja2, python3-keystoneauth1, python3-pymysql, "
        "python3-sh, python3-yaml, python3:any"
    )
    assert field(library, "Recommends") == "python3-psycopg2"
    files = contents(library)
    package = "./usr/lib/python3/dist-packages/openstack_pkg_tools/"
    for data in ("inifile.py", "profiles/glance.toml", "templates/db.templates.j2", "templates/po/de.po"):
        assert package + data in files
    assert not any(path.startswith("./usr/bin/") and path != "./usr/bin/" for path in files)


@pytest.mark.slow
def test_the_command_package_has_pkgos_and_its_manual(debs: dict[str, Path]) -> None:
    command = debs["openstack-pkg-tools"]
    assert field(command, "Depends").startswith("python3, python3-openstack-pkg-tools (= ")
    files = contents(command)
    for command in ("pkgos", "build-openstack-debian-image"):
        assert f"./usr/bin/{command}" in files
        assert f"./usr/share/man/man1/{command}.1.gz" in files
