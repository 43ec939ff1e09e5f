"""``pkgos keystone``: help, and bad input refused before any request."""

from __future__ import annotations

import io
import socket

import pytest

from openstack_pkg_tools.cli import main


def _dead_auth_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v3"


@pytest.fixture
def admin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"OS_AUTH_URL": _dead_auth_url(), "OS_USERNAME": "admin", "OS_PASSWORD": "x"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("OS_CLOUD", raising=False)


@pytest.mark.parametrize(
    ("action", "option"),
    [("register", "--internal-url"), ("service-user", "--password-stdin"), ("bootstrap", "--keystone-user")],
)
def test_help_explains_each_action(action: str, option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["keystone", action, "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out
    assert option in out


def test_no_password_option_takes_a_value_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["keystone", "service-user", "glance", "--password", "secret"])
    assert caught.value.code == 2
    assert "ambiguous option: --password" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["keystone", "service-user", "glance"])
    assert caught.value.code == 2
    assert "one of the arguments --password-stdin --password-file is required" in capsys.readouterr().err


@pytest.mark.usefixtures("admin_env")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--public-url", "http://192.0.2.1:9292", "--region", "bad region"],
            "Invalid region name 'bad region'",
        ),
        (["--public-url", "http://fe80::1:9292"], "an IPv6 address must be in brackets"),
        (
            ["--public-url", "http://192.0.2.1:9292", "--admin-url", "gopher://x"],
            "scheme must be http or https",
        ),
    ],
)
def test_register_refuses_bad_input_first(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keystone", "register", "glance", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Keystone" not in err  # no request was tried


@pytest.mark.usefixtures("admin_env")
def test_unknown_service_needs_a_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keystone", "register", "frobnicator", "--public-url", "http://192.0.2.1:1"]) == 2
    assert "--type" in capsys.readouterr().err


@pytest.mark.usefixtures("admin_env")
def test_empty_password_on_stdin_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["keystone", "service-user", "glance", "--password-stdin"]) == 2
    assert "password read from stdin is empty" in capsys.readouterr().err


def test_missing_admin_credentials_are_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_CLOUD"):
        monkeypatch.delenv(key, raising=False)
    assert main(["keystone", "register", "glance", "--public-url", "http://192.0.2.1:9292"]) == 2
    assert "OS_AUTH_URL, OS_USERNAME, OS_PASSWORD not set" in capsys.readouterr().err
