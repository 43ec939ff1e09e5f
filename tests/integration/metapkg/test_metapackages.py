"""The built meta-packages: reproducible, lintian clean, installable from Debian 12's archive.

The installability check puts the built packages in a local flat repository
(dpkg-scanpackages) and runs ``apt-get install --simulate`` of each with a
private apt configuration: the machine's Debian 12 sources and their
downloaded package lists (copied, so nothing is fetched when the machine
already has them), the flat repository, private cache and state
directories, and an EMPTY dpkg status file. With an empty status the answer
does not depend on what happens to be installed on the machine running the
test: every dependency, down to libc, must resolve from the archive alone.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from debian.deb822 import Deb822, PkgRelation

from openstack_pkg_tools.build import metapkg

ROOT = Path(__file__).resolve().parents[3]
DEFINITIONS = ROOT / "meta-packages"
PACKAGES = metapkg.load_all(DEFINITIONS)
BROKEN = "openstack-pkgos-test-broken"
MISSING = "pkgos-test-no-such-package"
BROKEN_DEFINITION = f"""\
name = "{BROKEN}"
version = "1.0"
release = "bookworm"
date = 2026-01-01
maintainer = "Test Maintainers <test@example.org>"
summary = "a meta-package with a dependency no archive has"
description = "Used by the test that checks missing dependencies are reported by name."
depends = ["chrony", "{MISSING}", "default-mysql-server"]
"""


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def pkgos(*argv: str) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "openstack_pkg_tools", *argv)


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pkgos-test-metapkg-"))
    yield path
    shutil.rmtree(path)


@pytest.fixture(scope="session")
def built(workdir: Path) -> Path:
    """The shipped meta-packages, built with ``pkgos metapkg build``."""
    output = workdir / "debs"
    result = pkgos("metapkg", "build", "--definitions", str(DEFINITIONS), "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(output / package.deb_name) for package in PACKAGES]
    return output


@pytest.fixture(scope="session")
def repository(workdir: Path, built: Path) -> Path:
    """A flat repository with the built packages and one broken on purpose."""
    repo = workdir / "repo"
    definitions = workdir / "broken"
    definitions.mkdir()
    (definitions / f"{BROKEN}.toml").write_text(BROKEN_DEFINITION)
    result = pkgos("metapkg", "build", "--definitions", str(definitions), "--output", str(repo))
    assert result.returncode == 0, result.stderr
    for deb in built.glob("*.deb"):
        shutil.copy(deb, repo)
    scan = subprocess.run(
        ["dpkg-scanpackages", "--multiversion", "."], cwd=repo, capture_output=True, text=True, check=True
    )
    (repo / "Packages").write_text(scan.stdout)
    return repo


def debian_sources() -> list[Path]:
    """The machine's apt sources for Debian 12 (other vendors' repositories left out)."""
    candidates = [Path("/etc/apt/sources.list"), *map(Path, glob.glob("/etc/apt/sources.list.d/*"))]
    return [
        path
        for path in candidates
        if path.is_file() and path.suffix in (".list", ".sources") and "bookworm" in path.read_text()
    ]


@pytest.fixture(scope="session")
def apt(workdir: Path, repository: Path) -> list[str]:
    """apt-get/apt-cache options of a private configuration that sees Debian 12 and the flat repository."""
    base = workdir / "apt"
    etc, lists = base / "etc", base / "lists"
    for directory in (etc / "sources.list.d", etc / "preferences.d", etc / "apt.conf.d", lists / "partial"):
        directory.mkdir(parents=True)
    sources = debian_sources()
    assert sources, "no apt source for Debian 12 (bookworm) in /etc/apt"
    for number, source in enumerate(sources):
        shutil.copy(source, etc / "sources.list.d" / f"{number}-{source.name}")
    (etc / "flat.list").write_text(f"deb [trusted=yes] file:{repository} ./\n")
    (base / "status").write_text("")
    architecture = run("dpkg", "--print-architecture").stdout.strip()
    options = [
        "-o", f"Dir::Etc={etc}",
        "-o", f"Dir::Etc::sourcelist={etc / 'flat.list'}",
        "-o", f"Dir::Etc::sourceparts={etc / 'sources.list.d'}",
        "-o", f"Dir::Etc::preferencesparts={etc / 'preferences.d'}",
        "-o", f"Dir::Etc::parts={etc / 'apt.conf.d'}",
        "-o", f"Dir::State::Lists={lists}",
        "-o", f"Dir::State::status={base / 'status'}",
        "-o", f"Dir::Cache={base / 'cache'}",
        "-o", f"Dir::Cache::pkgcache={base / 'cache' / 'pkgcache.bin'}",
        "-o", f"Dir::Cache::srcpkgcache={base / 'cache' / 'srcpkgcache.bin'}",
        "-o", "Debug::NoLocking=1",
        "-o", f"APT::Architecture={architecture}",
        "-o", f"APT::Architectures={architecture}",
    ]  # fmt: skip
    (base / "cache" / "archives" / "partial").mkdir(parents=True)
    machine_lists = [path for path in glob.glob("/var/lib/apt/lists/*") if os.path.isfile(path)]
    if any("_Packages" in path for path in machine_lists):
        for path in machine_lists:
            shutil.copy(path, lists)
        # Only the flat repository is read anew; the archive's lists are the machine's.
        only_flat = ["-o", "Dir::Etc::sourceparts=-", "-o", "APT::Get::List-Cleanup=0"]
        result = run("apt-get", *options, *only_flat, "update")
    else:
        result = run("apt-get", *options, "update")
    assert result.returncode == 0, result.stdout + result.stderr
    return options


def simulate(apt: list[str], name: str) -> subprocess.CompletedProcess[str]:
    return run("apt-get", *apt, "install", "--simulate", "--no-install-recommends", "-q", name)


UNMET = re.compile(r"^\s*(?:(\S+) : )?(?:Pre-)?Depends: (\S+).* but (.*)$")


def missing_dependencies(apt_output: str) -> list[str]:
    """The packages apt cannot find, by name, each with the package that needs it."""
    missing = []
    parent = ""
    for line in apt_output.splitlines():
        match = UNMET.match(line)
        if match is None:
            continue
        parent = match.group(1) or parent
        name, reason = match.group(2), match.group(3)
        if "not installable" in reason or "virtual package" in reason:
            missing.append(f"{name} (needed by {parent})")
    unknown = re.findall(r"^E: Unable to locate package (\S+)", apt_output, re.M)
    return missing + [f"{name} (asked for)" for name in unknown]


@pytest.mark.slow
@pytest.mark.parametrize("name", [package.name for package in PACKAGES])
def test_installable_from_debian_12(apt: list[str], built: Path, name: str) -> None:
    result = simulate(apt, name)
    output = result.stdout + result.stderr
    assert result.returncode == 0, (
        f"{name} cannot be installed; missing: {missing_dependencies(output)}\n{output}"
    )
    installed = re.findall(r"^Inst (\S+)", result.stdout, re.M)
    assert name in installed
    # Every alternative group is satisfied by a package that gets installed.
    deb = next(package.deb_name for package in PACKAGES if package.name == name)
    control = Deb822(run("dpkg-deb", "-f", str(built / deb)).stdout)
    for field in ("Pre-Depends", "Depends"):
        relations = PkgRelation.parse_relations(control[field]) if field in control else []
        for group in relations:
            assert any(alt["name"] in installed for alt in group), f"{name}: {group} not installed"


@pytest.mark.slow
def test_missing_dependencies_are_reported_by_name(apt: list[str]) -> None:
    result = simulate(apt, BROKEN)
    assert result.returncode == 100
    assert missing_dependencies(result.stdout + result.stderr) == [f"{MISSING} (needed by {BROKEN})"]
    result = simulate(apt, "pkgos-test-not-a-package-either")
    assert missing_dependencies(result.stdout + result.stderr) == [
        "pkgos-test-not-a-package-either (asked for)"
    ]


def test_recommended_and_suggested_packages_exist(apt: list[str]) -> None:
    names = sorted(
        {
            alt["name"]
            for package in PACKAGES
            for item in package.recommends + package.suggests
            for group in PkgRelation.parse_relations(item)
            for alt in group
        }
    )
    policy = run("apt-cache", *apt, "policy", *names).stdout
    candidates = dict(re.findall(r"^(\S+):\n\s+Installed: .*\n\s+Candidate: (\S+)", policy, re.M))
    assert {
        name: candidates.get(name, "(unknown)") for name in names if candidates.get(name) in (None, "(none)")
    } == {}


def test_lintian_finds_nothing(built: Path) -> None:
    debs = sorted(str(path) for path in built.glob("*.deb"))
    result = run(
        "lintian", "--allow-root", "--pedantic", "--display-info", "--fail-on", "error,warning", *debs
    )
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_packages_hold_their_definition(built: Path) -> None:
    for package in PACKAGES:
        deb = str(built / package.deb_name)
        control = Deb822(run("dpkg-deb", "-f", deb).stdout)
        assert control["Package"] == package.name
        assert control["Version"] == package.version
        assert control["Architecture"] == "all"
        assert control["Depends"] == ", ".join(package.depends)
        listing = run("dpkg-deb", "--contents", deb).stdout.splitlines()
        assert all(" root/root " in line for line in listing)
        assert f"./usr/share/doc/{package.name}/copyright" in "\n".join(listing)


def test_building_again_changes_nothing(built: Path, workdir: Path) -> None:
    before = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in built.glob("*.deb")}
    assert (
        pkgos("metapkg", "build", "--definitions", str(DEFINITIONS), "--output", str(built)).returncode == 0
    )
    assert {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in built.glob("*.deb")} == before
    other = workdir / "again"
    assert (
        pkgos("metapkg", "build", "--definitions", str(DEFINITIONS), "--output", str(other)).returncode == 0
    )
    assert {path.name: path.read_bytes() for path in other.glob("*.deb")} == {
        name: data for name, (data, _mtime) in before.items()
    }
