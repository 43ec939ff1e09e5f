"""pkgos gen-maintscripts: one-line scripts, and profile mistakes caught at build time."""

from __future__ import annotations

import os
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
    assert "Hint: use glance-common, or one of the catalog packages (glance-api)" in capsys.readouterr().err


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


def test_a_package_profile_is_loaded_from_where_the_package_installs_it(tmp_path: Path) -> None:
    profile = tmp_path / "my profile.toml"
    profile.write_text(OWN_PROFILE)
    installed = "/usr/share/mysvc/my profile.toml"
    argv = ["gen-debian", str(profile), "mysvc", "--debian-dir", str(tmp_path), "--shell"]
    assert main([*argv, "--installed-as", installed]) == 0
    postinst = (tmp_path / "mysvc.postinst").read_text()
    assert f'pkgos maintscript --script "$0" postinst \'{installed}\' "$@"\n' in postinst
    assert main(["gen-maintscripts", str(profile), "mysvc", "--debian-dir", str(tmp_path)]) == 0
    assert f"main({str(profile)!r})" in (tmp_path / "mysvc.config").read_text()


@pytest.mark.parametrize("installed", [None, "share/mysvc/profile.toml"])
def test_a_relative_profile_path_is_refused_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, installed: str | None
) -> None:
    (tmp_path / "profile.toml").write_text(OWN_PROFILE)
    (tmp_path / "debian").mkdir()
    monkeypatch.chdir(tmp_path)
    option = ["--installed-as", installed] if installed else []
    assert main(["gen-debian", "profile.toml", "mysvc", *option]) == 2
    error = capsys.readouterr().err
    assert "--installed-as" in error
    assert "relative path" in error or "not an absolute path" in error
    assert os.listdir(tmp_path / "debian") == []
