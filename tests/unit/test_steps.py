"""A package's own steps: the settings its profile fixes, its group memberships, nova's cells."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from openstack_pkg_tools import cells, steps, system
from openstack_pkg_tools.inifile import IniFile
from openstack_pkg_tools.profile import Cells, ConfigFile, ServiceProfile, parse
from openstack_pkg_tools.run import Completed
from openstack_pkg_tools.steps import SettingError
from openstack_pkg_tools.system import SystemSetupError


def _profile(conf: Path, agent: Path) -> str:
    return f"""
name = "foo"
[[config]]
source = "foo.conf"
target = "{conf}"

[[setting]]
section = "DEFAULT"
key = "core_plugin"
value = "ml2"

[[setting]]
section = "paths"
key = "literal"
value = "a$b"

[[setting]]
section = "paths"
key = "reference"
value = "$state_path/lock"
raw = true

[[setting]]
section = "scheduler"
key = "interval"
value = "300"
enforce = false

[[setting]]
package = "foo-agent"
config = "{agent}"
section = "vxlan"
key = "l2_population"
value = "true"
"""


def test_settings_are_written_once_by_their_package(tmp_path: Path) -> None:
    conf, agent = tmp_path / "foo.conf", tmp_path / "agent.ini"
    conf.write_text(
        "[DEFAULT]\n# the admin's comment\ncore_plugin = openvswitch\n[scheduler]\ninterval = 60\n"
    )
    agent.write_text("[vxlan]\n")
    profile = parse(_profile(conf, agent), "foo.toml")
    assert steps.write_settings(profile.settings_for("foo-common")) == [
        f"wrote [DEFAULT] core_plugin, [paths] literal, [paths] reference, [scheduler] interval in {conf}"
    ]
    written = IniFile(str(conf))
    assert written.get("DEFAULT", "core_plugin") == "ml2"
    assert written.get("paths", "literal") == "a$$b"  # oslo.config reads a$b
    assert written.get("paths", "reference") == "$state_path/lock"
    assert written.get("scheduler", "interval") == "60"  # not enforced: the admin's value stays
    assert "# the admin's comment" in conf.read_text()
    assert agent.read_text() == "[vxlan]\n"  # another package's setting
    inode = os.stat(conf).st_ino
    assert steps.write_settings(profile.settings_for("foo-common")) == []
    assert os.stat(conf).st_ino == inode  # not rewritten
    assert steps.write_settings(profile.settings_for("foo-agent")) == [
        f"wrote [vxlan] l2_population in {agent}"
    ]


def test_an_unset_setting_without_enforce_is_written(tmp_path: Path) -> None:
    conf, agent = tmp_path / "foo.conf", tmp_path / "agent.ini"
    conf.write_text("[scheduler]\n#interval = -1\n")
    steps.write_settings(parse(_profile(conf, agent), "foo.toml").settings_for("foo-common"))
    assert IniFile(str(conf)).get("scheduler", "interval") == "300"


def test_a_setting_in_a_missing_file_names_it(tmp_path: Path) -> None:
    profile = parse(_profile(tmp_path / "foo.conf", tmp_path / "agent.ini"), "foo.toml")
    with pytest.raises(
        SettingError, match=r"Cannot set \[vxlan\] l2_population in .*agent.ini: the file does not"
    ):
        steps.write_settings(profile.settings_for("foo-agent"))


def test_a_config_of_another_package_is_left_to_it(tmp_path: Path) -> None:
    config = ConfigFile("metadata_agent.ini", str(tmp_path / "m.ini"), "neutron-metadata-agent")
    assert system.install_config(config, "neutron-common", "root") == []
    assert not os.path.exists(config.target)


def test_a_config_gets_the_profiles_mode_and_owner(tmp_path: Path) -> None:
    # debconf ships /usr/share/debconf/confmodule: a real package's file.
    config = ConfigFile("confmodule", str(tmp_path / "confmodule"), "debconf", mode=0o660, group="root")
    assert system.install_config(config, "debconf", "pkgostest-unused") == [config.target]
    assert os.stat(config.target).st_mode & 0o777 == 0o660
    assert Path(config.target).read_bytes() == Path("/usr/share/debconf/confmodule").read_bytes()
    assert system.install_config(config, "debconf", "root") == []


def test_joining_a_group(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(system, "run", lambda argv, **kwargs: calls.append(list(argv)))
    assert system.ensure_membership("pkgostest-user", "root") is True
    assert calls == [["adduser", "--quiet", "pkgostest-user", "root"]]
    with pytest.raises(SystemSetupError, match="group pkgostest-no-group: the group does not exist"):
        system.ensure_membership("pkgostest-user", "pkgostest-no-group")


LIST_CELLS = """\
+-------+--------------------------------------+------------+-----------------------------------+----------+
|  Name |                 UUID                 | Transport  |        Database Connection        | Disabled |
+-------+--------------------------------------+------------+-----------------------------------+----------+
| cell0 | 00000000-0000-0000-0000-000000000000 |   none:/   | mysql+pymysql://n:****@db/cell0   |  False   |
|       | 6c1a4f9e-8f0e-4c57-9c39-4c0a8f7e1a11 | rabbit://a | mysql+pymysql://n:****@db/other   |  False   |
+-------+--------------------------------------+------------+-----------------------------------+----------+
"""


def test_cell_names_are_read_from_list_cells() -> None:
    assert cells.cell_names(LIST_CELLS) == {"cell0", ""}
    assert cells.cell_names("") == set()


def _cells_plan(tmp_path: Path, text: str) -> cells.CellsPlan:
    conf = tmp_path / "nova.conf"
    conf.write_text(text)
    return cells.CellsPlan("nova", "root", Cells(("cell1",), str(conf), ("nova-manage",)))


def test_a_cell_is_created_only_when_list_cells_does_not_show_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _cells_plan(
        tmp_path, "[DEFAULT]\ntransport_url = rabbit://n:p@mq//\n[database]\nconnection = x://\n"
    )
    calls: list[list[str]] = []
    shown = [LIST_CELLS]

    def fake_run(argv: list[str], **kwargs: object) -> Completed:
        calls.append(argv)
        return Completed(tuple(argv), 0, shown[0] if "list_cells" in argv else "", "")

    monkeypatch.setattr(cells, "run", fake_run)
    assert cells.ensure_cells(plan) == ["created nova cell cell1"]
    assert [argv[argv.index("nova-manage") :] for argv in calls] == [
        ["nova-manage", "cell_v2", "list_cells"],
        ["nova-manage", "cell_v2", "create_cell", "--name", "cell1"],
    ]
    shown[0] = LIST_CELLS.replace("|       |", "| cell1 |")
    calls.clear()
    assert cells.ensure_cells(plan) == []
    assert len(calls) == 1


def test_urls_taken_by_another_cell_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _cells_plan(
        tmp_path, "[DEFAULT]\ntransport_url = rabbit://n:p@mq//\n[database]\nconnection = x://\n"
    )
    monkeypatch.setattr(
        cells,
        "run",
        lambda argv, **kwargs: Completed(tuple(argv), 0 if "list_cells" in argv else 2, LIST_CELLS, ""),
    )
    with pytest.raises(
        cells.CellError, match="another cell already uses the database and message-queue URLs"
    ):
        cells.ensure_cells(plan)


def test_no_cell_without_a_transport_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _cells_plan(tmp_path, "[database]\nconnection = x://\n")
    monkeypatch.setattr(cells, "run", lambda argv, **kwargs: pytest.fail(f"ran {argv}"))
    assert cells.ensure_cells(plan) == []
    assert cells.missing_urls(plan.cells.config) == ["[DEFAULT] transport_url"]


# The service runs as root: the test creates no system user.
LEFTOVERS = """
name = "pkgostest-leftover"
[user]
name = "root"
home = "/root"

[[leftover]]
path = "/var/lib/pkgostest-leftover/policy.json"
action = "rename"
rename_to = "/var/lib/pkgostest-leftover/disabled.policy.json.old"

[[leftover]]
path = "/var/lib/pkgostest-leftover/old-policy.json"
action = "remove"

[[leftover]]
path = "/var/lib/pkgostest-leftover/default"
"""


def test_leftovers_are_renamed_or_removed_by_postinst_and_removed_by_purge() -> None:
    profile = parse(LEFTOVERS, "leftover.toml")
    folder = Path("/var/lib/pkgostest-leftover")
    folder.mkdir()
    try:
        for name in ("policy.json", "old-policy.json", "default"):
            (folder / name).write_text(name)
        assert [
            line for line in steps.install_files(profile, "pkgostest-leftover-api") if "older version" in line
        ] == []
        assert (folder / "old-policy.json").exists()  # another package's leftovers are not its own
        done = [
            line
            for line in steps.install_files(profile, "pkgostest-leftover-common")
            if "older version" in line
        ]
        assert done == [
            f"renamed {folder}/policy.json to {folder}/disabled.policy.json.old (left by an older version)",
            f"removed {folder}/old-policy.json (left by an older version)",
        ]
        assert (folder / "disabled.policy.json.old").read_text() == "policy.json"
        assert (folder / "default").exists()  # kept: removed on purge only
        assert steps.install_files(profile, "pkgostest-leftover-common") == []
        purged = steps.purge_files(profile, "pkgostest-leftover-common")
        assert {f"removed {folder}/default", f"removed {folder}/disabled.policy.json.old"} <= set(purged)
        assert not folder.exists()  # /var/lib/<svc> goes with the purge
    finally:
        for path in (folder, Path("/var/log/pkgostest-leftover")):
            if path.exists():
                system.remove_tree(str(path))
        system.remove_empty_directory("/etc/pkgostest-leftover")


def test_only_a_regular_file_is_moved_aside(tmp_path: Path) -> None:
    (tmp_path / "target").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    assert system.move_aside(str(tmp_path / "link"), str(tmp_path / "moved")) is False
    assert system.move_aside(str(tmp_path / "missing"), str(tmp_path / "moved")) is False
    assert system.move_aside(str(tmp_path / "target"), str(tmp_path / "moved")) is True
    assert (tmp_path / "moved").read_text() == "x" and (tmp_path / "link").is_symlink()


# debconf ships /usr/share/debconf/confmodule and confmodule.sh: real files a pattern matches.
PATTERN = """
name = "pkgostest-pattern"
[user]
name = "root"
home = "/root"

[[config]]
source = "pkgostest.conf"

[[config]]
package = "debconf"
source = "confmodule*"
target = "{target}"
owner = "root"
group = "root"
mode = "0600"
"""


@pytest.fixture
def pattern_service() -> Iterator[None]:
    """Remove the directories install_files makes for the pkgostest-pattern service."""
    yield
    for path in ("/var/lib/pkgostest-pattern", "/var/log/pkgostest-pattern"):
        if os.path.exists(path):
            system.remove_tree(path)
    system.remove_empty_directory("/etc/pkgostest-pattern")


def _installed(profile: ServiceProfile, package: str) -> list[str]:
    return [line for line in steps.install_files(profile, package) if line.startswith("installed")]


@pytest.mark.usefixtures("pattern_service")
def test_a_pattern_installs_each_shipped_file_it_matches_once(tmp_path: Path) -> None:
    target = tmp_path / "metadefs"
    target.mkdir()
    profile = parse(PATTERN.format(target=target), "pattern.toml")
    pattern = profile.configs_for("debconf")[0]
    assert pattern.is_pattern and pattern.pattern == "confmodule*"
    # The defaults that need one file skip the pattern.
    (target / "confmodule").write_text("the administrator's")
    (target / "confmodule.sh").symlink_to(tmp_path / "elsewhere")  # a name taken, even by a link
    assert system.install_config(pattern, "debconf", "root") == []
    (target / "confmodule.sh").unlink()
    assert _installed(profile, "debconf") == [f"installed 1 files in {target} (confmodule*)"]
    assert (target / "confmodule").read_text() == "the administrator's"
    shipped = Path("/usr/share/debconf/confmodule.sh").read_bytes()
    assert (target / "confmodule.sh").read_bytes() == shipped
    assert os.stat(target / "confmodule.sh").st_mode & 0o777 == 0o600
    assert not (tmp_path / "elsewhere").exists()
    assert _installed(profile, "debconf") == []


@pytest.mark.usefixtures("pattern_service")
def test_the_purge_of_a_pattern_removes_the_matching_files_only(tmp_path: Path) -> None:
    # A purge deletes below /etc, /var/lib, /var/log or /var/cache only.
    target = Path("/var/lib/pkgostest-pattern/metadefs")
    target.mkdir(parents=True)
    profile = parse(PATTERN.format(target=target), "pattern.toml")
    steps.install_files(profile, "debconf")
    (target / "confmodule.d").mkdir()  # a directory of a matching name stays
    (target / "README").write_text("not the package's")
    (tmp_path / "kept").write_text("x")
    (target / "confmodule.link").symlink_to(tmp_path / "kept")
    removed = [line for line in steps.purge_files(profile, "debconf") if "files in" in line]
    assert removed == [f"removed 3 files in {target} (confmodule*)"]
    assert sorted(path.name for path in target.iterdir()) == ["README", "confmodule.d"]
    assert (tmp_path / "kept").read_text() == "x"  # the link went, not its target
    assert not [line for line in steps.purge_files(profile, "debconf") if "files in" in line]


def test_a_pattern_is_no_default_config_file() -> None:
    profile = parse(
        'name = "foo"\n[[config]]\nsource = "metadefs/*.json"\nowner = "foo"\n'
        '[[config]]\nsource = "foo.conf"\n[messaging]\n[[setting]]\nsection = "a"\nkey = "b"\nvalue = "c"\n',
        "foo.toml",
    )
    pattern, conf = profile.configs
    assert (pattern.target, pattern.is_pattern, conf.is_pattern) == ("/etc/foo/metadefs", True, False)
    assert profile.messaging is not None and profile.messaging.configs == ("/etc/foo/foo.conf",)
    assert profile.settings[0].config == "/etc/foo/foo.conf"


def test_a_pattern_whose_folder_is_missing_names_it(tmp_path: Path) -> None:
    config = ConfigFile("pkgostest-missing/*.json", str(tmp_path), "debconf", owner="root", group="root")
    with pytest.raises(SystemSetupError, match=r"/usr/share/debconf/pkgostest-missing: No such file"):
        system.install_config(config, "debconf", "root")
