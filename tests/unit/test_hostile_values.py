"""Any value set with ``pkgos ini set`` is what the service reads: oslo.config and the paste loader judge.

Random values (every printable character of Unicode, and ``$``, ``%``,
quotes, backslashes, spaces, tabs) are written with the command line, as
a shell script would, then read back with oslo.config's own parser (for
service files) or PasteDeploy's (for api-paste.ini). Values a file cannot
hold (line breaks) are refused, never written otherwise.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oslo_config import cfg
from paste.deploy.loadwsgi import NicerConfigParser

from tests.cli import ROOT

SPECIAL = st.sampled_from(
    ["$", "$$", "${", "}", "%", "%%", "%(", ")s", '"', "'", "\\", "\\$", " ", "\t", "#", ";"]
)
UNICODE = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00")
VALUES = st.lists(st.one_of(SPECIAL, st.text(UNICODE, max_size=4)), max_size=8).map("".join)


def ini_set(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pkgos ini set --create PATH ARGS``; a random value comes after "--", as it may start with "-"."""
    return subprocess.run(
        [sys.executable, "-m", "openstack_pkg_tools", "ini", "set", "--create", str(path), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"},
        check=False,
        timeout=60,
    )


def oslo_reads(path: Path, section: str, key: str) -> str:
    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.StrOpt(key), group=section)
    conf.register_opt(cfg.StrOpt("state_path", default="/var/lib/svc"))
    conf(args=[], default_config_files=[str(path)], use_env=False)
    value = getattr(getattr(conf, section), key)
    assert isinstance(value, str)
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES)
def test_oslo_reads_every_value_the_command_line_sets(value: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "nova.conf"
        path.write_text("[DEFAULT]\n#debug = false\n\n[keystone_authtoken]\n#password = <None>\n")
        result = ini_set(path, "--", "keystone_authtoken", "password", value)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert oslo_reads(path, "keystone_authtoken", "password") == value
        got = subprocess.run(
            [
                sys.executable,
                "-m",
                "openstack_pkg_tools",
                "ini",
                "get",
                str(path),
                "keystone_authtoken",
                "password",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        assert (got.returncode, got.stdout) == (0, value + "\n"), got.stderr


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES)
def test_the_paste_loader_reads_every_value_the_command_line_sets(value: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "api-paste.ini"
        path.write_text("[filter:authtoken]\npaste.filter_factory = x:y\n")
        result = ini_set(path, "--", "filter:authtoken", "password", value)
        assert "Traceback" not in result.stderr
        if value != value.strip():
            # ConfigParser strips the value and removes no quotes: this cannot be held.
            assert result.returncode == 2 and "white space" in result.stderr, result.stderr
            return
        assert result.returncode == 0, result.stderr
        parser = NicerConfigParser(str(path), defaults={"here": directory, "__file__": str(path)})
        parser.read(str(path))
        assert parser.get("filter:authtoken", "password") == value


def test_a_raw_template_is_written_as_the_reference_it_is(tmp_path: Path) -> None:
    path = tmp_path / "nova.conf"
    assert (
        ini_set(path, "--format", "raw", "oslo_concurrency", "lock_path", "$state_path/lock").returncode == 0
    )
    assert path.read_text() == "[oslo_concurrency]\nlock_path = $state_path/lock\n"
    assert oslo_reads(path, "oslo_concurrency", "lock_path") == "/var/lib/svc/lock"
    assert ini_set(path, "oslo_concurrency", "lock_path", "$state_path/lock").returncode == 0
    assert oslo_reads(path, "oslo_concurrency", "lock_path") == "$state_path/lock"


def test_values_a_file_cannot_hold_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "nova.conf"
    for value in ("a\nb", "a\rb", "\n"):
        result = ini_set(path, "DEFAULT", "x", value)
        assert result.returncode == 2 and "line break" in result.stderr, result.stderr
    assert not path.exists()


URL_PIECES = st.sampled_from(
    [
        *[
            "mysql+pymysql://",
            "rabbit://",
            "sqlite:///",
            "u",
            ":",
            "@",
            "[",
            "]",
            "::1",
            "%",
            "%ff",
            "%41",
            "/",
            "?",
            "#",
            ",",
            "h",
            "5672",
            "99999",
            "²",
            "é",
        ],
        " ",
        "\n",
    ]
)


@settings(max_examples=400, deadline=None)
@given(text=st.lists(st.one_of(URL_PIECES, st.text(max_size=3)), max_size=12).map("".join))
def test_parsing_any_url_is_a_value_or_one_invalid_value_error(text: str) -> None:
    from openstack_pkg_tools.errors import InvalidValueError
    from openstack_pkg_tools.urls import DatabaseUrl, TransportUrl

    for parse in (DatabaseUrl.parse, TransportUrl.parse):
        try:
            parse(text)
        except InvalidValueError as error:
            assert "\n" not in error.message or "\n" in text
