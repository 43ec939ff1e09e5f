"""A profile's [[leftover]] and [[file]] entries on a real system (the test runs as root).

A service ``pkgostest-nvleft`` whose package finds files an older version
left (one to move aside, one to remove, one kept until the purge) and
makes a log file its user must own, even when a root run made it first.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator

import pytest

from openstack_pkg_tools import steps
from openstack_pkg_tools.profile import ServiceProfile, parse
from openstack_pkg_tools.system import SystemSetupError

NAME = "pkgostest-nvleft"
COMMON = f"{NAME}-common"
ETC, LOG = f"/etc/{NAME}", f"/var/log/{NAME}"
PROFILE = f"""
name = "{NAME}"

[[file]]
path = "{LOG}/manage.log"

[[leftover]]
path = "{ETC}/policy.json"
action = "rename"
rename_to = "{ETC}/disabled.policy.json.old"

[[leftover]]
path = "{ETC}/old_sudoers"
action = "remove"

[[leftover]]
path = "{ETC}/placement-policy.json"
"""


@pytest.fixture
def profile() -> Iterator[ServiceProfile]:
    """The profile, with what an older version left in /etc/<name>; all removed after, by name."""
    os.makedirs(ETC)
    for name in ("policy.json", "old_sudoers", "placement-policy.json"):
        with open(f"{ETC}/{name}", "w") as handle:
            handle.write("{}\n")
    try:
        yield parse(PROFILE, f"{NAME}.toml")
    finally:
        for path in (ETC, LOG, f"/var/lib/{NAME}"):
            shutil.rmtree(path, ignore_errors=True)
        subprocess.run(["userdel", NAME], check=False)
        subprocess.run(["groupdel", NAME], check=False)


def test_leftovers_are_handled_once_and_the_state_file_is_the_service_users(profile: ServiceProfile) -> None:
    done = steps.install_files(profile, COMMON)
    assert f"renamed {ETC}/policy.json to {ETC}/disabled.policy.json.old (left by an older version)" in done
    assert f"removed {ETC}/old_sudoers (left by an older version)" in done
    assert sorted(os.listdir(ETC)) == ["disabled.policy.json.old", "placement-policy.json"]
    user = pwd.getpwnam(NAME)
    log = os.stat(f"{LOG}/manage.log")
    assert (log.st_uid, log.st_gid, stat.S_IMODE(log.st_mode), log.st_size) == (
        user.pw_uid,
        user.pw_gid,
        0o640,
        0,
    )
    assert steps.install_files(profile, COMMON) == []
    # A run of the management command as root left the log root's: the next configure gives it back.
    os.chown(f"{LOG}/manage.log", 0, 0)
    with open(f"{LOG}/manage.log", "a") as handle:
        handle.write("a line\n")
    assert steps.install_files(profile, COMMON) == [f"made {LOG}/manage.log {NAME}:{NAME} 0640"]
    log = os.stat(f"{LOG}/manage.log")
    assert (log.st_uid, log.st_size) == (user.pw_uid, len("a line\n"))


def test_a_link_at_the_state_files_name_is_refused(profile: ServiceProfile) -> None:
    os.makedirs(LOG)
    os.symlink("/etc/shadow", f"{LOG}/manage.log")
    with pytest.raises(
        SystemSetupError, match=r"Cannot open /var/log/pkgostest-nvleft/manage.log: Too many levels"
    ):
        steps.install_files(profile, COMMON)
    assert os.stat("/etc/shadow").st_uid == 0


def test_the_purge_removes_leftovers_their_renamed_copies_and_the_state_file(profile: ServiceProfile) -> None:
    steps.install_files(profile, COMMON)
    done = steps.purge_files(profile, COMMON)
    for path in (f"{LOG}/manage.log", f"{ETC}/disabled.policy.json.old", f"{ETC}/placement-policy.json"):
        assert f"removed {path}" in done
        assert not os.path.lexists(path)
