"""Meta-package definitions and the control data built from them."""

from __future__ import annotations

import datetime
import gzip
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from debian.changelog import Changelog
from debian.deb822 import Deb822, PkgRelation

from openstack_pkg_tools import cli
from openstack_pkg_tools.build import metapkg
from openstack_pkg_tools.errors import CommandError, ConfigFileError

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "meta-packages"

MINIMAL = """\
name = "openstack-test-node"
version = "1.2"
release = "bookworm"
date = 2026-01-02
maintainer = "Test Maintainers <test@example.org>"
summary = "a test node"
description = \"\"\"
First paragraph of the description.

Second paragraph.\"\"\"
depends = ["chrony", "nova-compute-kvm | nova-compute-qemu"]
"""


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pkgos-test-metapkg-"))
    yield path
    shutil.rmtree(path)


def write(directory: Path, text: str = MINIMAL, name: str = "openstack-test-node") -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text)
    return path


def relation_names(package: metapkg.MetaPackage) -> set[str]:
    names = set()
    for items in package.relations().values():
        for item in items:
            names.update(alt["name"] for group in PkgRelation.parse_relations(item) for alt in group)
    return names


def test_the_shipped_definitions_load() -> None:
    packages = {package.name: package for package in metapkg.load_all(DEFINITIONS)}
    assert set(packages) == {
        "openstack-clients",
        "openstack-cloud-identity",
        "openstack-cloud-services",
        "openstack-compute-node",
        "openstack-network-node",
        "openstack-proxy-node",
        "openstack-storage-node",
        "openstack-toaster",
    }
    assert {package.release for package in packages.values()} == {"bookworm"}
    assert "nova-compute-kvm | nova-compute-qemu" in packages["openstack-compute-node"].depends
    assert packages["openstack-proxy-node"].pre_depends == ("openstack-cloud-identity",)
    assert packages["openstack-cloud-identity"].pre_depends == ("openstack-cloud-services",)


def test_shipped_definitions_name_real_packages_not_transitional_ones() -> None:
    names = set().union(*(relation_names(package) for package in metapkg.load_all(DEFINITIONS)))
    # ntp, glance and neutron-server are transitional in Debian 12;
    # mysql-server is virtual.
    assert not names & {"ntp", "glance", "neutron-server", "mysql-server"}
    assert {"chrony", "default-mysql-server", "glance-api", "neutron-api", "neutron-rpc-server"} <= names


def test_control_stanza_fields_and_description(workdir: Path) -> None:
    package = metapkg.load(write(workdir))
    text = metapkg.control_stanza(package, 7).dump()
    assert list(Deb822(text)) == [
        "Package",
        "Version",
        "Architecture",
        "Maintainer",
        "Installed-Size",
        "Depends",
        "Section",
        "Priority",
        "Description",
    ]
    assert text.endswith(
        "Depends: chrony, nova-compute-kvm | nova-compute-qemu\n"
        "Section: metapackages\n"
        "Priority: optional\n"
        "Description: a test node\n"
        " First paragraph of the description.\n"
        " .\n"
        " Second paragraph.\n"
    )
    assert "Installed-Size: 7\n" in text


def test_changelog_parses_and_is_reproducible(workdir: Path) -> None:
    package = metapkg.load(write(workdir))
    changelog = Changelog(metapkg.changelog(package))
    assert str(changelog.version) == "1.2"
    assert changelog.distributions == "bookworm"
    assert changelog.date == "Fri, 02 Jan 2026 00:00:00 +0000"
    tree = metapkg.package_tree(package)
    assert tree == metapkg.package_tree(package)
    assert gzip.decompress(
        tree["usr/share/doc/openstack-test-node/changelog.gz"]
    ).decode() == metapkg.changelog(package)
    assert "License: Apache-2.0" in tree["usr/share/doc/openstack-test-node/copyright"].decode()


def test_installed_size_counts_kib_per_file_like_dpkg() -> None:
    assert metapkg.installed_size({"a": b"x" * 1025, "b": b"y"}) == 2 + 1 + 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('version = "1.2"', 'version = "1.2"\nflavour = "x"'), "flavour: unknown key"),
        (('"chrony"', '"chrony, ntp"'), "invalid relation 'chrony, ntp'"),
        (('"chrony"', '"Chrony!"'), "invalid relation 'Chrony!'"),
        (("date = 2026-01-02", 'date = "yesterday"'), "date: expected a TOML date"),
        (('summary = "a test node"', 'summary = ""'), "summary: '' is not a non-empty string"),
        (('summary = "a test node"', ""), "summary: missing"),
        (('version = "1.2"', 'version = "1.2-1"'), "not a native version"),
        (
            ('maintainer = "Test Maintainers <test@example.org>"', 'maintainer = "nobody"'),
            "'maintainer' must",
        ),
        (('name = "openstack-test-node"', 'name = "openstack-other"'), "differs from the file name"),
        (('depends = ["chrony", "nova-compute-kvm | nova-compute-qemu"]', ""), "needs 'depends'"),
        (("release", "release = = "), "not valid TOML"),
    ],
)
def test_bad_definitions_are_refused_naming_the_file(
    workdir: Path, change: tuple[str, str], message: str
) -> None:
    path = write(workdir, MINIMAL.replace(*change, 1))
    with pytest.raises(ConfigFileError, match=message) as error:
        metapkg.load(path)
    assert str(path) in str(error.value)


def test_an_empty_folder_is_an_error(workdir: Path) -> None:
    with pytest.raises(ConfigFileError, match="holds no meta-package definition"):
        metapkg.load_all(workdir)


def test_date_is_a_date_not_a_datetime(workdir: Path) -> None:
    with pytest.raises(ConfigFileError, match="TOML date"):
        metapkg.load(write(workdir, MINIMAL.replace("date = 2026-01-02", "date = 2026-01-02T10:00:00Z")))
    assert metapkg.load(write(workdir)).date == datetime.date(2026, 1, 2)


def test_cli_control_prints_every_stanza(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["metapkg", "control", "--definitions", str(DEFINITIONS)]) == 0
    stanzas = list(Deb822.iter_paragraphs(capsys.readouterr().out.splitlines()))
    assert [stanza["Package"] for stanza in stanzas] == [p.name for p in metapkg.load_all(DEFINITIONS)]


def test_cli_build_of_an_unknown_name_changes_nothing(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        [
            "metapkg",
            "build",
            "--definitions",
            str(DEFINITIONS),
            "--output",
            str(workdir),
            "openstack-cmopute-node",
        ]
    )
    assert code == 2
    assert "No definition of meta-package 'openstack-cmopute-node'" in capsys.readouterr().err
    assert list(workdir.iterdir()) == []


def test_a_failed_dpkg_deb_leaves_nothing_behind(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = metapkg.load(write(workdir))
    calls: list[tuple[list[str], dict[str, str]]] = []
    stages: list[Path] = []

    def failing_run(argv: list[str], *, env: dict[str, str], hint: str) -> None:
        calls.append((argv, env))
        stages.append(Path(argv[-2]).parent)
        assert (Path(argv[-2]) / "DEBIAN" / "control").is_file()
        raise CommandError(" ".join(argv), exit_code=2, stderr="dpkg-deb: error: disk full")

    monkeypatch.setattr(metapkg, "run", failing_run)
    output = workdir / "out"
    with pytest.raises(CommandError, match="disk full"):
        metapkg.build(package, output)
    root, deb = str(stages[0] / "root"), str(stages[0] / "openstack-test-node_1.2_all.deb")
    assert calls == [
        (
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, deb],
            # 2026-01-02T00:00:00Z, the definition's date.
            {"SOURCE_DATE_EPOCH": "1767312000"},
        )
    ]
    assert not stages[0].exists()
    assert not output.exists()
