"""``pkgos ini`` as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import pkgos, toolkit_for_anyone

SAMPLE = "[DEFAULT]\n#debug = false\n\n[database]\n#connection = <None>\n"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "glance-api.conf"
    path.write_text(SAMPLE)
    return path


def test_set_and_get(conf: Path) -> None:
    assert pkgos("ini", "set", str(conf), "database", "connection", "sqlite:////x").returncode == 0
    result = pkgos("ini", "get", str(conf), "database", "connection")
    assert (result.returncode, result.stdout) == (0, "sqlite:////x\n")


def test_get_of_an_unset_key_exits_1_silently(conf: Path) -> None:
    result = pkgos("ini", "get", str(conf), "DEFAULT", "debug")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "")


def test_set_from_stdin_drops_one_trailing_newline(conf: Path) -> None:
    assert (
        pkgos("ini", "set", str(conf), "database", "password", "--stdin", stdin="s3&cr|t \n").returncode == 0
    )
    assert pkgos("ini", "get", str(conf), "database", "password").stdout == "s3&cr|t \n"
    assert '"s3&cr|t "' in conf.read_text()


def test_set_an_empty_value(conf: Path) -> None:
    assert pkgos("ini", "set", str(conf), "DEFAULT", "debug", "").returncode == 0
    assert "debug =\n" in conf.read_text()


def test_unset_comment_out_rename_and_remove_section(conf: Path) -> None:
    pkgos("ini", "set", str(conf), "DEFAULT", "admin_user", "glance")
    pkgos("ini", "set", str(conf), "DEFAULT", "verbose", "true")
    assert pkgos("ini", "rename", str(conf), "DEFAULT", "admin_user", "ksat", "username").returncode == 0
    assert pkgos("ini", "unset", str(conf), "DEFAULT", "verbose").returncode == 0
    assert pkgos("ini", "comment-out", str(conf), "ksat", "username").returncode == 0
    assert pkgos("ini", "remove-section", str(conf), "database").returncode == 0
    assert (
        conf.read_text() == "[DEFAULT]\n#debug = false\n#admin_user = glance\n\n[ksat]\n#username = glance\n"
    )


def test_extract_section(conf: Path, tmp_path: Path) -> None:
    paste = tmp_path / "paste.ini"
    assert pkgos("ini", "extract-section", str(conf), "database", str(paste)).returncode == 0
    assert paste.read_text() == "[database]\n#connection = <None>\n"
    assert "[database]" not in conf.read_text()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["set", "{conf}", "database", "connection", "--stdin"], "a\nb\n", r"^pkgos: error: .*line break"),
        (["get", "{missing}", "DEFAULT", "debug"], None, r"^pkgos: error: .*missing.conf: no such file"),
        (["set", "{missing}", "DEFAULT", "debug", "x"], None, r"^pkgos: error: .*missing.conf: no such file"),
        (
            ["set", "{broken}", "DEFAULT", "debug", "x"],
            None,
            r"^pkgos: error: .*broken.conf:2: malformed section",
        ),
        (["set", "{conf}", "bad]name", "debug", "x"], None, r"^pkgos: error: .*invalid section name"),
    ],
)
def test_bad_input_gives_one_clear_line_exit_2_and_no_change(
    conf: Path, tmp_path: Path, args: list[str], stdin: str | None, message: str
) -> None:
    broken = tmp_path / "broken.conf"
    broken.write_text("[DEFAULT]\n[database\n")
    files = {"conf": conf, "missing": tmp_path / "missing.conf", "broken": broken}
    before = {path: path.read_bytes() for path in files.values() if path.exists()}
    result = pkgos("ini", *[arg.format(**files) for arg in args], stdin=stdin)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert re.match(message, result.stderr)
    assert {path: path.read_bytes() for path in files.values() if path.exists()} == before


AS_NOBODY = ("/usr/sbin/runuser", "-u", "nobody", "--", "/usr/bin/python3", "-m", "openstack_pkg_tools")


def test_unreadable_file(conf: Path) -> None:
    conf.chmod(0o600)
    with toolkit_for_anyone() as readable:
        result = subprocess.run(
            [*AS_NOBODY, "ini", "get", str(conf), "DEFAULT", "debug"],
            capture_output=True,
            text=True,
            check=False,
            cwd="/",
            env={"PYTHONPATH": str(readable), "PATH": "/usr/bin:/bin"},
        )
    assert result.returncode == 2
    assert result.stderr == (
        f"pkgos: error: {conf}: permission denied while reading. Hint: run as root or as the file's owner.\n"
    )


def test_help_explains_every_action() -> None:
    result = pkgos("ini", "--help")
    assert result.returncode == 0
    for action in ("get", "set", "unset", "comment-out", "rename", "remove-section", "extract-section"):
        assert action in result.stdout


def test_the_command_table_matches_what_each_module_registers() -> None:
    import argparse
    import importlib

    from openstack_pkg_tools.cli import COMMANDS

    for module in set(COMMANDS.values()):
        subparsers = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"openstack_pkg_tools.commands.{module}").register(subparsers)
        registered = set(subparsers.choices)
        assert registered == {command for command, owner in COMMANDS.items() if owner == module}


def test_a_run_imports_only_its_command_module() -> None:
    code = (
        "import sys; from openstack_pkg_tools.cli import build_parser; build_parser('ini'); "
        "print(sorted(m for m in sys.modules if m.startswith('openstack_pkg_tools.commands.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['openstack_pkg_tools.commands.ini']"
