"""Secrets: one reader with one set of rules, and never a secret in an error or a log line."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from openstack_pkg_tools.errors import CommandError, ConfigFileError, InvalidValueError, redact, redact_urls
from openstack_pkg_tools.run import run
from openstack_pkg_tools.secretfile import (
    SECRET_LIMIT,
    read_secret_bytes,
    read_secret_file,
    read_secret_stdin,
)
from openstack_pkg_tools.urls import encode_component, redact_url

SECRET = "s3cr$t p@ss/%41:é"


def secret_file(tmp_path: Path, data: bytes, mode: int = 0o600) -> str:
    path = tmp_path / "secret"
    path.write_bytes(data)
    path.chmod(mode)
    return str(path)


def test_a_childs_error_output_is_redacted(tmp_path: Path) -> None:
    # The child prints what it got on stdin, as is and percent-encoded, as
    # a failing client printing its URL would.
    script = (
        "import sys, urllib.parse; p = sys.stdin.readline().rstrip('\\n'); "
        "print('login failed for', p, file=sys.stderr); "
        "print('url mysql://u:' + urllib.parse.quote(p, safe='') + '@h/d', file=sys.stderr); sys.exit(3)"
    )
    with pytest.raises(CommandError) as caught:
        run(["python3", "-c", script], stdin=SECRET + "\n", secrets=(SECRET,))
    message = str(caught.value)
    assert "login failed for ***" in message and "mysql://u:***@h/d" in message, message
    assert SECRET not in message and encode_component(SECRET) not in message


def test_without_secrets_named_the_output_is_quoted_as_is() -> None:
    with pytest.raises(CommandError, match="plain words"):
        run(["sh", "-c", "echo plain words >&2; exit 1"])


def test_urls_a_child_prints_lose_their_password() -> None:
    with pytest.raises(CommandError) as caught:
        run(["sh", "-c", "echo 'cannot connect to mysql+pymysql://glance:pa%40ss@db/glance?x=1' >&2; exit 1"])
    assert "mysql+pymysql://glance:***@db/glance?x=1" in str(caught.value)
    assert redact_urls("rabbit://u:p@h1:5672,v:q@h2/ and http://h/x") == "rabbit://u:***@h2/ and http://h/x"


def test_redact_replaces_every_form_and_only_secrets() -> None:
    assert redact(f"a {SECRET} b {encode_component(SECRET)}", SECRET, None, "") == "a *** b ***"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://admin:hunter2@k:5000/v3", "http://admin:***@k:5000/v3"),
        ("http://admin@k:5000/v3", "http://admin:***@k:5000/v3"),
        ("http://k:5000/v3?x=a@b", "http://k:5000/v3?x=a@b"),
        ("http://u:p@ss@k/", "http://u:***@k/"),
        ("not a url", "not a url"),
    ],
)
def test_urls_with_user_information_are_shown_without_the_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_secret_file_gives_its_secret_without_one_line_break(tmp_path: Path) -> None:
    assert read_secret_file(secret_file(tmp_path, SECRET.encode() + b"\r\n")) == SECRET
    assert read_secret_file(secret_file(tmp_path, SECRET.encode() + b"\n\n")) == SECRET + "\n"
    assert read_secret_file(secret_file(tmp_path, b"a = 1\n"), whole=True) == "a = 1\n"
    assert read_secret_bytes(secret_file(tmp_path, b"\xff")) == b"\xff"


@pytest.mark.parametrize(
    ("data", "mode", "problem"),
    [
        (b"x", 0o640, r"group or others may read it \(mode 0640\)"),
        (b"x", 0o604, r"mode 0604"),
        (b"\xff\xfe", 0o600, "not valid UTF-8"),
        (b"\n", 0o600, "empty"),
        (b"x" * (SECRET_LIMIT + 1), 0o600, "larger than"),
    ],
)
def test_a_secret_file_is_refused_without_quoting_it(
    tmp_path: Path, data: bytes, mode: int, problem: str
) -> None:
    path = secret_file(tmp_path, data, mode)
    with pytest.raises(ConfigFileError, match=problem) as caught:
        read_secret_file(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_secret_file_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("this test gives a file away: run it as root (make check does)")
    path = secret_file(tmp_path, b"chosen by someone else")
    os.chown(path, 65534, 65534)
    with pytest.raises(ConfigFileError, match="user 65534 owns it"):
        read_secret_file(path)


def test_a_fifo_as_a_secret_file_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(ConfigFileError, match="FIFO"):
        read_secret_file(str(fifo))


def test_stdin_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(SECRET.encode() + b"\n")))
    assert read_secret_stdin() == SECRET
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"\xff")))
    with pytest.raises(InvalidValueError, match="not valid UTF-8"):
        read_secret_stdin("password")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"x" * (SECRET_LIMIT + 1))))
    with pytest.raises(InvalidValueError, match="longer than"):
        read_secret_stdin("password")
