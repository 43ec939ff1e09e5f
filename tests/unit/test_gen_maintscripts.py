"""pkgos gen-maintscripts: one-line scripts, and profile mistakes caught at build time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openstack_pkg_tools.cli import main


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
