"""pkgos rewire on Debian 12's placement and nova packages, rewired together in one run.

Each package keeps its files byte for byte, its debhelper blocks in order,
gets a version just above Debian's and (when its scripts are the
toolkit's) the toolkit as a dependency, and lintian finds nothing in it
that it did not find in Debian's. The packages are downloaded into
``.cache/debs`` (never committed) by ``tests/e2e/test_rewire.py``'s helper.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from openstack_pkg_tools.build import debfile
from openstack_pkg_tools.build.rewire import parse_script
from tests.e2e.debhelpers import pkgos, run
from tests.e2e.test_rewire import KNOWN_TEMPLATE_TAGS, PHASES, _control, _field, _tags, debian_deb

# In the order they were made to rewire; all of them go through one run,
# so exact relations between them (nova-compute-kvm on nova-compute) follow.
PACKAGES = (
    "placement-common",
    "placement-api",
    "nova-common",
    "nova-api",
    "nova-conductor",
    "nova-scheduler",
    "nova-compute",
    "nova-compute-qemu",
    "nova-compute-kvm",
)


@pytest.fixture(scope="module")
def rewired(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Each package's original and rewired file."""
    originals = {package: debian_deb(package) for package in PACKAGES}
    out = tmp_path_factory.mktemp("pkgostest-rewire-nova")
    pkgos("rewire", *map(str, originals.values()), "--output-dir", str(out))
    return {
        package: (original, next(out.glob(f"{package}_*.deb"))) for package, original in originals.items()
    }


def _own_scripts(deb: Path) -> bool:
    """Whether the rewired scripts are the toolkit's (not Debian's kept as they are)."""
    return "pkgos maintscript" in _control(deb).get("postinst", debfile.ControlFile("", b"", 0)).data.decode()


@pytest.mark.parametrize("package", PACKAGES)
def test_the_package_rewires_with_its_files_blocks_version_and_dependency(
    package: str, rewired: dict[str, tuple[Path, Path]]
) -> None:
    original, new = rewired[package]
    before, after = debfile.read_members(str(original)), debfile.read_members(str(new))
    assert debfile.data_member(after) == debfile.data_member(before)
    old_files, new_files = _control(original), _control(new)
    for name in ("conffiles", "md5sums", "triggers"):
        assert new_files.get(name) == old_files.get(name), name
    for phase in PHASES:
        if phase in old_files:
            blocks = parse_script(phase, old_files[phase].data.decode()).blocks
            if phase not in new_files:  # a script with no block and nothing generated is gone
                assert not blocks and phase not in ("config", "postinst", "postrm"), phase
                continue
            text = new_files[phase].data.decode()
            # Each block after the one before it (two blocks may be the same text).
            end = 0
            for block in blocks:
                end = text.index(block.text, end) + len(block.text)
            assert "pkgos_func" not in text
    version = _field(original, "Version")
    assert _field(new, "Version") in (f"{version}+pkgos1", f"{version}+~pkgos1")
    run("dpkg", "--compare-versions", _field(new, "Version"), "gt", version)
    depends = _field(new, "Depends")
    if _own_scripts(new):
        assert depends.endswith(", openstack-pkg-tools (>= 1:0.1.0)")
    for relation in _field(original, "Depends").split(", "):
        # Exact relations on a package of this run follow its new version; the rest stay.
        name = relation.split()[0]
        if name in PACKAGES and "(= " in relation:
            assert f"{name} (= {_field(rewired[name][1], 'Version')})" in depends
        else:
            assert relation in depends


@pytest.mark.parametrize("package", PACKAGES)
def test_lintian_reports_nothing_the_original_did_not(
    package: str, rewired: dict[str, tuple[Path, Path]]
) -> None:
    original, new = rewired[package]
    added = _tags(new) - _tags(original)
    assert {tag for tag in added if tag.split()[0] not in KNOWN_TEMPLATE_TAGS} == set()


def test_only_the_packages_the_profile_names_get_the_toolkits_scripts(
    rewired: dict[str, tuple[Path, Path]],
) -> None:
    for package in ("nova-conductor", "nova-compute"):  # nothing of theirs in the nova profile
        original, new = rewired[package]
        old_files, new_files = _control(original), _control(new)
        assert {k: v for k, v in new_files.items() if k != "control"} == {
            k: v for k, v in old_files.items() if k != "control"
        }
        assert "openstack-pkg-tools" not in _field(new, "Depends")
    for package in ("nova-scheduler", "nova-compute-qemu", "nova-compute-kvm"):
        postinst = _control(rewired[package][1])["postinst"].data.decode()
        assert 'pkgos maintscript --script "$0" postinst nova "$@"' in postinst, package
