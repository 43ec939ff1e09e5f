"""pkgos rewire on the steps Debian's neutron packages take: asked settings, copied configs,
files of older releases, shipped modes, and agents with no configuration of their own."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from openstack_pkg_tools.build import debfile, rewirer
from openstack_pkg_tools.build.rewire import Context, Outcome, classify, parse_script
from openstack_pkg_tools.profile import load
from openstack_pkg_tools.questions import families
from openstack_pkg_tools.run import run

NEUTRON = load("neutron")
SUDOERS = "/etc/sudoers.d/neutron_sudoers"
# What the generated templates of each package hold (the names the verdicts look up).
QUESTIONS = frozenset({"neutron/configure_nova", "neutron-metadata/configure"})


def _verdict(
    text: str, package: str = "neutron-common", phase: str = "postinst", sudoers: int | None = None
) -> str:
    script = parse_script(phase, f"#!/bin/sh\nN_CONF=/etc/neutron/neutron.conf\n{text}\n")
    line = next(line for line in script.lines if line.number == 3)
    context = Context(
        package,
        NEUTRON,
        frozenset(families(NEUTRON, package)),
        QUESTIONS,
        {} if sudoers is None else {SUDOERS: sudoers},
    )
    verdict = classify(line, script, context)
    return verdict.replaced_by or f"REFUSED: {verdict.reason}"


@pytest.mark.parametrize(
    ("text", "package", "expected"),
    [
        (
            "pkgos_inifile set ${N_CONF} nova auth_url ${RET}",
            "neutron-common",
            "the toolkit's nova family: question neutron/nova_auth_url written to [nova] auth_url in "
            "/etc/neutron/neutron.conf",
        ),
        (
            "pkgos_inifile set ${N_CONF} nova auth_url http://x:5000",
            "neutron-common",
            "REFUSED: Debian writes 'http://x:5000', not an answer",
        ),
        (
            "pkgos_inifile set ${N_CONF} nova auth_type password",
            "neutron-common",
            "the toolkit's nova family",
        ),
        (
            "pkgos_inifile set ${N_CONF} nova auth_type token",
            "neutron-common",
            "REFUSED: sets [nova] auth_type",
        ),
        # Only the package that asks the family writes it.
        ("pkgos_inifile set ${N_CONF} nova auth_url ${RET}", "neutron-api", "REFUSED: sets [nova] auth_url"),
        (
            "pkgos_inifile set /etc/neutron/metadata_agent.ini DEFAULT nova_metadata_host ${RET}",
            "neutron-metadata-agent",
            "the toolkit's metadata-agent family: question neutron-metadata/nova_metadata_host",
        ),
        (
            "cp /usr/share/neutron-common/plugins/ml2/ml2_conf.ini /etc/neutron/plugins/ml2/ml2_conf.ini",
            "neutron-common",
            'profile [[config]] source = "plugins/ml2/ml2_conf.ini" (target /etc/neutron/plugins/ml2/'
            "ml2_conf.ini, installed once)",
        ),
        (
            "cp /usr/share/neutron-common/ovn.ini /etc/neutron/ovn.ini",
            "neutron-common",
            "REFUSED: profile profiles/neutron.toml has no [[config]] of neutron-common installing "
            "/etc/neutron/ovn.ini",
        ),
        (
            "install -D -m 0640 -o neutron -g neutron /usr/share/neutron-metadata-agent/metadata_agent.ini "
            "/etc/neutron/metadata_agent.ini",
            "neutron-metadata-agent",
            'profile [[config]] source = "metadata_agent.ini"',
        ),
        (
            "install -D -m 0644 -o neutron -g neutron /usr/share/neutron-metadata-agent/metadata_agent.ini "
            "/etc/neutron/metadata_agent.ini",
            "neutron-metadata-agent",
            "REFUSED: profile [[config]] /etc/neutron/metadata_agent.ini has mode 0640, Debian's 0644",
        ),
        (
            "install -m 0640 -o root -g neutron /usr/share/neutron-metadata-agent/metadata_agent.ini "
            "/etc/neutron/metadata_agent.ini",
            "neutron-metadata-agent",
            "REFUSED: profile [[config]] /etc/neutron/metadata_agent.ini is neutron:neutron, Debian's "
            "root:neutron",
        ),
        # Another package's default config is not this one's to install.
        (
            "cp /usr/share/neutron-common/plugins/ml2/ml2_conf.ini /etc/neutron/plugins/ml2/ml2_conf.ini",
            "neutron-api",
            "REFUSED",
        ),
        (
            "mv /etc/neutron/policy.json /etc/neutron/disabled.policy.json.old",
            "neutron-common",
            "profile [[leftover]] /etc/neutron/policy.json renamed to /etc/neutron/disabled.policy.json.old",
        ),
        ("mv /etc/neutron/policy.json /etc/neutron/old", "neutron-common", "REFUSED: moves /etc/neutron/"),
        (f"chmod 0440 {SUDOERS}", "neutron-common", "REFUSED: profile profiles/neutron.toml has no"),
    ],
)
def test_neutron_steps(text: str, package: str, expected: str) -> None:
    assert _verdict(text, package).startswith(expected)


def test_a_chmod_of_a_file_the_package_ships_with_that_mode_is_dpkgs() -> None:
    assert _verdict(f"chmod 0440 {SUDOERS}", sudoers=0o440) == (
        f"nothing: dpkg installs {SUDOERS} with mode 0440 (the package's files)"
    )
    assert _verdict(f"chmod 0440 {SUDOERS}", sudoers=0o640).startswith("REFUSED")


@pytest.mark.parametrize(
    ("text", "package"),
    [
        # A continuation line is one line to the shell: its words are the paths.
        (
            "rm -f /etc/default/neutron /etc/neutron/api-paste.ini \\\n\t\t/etc/neutron/neutron.conf",
            "neutron-common",
        ),
        ("rm -f /etc/neutron/plugins/ml2/openvswitch_agent.ini", "neutron-common"),
        (
            "[ -d /etc/neutron/plugins ] && rmdir --ignore-fail-on-non-empty /etc/neutron/plugins",
            "neutron-common",
        ),
        ("rm -f /etc/neutron/metadata_agent.ini", "neutron-metadata-agent"),
    ],
)
def test_the_purge_of_the_packages_files_and_of_older_releases_files(text: str, package: str) -> None:
    assert _verdict(text, package, phase="postrm").startswith("the toolkit's purge")


def test_a_leftover_renamed_on_configure_is_purged_with_its_copy() -> None:
    assert _verdict("rm -f /etc/neutron/policy.json", phase="postrm").startswith("the toolkit's purge")


# --- packages with no configuration of their own ------------------------------------------------------


def _deb(tmp_path: Path, postinst: str, name: str = "pkgostest-agent") -> Path:
    """A package with no templates and no config script, and a file shipped 0440."""
    tree = tmp_path / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {name}\nSource: pkgostest\nVersion: 1.0-1\nArchitecture: all\n"
        "Maintainer: x <x@example.org>\nDepends: adduser\nDescription: agent\n an agent.\n"
    )
    script = tree / "DEBIAN" / "postinst"
    script.write_text(postinst)
    script.chmod(0o755)
    (tree / "etc/sudoers.d").mkdir(parents=True)
    (tree / "etc/sudoers.d/pkgostest").write_text("# nothing\n")
    (tree / "etc/sudoers.d/pkgostest").chmod(0o440)
    deb = tmp_path / f"{name}.deb"
    run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)])
    return deb


PROFILE = """\
name = "pkgostest"

[[config]]
source = "pkgostest.conf"

[[setting]]
package = "pkgostest-agent"
section = "DEFAULT"
key = "interface_driver"
value = "linuxbridge"
"""

BLOCK = """\
# Automatically added by dh_installinit/13.11.4
if [ "$1" = "configure" ] ; then
\tupdate-rc.d pkgostest-agent defaults >/dev/null
fi
# End automatically added section
"""


def _profile(tmp_path: Path) -> str:
    path = tmp_path / "pkgostest.toml"
    path.write_text(PROFILE)
    return str(path)


def test_a_package_its_profile_gives_a_setting_is_rewired_though_it_asks_nothing(tmp_path: Path) -> None:
    postinst = (
        '#!/bin/sh\nset -e\nif [ "$1" = configure ] ; then\n\tchmod 0440 /etc/sudoers.d/pkgostest\nfi\n'
        + BLOCK
    )
    deb = _deb(tmp_path, postinst)
    assert {
        path: mode & 0o7777 for path, mode in debfile.shipped_modes(str(deb)).items() if stat.S_ISREG(mode)
    } == {"/etc/sudoers.d/pkgostest": 0o440}
    [(result, written)] = rewirer.rewire([str(deb)], str(tmp_path / "out"), _profile(tmp_path))
    assert result.outcome is Outcome.REWIRE and written is not None
    files = debfile.control_files(written)
    # Nothing to ask: no templates, no config script; nothing to purge: no postrm. The toolkit's
    # postinst speaks debconf.
    assert "templates" not in files and "config" not in files and "postrm" not in files
    assert "generated by `pkgos gen-maintscripts`" in files["postinst"].data.decode()
    assert BLOCK in files["postinst"].data.decode()
    depends = run(["dpkg-deb", "--field", written, "Depends"]).stdout.strip()
    assert depends == "adduser, debconf (>= 0.5) | debconf-2.0, openstack-pkg-tools (>= 1:0.1.0)"


def test_it_is_kept_with_the_profiles_part_named_as_not_applied_while_a_step_is_expressed_by_nothing(
    tmp_path: Path,
) -> None:
    deb = _deb(tmp_path, "#!/bin/sh\nset -e\nrm -f /var/log/pkgostest/agent.log*\n" + BLOCK)
    result, generated = rewirer.plan(rewirer.read(str(deb)), _profile(tmp_path))
    assert result.outcome is Outcome.KEEP and generated is None
    assert "NOT applied: its part of profile" in result.reason and "(first postinst:3)" in result.reason
    [(_, written)] = rewirer.rewire([str(deb)], str(tmp_path / "out"), _profile(tmp_path))
    assert written is not None
    assert debfile.control_files(written)["postinst"] == debfile.control_files(str(deb))["postinst"]
    changelog = Path(written.removesuffix(".deb") + ".changelog").read_text()
    assert "  * Kept: no configuration of its own: scripts unchanged; NOT applied:" in changelog


def test_a_package_its_profile_does_not_name_keeps_its_scripts(tmp_path: Path) -> None:
    deb = _deb(tmp_path, "#!/bin/sh\nset -e\n" + BLOCK, name="pkgostest-other")
    result, _ = rewirer.plan(rewirer.read(str(deb)), _profile(tmp_path))
    assert (result.outcome, result.reason) == (Outcome.KEEP, "no configuration of its own: scripts unchanged")
