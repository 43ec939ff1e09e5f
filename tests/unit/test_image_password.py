"""The default user's password: never from argv, never echoed, hashed with the password on stdin."""

from __future__ import annotations

import io
import os

import pytest

from openstack_pkg_tools.errors import ConfigFileError, InvalidValueError
from openstack_pkg_tools.image import password
from openstack_pkg_tools.run import Completed

SECRET = "s3cr&t p@ss:/#"


def test_literal_password_is_refused_without_echo() -> None:
    with pytest.raises(InvalidValueError) as error:
        password.read_password(SECRET)
    assert SECRET not in str(error.value)
    assert "'-p -'" in str(error.value)


def test_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    assert password.read_password("-") == SECRET


def test_from_private_file(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "pw")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, SECRET.encode() + b"\n")
    os.close(fd)
    assert password.read_password(path) == SECRET
    os.chmod(path, 0o644)
    with pytest.raises(ConfigFileError, match=r"group or others may read it \(mode 0644\)"):
        password.read_password(path)


def test_empty_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    with pytest.raises(InvalidValueError, match="empty"):
        password.read_password("-")


def test_hash_passes_the_password_on_stdin_only(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_run(argv: list[str], **kwargs: object) -> Completed:
        calls.append((argv, kwargs))
        return Completed(tuple(argv), 0, "$6$salt$hash\n", "")

    monkeypatch.setattr(password, "run", fake_run)
    assert password.hash_password(SECRET) == "$6$salt$hash"
    (argv, kwargs), *_ = calls
    assert argv == ["openssl", "passwd", "-6", "-stdin"]
    assert kwargs["stdin"] == SECRET + "\n"
    assert "env" not in kwargs
