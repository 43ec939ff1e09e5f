"""System setup: users with reserved ids, directories left as the admin set them, purge guards."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from openstack_pkg_tools import system
from openstack_pkg_tools.profile import Directory, SystemUser
from openstack_pkg_tools.system import SystemSetupError


def test_a_new_user_gets_its_group_and_reserved_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(system, "_user_id", lambda name: None)
    monkeypatch.setattr(system, "_group_id", lambda name: None)
    monkeypatch.setattr(system, "run", lambda argv, **kwargs: calls.append(list(argv)))
    user = SystemUser("glance", "/var/lib/glance", uid=64062, gid=64062)
    assert system.ensure_user(user) is True
    assert calls == [
        ["addgroup", "--system", "--quiet", "--gid", "64062", "glance"],
        [
            "adduser", "--system", "--quiet", "--home", "/var/lib/glance", "--no-create-home",
            "--shell", "/usr/sbin/nologin", "--ingroup", "glance", "--disabled-password",
            "--uid", "64062", "glance",
        ],
    ]  # fmt: skip


def test_an_existing_user_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "run", lambda argv, **kwargs: pytest.fail(f"ran {argv}"))
    assert system.ensure_user(SystemUser("root", "/root")) is False


def _tree(tmp_path: Path) -> Directory:
    return Directory(str(tmp_path / "lib" / "svc"), 0o750, "root", "root")


def test_a_directory_is_created_with_its_mode(tmp_path: Path) -> None:
    directory = _tree(tmp_path)
    assert system.ensure_directory(directory) == "created"
    assert stat.S_IMODE(os.stat(directory.path).st_mode) == 0o750
    assert system.ensure_directory(directory) is None


def test_an_existing_directory_keeps_the_admins_mode_unless_enforced(tmp_path: Path) -> None:
    directory = _tree(tmp_path)
    os.makedirs(directory.path, mode=0o700)
    system.ensure_directory(directory)
    assert stat.S_IMODE(os.stat(directory.path).st_mode) == 0o700
    enforced = Directory(directory.path, 0o750, "root", "root", enforce_mode=True)
    assert system.ensure_directory(enforced) == "set the owner and mode of"
    assert stat.S_IMODE(os.stat(directory.path).st_mode) == 0o750
    assert system.ensure_directory(enforced) is None


def test_an_enforced_directory_swapped_for_a_link_is_refused_not_followed(tmp_path: Path) -> None:
    # Its parent is another user's: a link there must not make root change the target.
    directory = _tree(tmp_path)
    os.makedirs(os.path.dirname(directory.path))
    os.chown(os.path.dirname(directory.path), 65534, 65534)
    target = tmp_path / "roots-file"
    target.write_text("x")
    os.chmod(target, 0o600)
    os.symlink(target, directory.path)
    enforced = Directory(directory.path, 0o777, "root", "root", enforce_mode=True)
    with pytest.raises(SystemSetupError, match="exists and is not a directory"):
        system.ensure_directory(enforced)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_a_file_where_a_directory_belongs_is_an_error(tmp_path: Path) -> None:
    directory = _tree(tmp_path)
    os.makedirs(os.path.dirname(directory.path))
    Path(directory.path).write_text("x")
    with pytest.raises(SystemSetupError, match="exists and is not a directory"):
        system.ensure_directory(directory)


def test_unknown_owner_is_named(tmp_path: Path) -> None:
    with pytest.raises(SystemSetupError, match="pkgostest-nobody does not exist"):
        system.ensure_directory(Directory(str(tmp_path / "x"), 0o750, "pkgostest-nobody", "root"))


@pytest.mark.parametrize(
    "path", ["", "/", "/var/lib", "/var/lib/", "var/lib/glance", "/var/lib/glance/..", "/usr"]
)
def test_purge_refuses_unsafe_paths(path: str) -> None:
    with pytest.raises(SystemSetupError, match="Refusing to delete"):
        system.remove_tree(path)
    with pytest.raises(SystemSetupError, match="Refusing to delete"):
        system.remove_file(path)


def test_purge_refuses_a_symbolic_link(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os.path, "islink", lambda path: path == "/var/lib/pkgostest-link")
    with pytest.raises(SystemSetupError, match="symbolic link"):
        system.remove_tree("/var/lib/pkgostest-link")


def test_purge_of_a_missing_directory_is_a_no_op() -> None:
    assert system.remove_tree("/var/lib/pkgostest-never-created") is False
