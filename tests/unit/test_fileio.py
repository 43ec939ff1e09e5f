"""atomic_write(): content, owner and mode, symlinks, no needless writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openstack_pkg_tools import fileio
from openstack_pkg_tools.errors import ConfigFileError
from openstack_pkg_tools.fileio import atomic_write, read_bytes


def test_new_file_gets_the_given_mode_and_owner(tmp_path: Path) -> None:
    path = tmp_path / "new.conf"
    assert atomic_write(str(path), b"x\n", new_file_mode=0o640, new_file_owner=(1234, 4321)) is True
    info = path.stat()
    assert (path.read_bytes(), info.st_mode & 0o7777, info.st_uid, info.st_gid) == (b"x\n", 0o640, 1234, 4321)


def test_existing_file_keeps_owner_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "old.conf"
    path.write_bytes(b"old")
    os.chown(path, 555, 666)
    path.chmod(0o604)
    atomic_write(str(path), b"new", new_file_mode=0o600, new_file_owner=(0, 0))
    info = path.stat()
    assert (path.read_bytes(), info.st_mode & 0o7777, info.st_uid, info.st_gid) == (b"new", 0o604, 555, 666)


def test_unchanged_content_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "same.conf"
    path.write_bytes(b"same")
    os.utime(path, ns=(5, 5))
    inode = path.stat().st_ino
    assert atomic_write(str(path), b"same") is False
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == (5, inode)


def test_symlink_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.conf"
    real.write_bytes(b"a")
    link = tmp_path / "link.conf"
    link.symlink_to(real)
    atomic_write(str(link), b"b")
    assert link.is_symlink() and real.read_bytes() == b"b"


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.conf"
    link.symlink_to("real.conf")
    atomic_write(str(link), b"b", new_file_mode=0o640)
    real = tmp_path / "real.conf"
    assert link.is_symlink() and real.read_bytes() == b"b"
    assert real.stat().st_mode & 0o7777 == 0o640


def test_file_in_a_linked_directory_is_replaced_where_it_is(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.conf").write_bytes(b"a")
    (tmp_path / "linked").symlink_to("real")
    atomic_write(str(tmp_path / "linked" / "a.conf"), b"b")
    assert (tmp_path / "linked").is_symlink()
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["a.conf"]
    assert (tmp_path / "real" / "a.conf").read_bytes() == b"b"


def test_relative_path_is_written_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.conf").write_bytes(b"a")
    assert atomic_write("a.conf", b"b") is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.conf"]
    assert (tmp_path / "a.conf").read_bytes() == b"b"


def test_content_in_pieces_is_written_in_order(tmp_path: Path) -> None:
    path = tmp_path / "pieces.conf"
    path.write_bytes(b"old")
    source = b"0123456789"
    pieces: list[bytes | memoryview] = [memoryview(source)[2:5], b"", b"-", memoryview(source)[:2]]
    assert atomic_write(str(path), pieces) is True
    assert path.read_bytes() == b"234-01"
    assert atomic_write(str(path), [b"23", memoryview(b"4-01")]) is False


def test_short_writes_are_resumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_writev = fileio.posix.writev

    def three_bytes_at_most(fd: int, buffers: list[memoryview]) -> int:
        return real_writev(fd, [bytes(b"".join(buffers)[:3])])

    monkeypatch.setattr(fileio.posix, "writev", three_bytes_at_most)
    path = tmp_path / "short.conf"
    atomic_write(str(path), [b"ab", b"cdefg", memoryview(b"hij")[1:], b"k"])
    assert path.read_bytes() == b"abcdefgijk"


def test_no_temporary_file_is_left(tmp_path: Path) -> None:
    atomic_write(str(tmp_path / "a.conf"), b"1")
    atomic_write(str(tmp_path / "a.conf"), b"2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.conf"]


def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match=r"nowhere/x.conf: cannot create a temporary file beside it"):
        atomic_write(str(tmp_path / "nowhere" / "x.conf"), b"1")


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="no such file"):
        read_bytes(str(tmp_path / "missing"))
    with pytest.raises(ConfigFileError, match="is a directory"):
        read_bytes(str(tmp_path))
