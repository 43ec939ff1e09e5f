"""pkgos gen-maintscripts: one-line scripts, and profile mistakes caught at build time."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from openstack_pkg_tools.cli import main

# A package's own profile: a service of one package, with a database.
OWN_PROFILE = """\
name = "mysvc"
package = "mysvc"
prefix = "mysvc"

[[config]]
source = "mysvc.conf"

[[database]]
"""


def test_python_scripts_are_one_import_and_one_call(tmp_path: Path) -> None:
    assert main(["gen-maintscripts", "glance", "glance-common", "--debian-dir", str(tmp_path)]) == 0
    assert sorted(os.listdir(tmp_path)) == [
        "glance-common.config",
        "glance-common.postinst",
        "glance-common.postrm",
    ]
    script = (tmp_path / "glance-common.postinst").read_text()
    code = [line for line in script.splitlines() if line and not line.startswith("#")]
    assert code == ["from openstack_pkg_tools.maintscript import main", "main('glance')"]
    assert script.startswith("#!/usr/bin/python3\n")
    assert os.stat(tmp_path / "glance-common.config").st_mode & 0o777 == 0o755


def test_shell_scripts_leave_room_for_debhelper(tmp_path: Path) -> None:
    main(["gen-maintscripts", "glance", "glance-api", "--shell", "--debian-dir", str(tmp_path)])
    postinst = (tmp_path / "glance-api.postinst").read_text()
    assert 'pkgos maintscript --script "$0" postinst glance "$@"\n\n#DEBHELPER#\n' in postinst
    assert ". /usr/share/debconf/confmodule\n" in postinst
    assert "#DEBHELPER#" not in (tmp_path / "glance-api.config").read_text()


def test_a_service_of_the_profile_is_enabled_and_started_after_pkgos_in_the_shell_postinst(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["gen-maintscripts", "keystone", "keystone", "--shell", "--debian-dir", str(tmp_path)])
    postinst = (tmp_path / "keystone.postinst").read_text()
    # Enabled before pkgos runs (Keystone's bootstrap starts it: invoke-rc.d starts no
    # disabled service), started after.
    assert postinst.endswith(
        ". /usr/share/debconf/confmodule\n"
        'if [ "$1" = "configure" ] ; then\n'
        "\tdeb-systemd-helper enable keystone.service >/dev/null || true\n"
        "\tif [ -x /etc/init.d/keystone ] ; then\n"
        "\t\tupdate-rc.d keystone defaults >/dev/null\n"
        "\tfi\n"
        "fi\n"
        'pkgos maintscript --script "$0" postinst keystone "$@"\n'
        'if [ "$1" = "configure" ] && [ -x /etc/init.d/keystone ] ; then\n'
        "\tinvoke-rc.d keystone start\n"
        "fi\n"
        "\n#DEBHELPER#\n"
    )
    for phase in ("config", "postrm"):
        assert "invoke-rc.d" not in (tmp_path / f"keystone.{phase}").read_text()
    # A one-line Python script has no place for it: refused, before anything is written.
    python = tmp_path / "python"
    python.mkdir()
    assert main(["gen-maintscripts", "keystone", "keystone", "--debian-dir", str(python)]) == 2
    assert "has a [[service]] for keystone: only shell-style scripts" in capsys.readouterr().err
    assert list(python.iterdir()) == []


def test_a_broken_profile_fails_the_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "broken.toml"
    profile.write_text('name = "foo"\n[[catalog]]\ntype = "image"\nport = 92920\ndescription = "x"\n')
    assert main(["gen-maintscripts", str(profile), "foo-api", "--debian-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"{profile}: catalog[1].port: 92920 is not in 1..65535" in error
    assert not (tmp_path / "foo-api.postinst").exists()


def test_a_package_the_profile_does_not_know_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gen-maintscripts", "glance", "glance-doc", "--debian-dir", str(tmp_path)]) == 2
    assert "Hint: use one of the packages it names: glance-common, glance-api." in capsys.readouterr().err


def test_profile_check_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "check", "nova", "heat"]) == 0
    out = capsys.readouterr().out
    assert "profiles/nova.toml: ok (nova: 3 database(s), 1 catalog entry)" in out
    assert "profiles/heat.toml: ok (heat: 1 database(s), 2 catalog entries)" in out
    assert main(["profile", "list"]) == 0
    assert "keystone\n" in capsys.readouterr().out


def _templates(path: Path) -> list[str]:
    return [line.split()[1] for line in path.read_text().splitlines() if line.startswith("Template:")]


def _tree(folder: Path) -> dict[str, int]:
    return {str(path): path.stat().st_mtime_ns for path in sorted(folder.rglob("*"))}


def test_gen_debian_writes_the_families_each_package_asks(tmp_path: Path) -> None:
    (tmp_path / "control").write_text("Source: glance\n\nPackage: glance-common\n")
    for package in ("glance-common", "glance-api"):
        assert main(["gen-debian", "glance", package, "--debian-dir", str(tmp_path)]) == 0
    common = _templates(tmp_path / "glance-common.templates")
    assert "glance/configure_db" in common
    assert "glance/purge-db" in common
    assert "glance/rabbit-password" in common
    assert "glance/ksat-service-password" in common
    assert not any("api-endpoint" in name for name in common)
    api = _templates(tmp_path / "glance-api.templates")
    assert api[0] == "glance/configure_api-endpoint"
    assert all("api-" in name for name in api)
    potfiles = (tmp_path / "po" / "POTFILES.in").read_text().splitlines()
    assert potfiles == [
        "[type: gettext/rfc822deb] glance-common.templates",
        "[type: gettext/rfc822deb] glance-api.templates",
    ]
    assert "msgid" in (tmp_path / "po" / "de.po").read_text()
    assert (tmp_path / "po" / "templates.pot").exists()
    for phase in ("config", "postinst", "postrm"):
        assert os.access(tmp_path / f"glance-api.{phase}", os.X_OK)


def test_gen_debian_twice_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "control").write_text("Source: glance\n\nPackage: glance-common\n")
    assert main(["gen-debian", "glance", "glance-common", "--debian-dir", str(tmp_path), "--shell"]) == 0
    before = _tree(tmp_path)
    assert main(["gen-debian", "glance", "glance-common", "--debian-dir", str(tmp_path), "--shell"]) == 0
    assert _tree(tmp_path) == before


def test_gen_debian_refuses_an_unknown_package_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gen-debian", "glance", "glance-doc", "--debian-dir", str(tmp_path)]) == 2
    assert "Package glance-doc has nothing to configure" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_a_package_profile_is_embedded_in_its_scripts(tmp_path: Path) -> None:
    # config runs before the package is unpacked, postrm purge after its
    # files are gone: the scripts carry the profile themselves.
    profile = tmp_path / "my profile.toml"
    profile.write_text(OWN_PROFILE)
    argv = [str(profile), "mysvc", "--debian-dir", str(tmp_path)]
    assert main(["gen-debian", *argv, "--shell"]) == 0
    postinst = (tmp_path / "mysvc.postinst").read_text()
    assert (
        'pkgos maintscript --script "$0" --profile-fd 4 postinst \'my profile.toml\' "$@" '
        f"4<<'END_OF_PKGOS_PROFILE'\n{OWN_PROFILE}END_OF_PKGOS_PROFILE\n\n#DEBHELPER#\n"
    ) in postinst
    assert main(["gen-maintscripts", *argv]) == 0
    config = (tmp_path / "mysvc.config").read_text()
    assert f"main('my profile.toml', text={OWN_PROFILE!r})\n" in config


def test_the_shell_script_hands_the_embedded_profile_to_pkgos(tmp_path: Path) -> None:
    profile = tmp_path / "profile.toml"
    profile.write_text(OWN_PROFILE)
    assert main(["gen-debian", str(profile), "mysvc", "--debian-dir", str(tmp_path), "--shell"]) == 0
    # A stand-in pkgos and confmodule: what pkgos gets on descriptor 4.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pkgos").write_text('#!/bin/sh\necho "$@"\ncat <&4\n')
    (bin_dir / "pkgos").chmod(0o755)
    script = (tmp_path / "mysvc.postrm").read_text().replace(". /usr/share/debconf/confmodule\n", "")
    result = subprocess.run(
        ["sh", "-c", script, "mysvc.postrm", "purge"],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    called = "maintscript --script mysvc.postrm --profile-fd 4 postrm profile.toml purge"
    assert result.stdout == f"{called}\n{OWN_PROFILE}"


def test_a_profile_that_would_end_its_here_document_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "profile.toml"
    # Only a multi-line string can hold such a line in valid TOML.
    catalog = '[[catalog]]\npackage = "mysvc"\ntype = "x"\nport = 1234\n'
    catalog += 'description = """\nEND_OF_PKGOS_PROFILE\n"""\n'
    profile.write_text(f"{OWN_PROFILE}\n{catalog}")
    assert main(["gen-debian", str(profile), "mysvc", "--debian-dir", str(tmp_path), "--shell"]) == 2
    assert "END_OF_PKGOS_PROFILE" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["profile.toml"]


@pytest.mark.parametrize("package", ["nova-scheduler", "nova-compute-qemu", "neutron-dhcp-agent"])
def test_packages_with_only_files_or_settings_get_their_scripts(package: str, tmp_path: Path) -> None:
    # They ask no question, but set up their own directories, memberships and settings.
    service = package.split("-", maxsplit=1)[0]
    assert main(["gen-maintscripts", service, package, "--debian-dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{package}.{phase}" for phase in ("config", "postinst", "postrm")
    ]
