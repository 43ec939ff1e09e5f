"""A service's packages set up their own part of the system, twice the same, and purge only it.

Real users, groups, directories and files (the test runs as root): a
service ``pkgostest-svc`` of two packages, whose defaults are placed in
/usr/share/<package>/ as a Debian package would ship them.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator

import pytest

from openstack_pkg_tools import steps
from openstack_pkg_tools.inifile import IniFile
from openstack_pkg_tools.profile import ServiceProfile, parse

NAME = "pkgostest-svc"
COMMON, AGENT = f"{NAME}-common", f"{NAME}-agent"
GROUP = "pkgostest-hypervisor"
PROFILE = f"""
name = "{NAME}"

[[membership]]
group = "{GROUP}"
package = "{AGENT}"

[[directory]]
path = "/var/lib/{NAME}/cache"
purge = true

[[directory]]
path = "/var/lib/{NAME}/agent"
package = "{AGENT}"
mode = "0755"
purge = true

[[config]]
source = "svc.conf"
mode = "0660"

[[config]]
source = "plugins/ml2/ml2_conf.ini"

[[config]]
package = "{AGENT}"
source = "agent.ini"
owner = "{NAME}"
group = "{NAME}"

[[setting]]
section = "DEFAULT"
key = "core_plugin"
value = "ml2"

[[setting]]
package = "{AGENT}"
config = "/etc/{NAME}/agent.ini"
section = "agent"
key = "interval"
value = "300"
enforce = false
"""


@pytest.fixture
def profile() -> Iterator[ServiceProfile]:
    """The profile, its packages' shipped defaults and its group; all removed after, by name."""
    shipped = {
        COMMON: {"svc.conf": "[DEFAULT]\ncore_plugin = openvswitch\n", "plugins/ml2/ml2_conf.ini": "[ml2]\n"},
        AGENT: {"agent.ini": "[agent]\n"},
    }
    for package, files in shipped.items():
        for source, text in files.items():
            path = f"/usr/share/{package}/{source}"
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as handle:
                handle.write(text)
    # What the packages would ship: the directory of ml2_conf.ini.
    os.makedirs(f"/etc/{NAME}/plugins/ml2", exist_ok=True)
    subprocess.run(["groupadd", "--system", GROUP], check=True)
    try:
        yield parse(PROFILE, "pkgostest-svc.toml")
    finally:
        for path in (f"/usr/share/{COMMON}", f"/usr/share/{AGENT}", f"/etc/{NAME}", f"/var/lib/{NAME}"):
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(f"/var/log/{NAME}", ignore_errors=True)
        subprocess.run(["userdel", NAME], check=False)
        subprocess.run(["groupdel", GROUP], check=False)
        subprocess.run(["groupdel", NAME], check=False)


def snapshot(root: str) -> dict[str, tuple[int, int, int, int, int]]:
    """Every path below ``root``: inode, mode, owner, group, modification time."""
    found = {}
    for directory, _, files in os.walk(root):
        for path in [directory, *(os.path.join(directory, name) for name in files)]:
            st = os.lstat(path)
            found[path] = (st.st_ino, st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns)
    return found


def test_each_package_sets_up_its_part_once_and_purges_only_it(profile: ServiceProfile) -> None:
    done = steps.install_files(profile, COMMON)
    assert f"created system user {NAME}" in done
    assert f"installed /etc/{NAME}/plugins/ml2/ml2_conf.ini" in done
    assert f"wrote [DEFAULT] core_plugin in /etc/{NAME}/svc.conf" in done
    assert not os.path.exists(f"/etc/{NAME}/agent.ini")  # the agent's file
    assert not os.path.exists(f"/var/lib/{NAME}/agent")
    assert NAME not in grp.getgrnam(GROUP).gr_mem  # only the agent's postinst joins it
    conf = os.stat(f"/etc/{NAME}/svc.conf")
    assert (stat.S_IMODE(conf.st_mode), conf.st_uid, conf.st_gid) == (0o660, 0, grp.getgrnam(NAME).gr_gid)
    assert IniFile(f"/etc/{NAME}/svc.conf").get("DEFAULT", "core_plugin") == "ml2"

    agent_done = steps.install_files(profile, AGENT)
    assert agent_done == [
        f"added {NAME} to group {GROUP}",
        f"created /var/lib/{NAME}/agent (0755 {NAME}:{NAME})",
        f"installed /etc/{NAME}/agent.ini",
        f"wrote [agent] interval in /etc/{NAME}/agent.ini",
    ]
    agent = os.stat(f"/etc/{NAME}/agent.ini")
    assert (stat.S_IMODE(agent.st_mode), agent.st_uid) == (0o640, pwd.getpwnam(NAME).pw_uid)
    assert NAME in grp.getgrnam(GROUP).gr_mem

    # A second postinst of each package changes nothing and rewrites nothing.
    before = {**snapshot(f"/etc/{NAME}"), **snapshot(f"/var/lib/{NAME}")}
    assert steps.install_files(profile, COMMON) == []
    assert steps.install_files(profile, AGENT) == []
    assert {**snapshot(f"/etc/{NAME}"), **snapshot(f"/var/lib/{NAME}")} == before

    # The agent's purge takes only what the agent made.
    assert steps.purge_files(profile, AGENT) == [
        f"removed /etc/{NAME}/agent.ini",
        f"removed /var/lib/{NAME}/agent",
    ]
    assert os.path.exists(f"/etc/{NAME}/svc.conf") and os.path.isdir(f"/var/lib/{NAME}/cache")
    removed = steps.purge_files(profile, COMMON)
    assert f"removed /var/lib/{NAME}/cache" in removed and f"removed /var/lib/{NAME}" in removed
    assert not os.path.exists(f"/etc/{NAME}/svc.conf") and not os.path.exists(f"/var/lib/{NAME}")
    # The plugins/ml2 directory a package ships stays, so /etc/<svc> is not empty.
    assert os.path.isdir(f"/etc/{NAME}/plugins/ml2")
