"""fileio's lock and refusals, and the value escapes, at the library level."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openstack_pkg_tools.errors import ConfigFileError
from openstack_pkg_tools.fileio import FileLock, atomic_write, read_bytes
from openstack_pkg_tools.inifile import (
    IniFile,
    oslo_literal,
    oslo_references,
    oslo_unliteral,
    paste_literal,
    paste_unliteral,
)


def test_a_lock_held_elsewhere_is_waited_for_then_an_error(tmp_path: Path) -> None:
    path = tmp_path / "nova.conf"
    path.write_text("[DEFAULT]\n")
    with path.open("rb") as other:  # another open file description: another writer
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(ConfigFileError, match=r"another process has been editing it for 0\.2 s"):
            FileLock.acquire(str(path), timeout=0.2)
    FileLock.acquire(str(path), timeout=0.2).release()


def test_a_missing_file_is_locked_through_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "new.conf"
    lock = FileLock.acquire(str(path))
    try:
        assert lock.content is None
        directory = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(directory, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(directory)
    finally:
        lock.release()


def test_an_edit_made_meanwhile_is_read_again_under_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "nova.conf"
    path.write_text("[DEFAULT]\n")
    conf = IniFile(str(path))  # read before the other writer
    with IniFile(str(path)) as other:
        other.set("DEFAULT", "a", "1")
    with conf:
        conf.set("DEFAULT", "b", "2")
    assert path.read_text() == "[DEFAULT]\na = 1\nb = 2\n"


@pytest.mark.parametrize("make", [os.mkfifo, lambda path: os.mknod(path, 0o600 | 0o020000, os.makedev(1, 3))])
def test_special_files_are_refused_for_reading_and_writing(tmp_path: Path, make: object) -> None:
    path = tmp_path / "special"
    make(str(path))  # type: ignore[operator]
    with pytest.raises(ConfigFileError, match="not a regular file"):
        read_bytes(str(path))
    with pytest.raises(ConfigFileError, match="not a regular file"):
        atomic_write(str(path), b"x")
    assert not path.is_file()


def test_set_create_creates_only_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "dir.conf"
    path.mkdir()
    with pytest.raises(ConfigFileError, match="directory"):
        IniFile(str(path), create=True)


def test_a_lone_carriage_return_in_a_comment_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nova.conf"
    path.write_bytes(b"[DEFAULT]\r\n# note\rdebug = true\r\n")
    with pytest.raises(ConfigFileError, match="2: a carriage return without a line feed"):
        IniFile(str(path))


@given(st.text())
def test_the_escapes_are_undone_by_their_readers(value: str) -> None:
    assert oslo_unliteral(oslo_literal(value)) == value
    assert oslo_references(oslo_literal(value)) == []
    assert paste_unliteral(paste_literal(value)) == value


def test_references_are_found_as_oslo_config_finds_them() -> None:
    assert oslo_references("$state_path/lock ${a.b} $$x \\$y $1 $") == ["state_path", "a.b"]
    assert paste_unliteral("%(here)s") is None and paste_unliteral("50%") is None
