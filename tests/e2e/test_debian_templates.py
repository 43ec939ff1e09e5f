"""The templates ``pkgos gen-debian`` writes, side by side with Debian 12's own packages' templates.

Every question the toolkit asks that Debian's package of the same name
also asks has Debian's name and type (and, for a select, its choices);
every question Debian asks that the toolkit does not is listed below with
the reason, so a renamed or a forgotten question fails here. The toolkit's
names for dbconfig-common's database questions (``debian_name`` in the
question table) are checked against dbconfig-common's own templates.

Debian's packages are downloaded with ``apt-get download`` into the tests'
cache (``.cache/debs``, never committed) the first time; their
``DEBIAN/templates`` is read with ``dpkg-deb``. Nothing is installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from openstack_pkg_tools.preseed.check import Template, questions_from_templates
from openstack_pkg_tools.profile import load
from openstack_pkg_tools.questions import families, of_family, owner_of, prefix_of
from tests.e2e.debhelpers import debian_deb, pkgos, run

# The packages of #15's profiles, by profile.
PACKAGES = {
    "keystone": ("keystone",),
    "glance": ("glance-common", "glance-api"),
    "placement": ("placement-common", "placement-api"),
    "nova": (
        "nova-common",
        "nova-api",
        "nova-conductor",
        "nova-scheduler",
        "nova-compute",
        "nova-compute-qemu",
        "nova-compute-kvm",
    ),
    "neutron": (
        "neutron-common",
        "neutron-api",
        "neutron-rpc-server",
        "neutron-linuxbridge-agent",
        "neutron-dhcp-agent",
        "neutron-metadata-agent",
    ),
}
# Debian's questions the toolkit does not ask, and why.
NOT_ASKED: dict[str, str] = {}
# dbconfig-common's questions whose type differs from the toolkit's question of that meaning.
DBCONFIG_TYPES = {
    # dbconfig-common offers the known hosts as a select, and asks remote/newhost for another.
    "remote/host": ("select", "string"),
}


def debian_templates(package: str) -> dict[str, Template]:
    """The questions of Debian 12's ``package`` (none when it has no templates)."""
    result = run("dpkg-deb", "--info", str(debian_deb(package)), "templates", check=False)
    return questions_from_templates(result.stdout) if result.returncode == 0 else {}


def toolkit_templates(profile: str, package: str, workdir: Path) -> dict[str, Template]:
    """The questions of the templates ``pkgos gen-debian`` writes for ``package``.

    Shell-style scripts, as ``pkgos rewire`` gives Debian's packages (keystone's
    profile enables its unit, which only they do); the templates are the same.
    """
    debian = workdir / package / "debian"
    debian.mkdir(parents=True)
    pkgos("gen-debian", profile, package, "--shell", "--debian-dir", str(debian))
    return questions_from_templates((debian / f"{package}.templates").read_text())


@pytest.mark.slow
@pytest.mark.parametrize(("profile", "package"), [(p, pkg) for p, pkgs in PACKAGES.items() for pkg in pkgs])
def test_the_toolkits_questions_have_debians_names_and_types(
    profile: str, package: str, tmp_path: Path
) -> None:
    debian = debian_templates(package)
    if not families(load(profile), package):
        # The toolkit configures nothing in this package: neither does Debian's.
        assert set(debian) <= set(NOT_ASKED), sorted(debian)
        return
    ours = toolkit_templates(profile, package, tmp_path)
    both = sorted(set(ours) & set(debian))
    differ = [(name, ours[name], debian[name]) for name in both if ours[name] != debian[name]]
    assert differ == []
    # A question of Debian's under another name in the toolkit shows up here.
    assert sorted(set(debian) - set(ours)) == sorted(name for name in NOT_ASKED if name in debian)


@pytest.mark.slow
def test_debian_names_of_the_database_questions_are_dbconfig_commons() -> None:
    dbconfig = debian_templates("dbconfig-common")
    checked = 0
    for profile_name, packages in PACKAGES.items():
        profile = load(profile_name)
        for family in families(profile, profile.package):
            for owner in owner_of(profile, family):
                if owner not in packages:
                    continue
                for question in of_family(family):
                    if not question.debian_name:
                        continue
                    # dbconfig-common registers its templates under the package's name.
                    rest = question.debian_name.replace("{package}", owner).removeprefix(f"{owner}/")
                    theirs = dbconfig.get(f"dbconfig-common/{rest}")
                    assert theirs is not None, f"{question.full_name(prefix_of(profile, owner))}: {rest}"
                    types = DBCONFIG_TYPES.get(rest, (question.type, question.type))
                    assert (theirs.type, question.type) == types, rest
                    checked += 1
    assert checked
