"""The oslo.config file editor: placement, round-trips, preservation, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openstack_pkg_tools.errors import ConfigFileError, InvalidValueError
from openstack_pkg_tools.inifile import IniFile, decode_value, encode_value, oslo_literal, oslo_unliteral

SAMPLE = """\
[DEFAULT]

#
# From oslo.log
#

# If set to true, the logging level will be set to DEBUG (boolean value)
#debug = false

[database]
# The SQLAlchemy connection string (string value)
#connection = <None>

# Interval between retries (integer value)
#connection_recycle_time = 3600

[keystone_authtoken]
auth_uri = http://old:5000
admin_user = glance
admin_tenant_name = service

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
"""

# Every character the reference shell library mangles, and then some.
NASTY_VALUES = [
    "a&b",
    "a|b",
    "back\\slash",
    "x=y=z",
    "mysql+pymysql://u:p@h/db?charset=utf8",
    "#not a comment",
    ";not a comment",
    "100%",
    "user@host",
    "a:b",
    "/var/lib/x",
    "*",
    "it's",
    'say "hi"',
    " leading",
    "trailing ",
    "  both  ",
    "inner  spaces",
    "ünïcödé ✓ 日本",
    "",
    '"quoted"',
    "'single'",
    '"',
    "'",
    '""',
    "\t",
    "<None>",
    "[not a section]",
    "& | \\ = ? # ; % @ : / * ' \"",
]


def write(tmp_path: Path, text: str, name: str = "test.conf") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def edit(path: Path, *edits: tuple[str, str, str]) -> str:
    with IniFile(str(path)) as conf:
        for section, key, value in edits:
            conf.set(section, key, value)
    return path.read_bytes().decode()


def test_get_reads_live_values_and_treats_comments_as_unset(tmp_path: Path) -> None:
    conf = IniFile(str(write(tmp_path, SAMPLE)))
    assert conf.get("keystone_authtoken", "admin_user") == "glance"
    assert conf.get("database", "connection") is None
    assert conf.get("DEFAULT", "debug") is None
    assert conf.get("filter:authtoken", "paste.filter_factory") == (
        "keystonemiddleware.auth_token:filter_factory"
    )
    assert conf.get("nosuchsection", "x") is None


def test_set_uncomments_the_default_in_place(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE)
    text = edit(path, ("database", "connection", "sqlite:////var/lib/glance/glance.sqlite"))
    assert text == SAMPLE.replace(
        "#connection = <None>", "connection = sqlite:////var/lib/glance/glance.sqlite"
    )


def test_set_replaces_the_live_line_in_place(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE)
    text = edit(path, ("keystone_authtoken", "admin_user", "nova"))
    assert text == SAMPLE.replace("admin_user = glance", "admin_user = nova")


def test_set_keeps_the_separator_style(tmp_path: Path) -> None:
    path = write(tmp_path, "[s]\na=1\nb: 2\nc   =   3\n")
    assert edit(path, ("s", "a", "x"), ("s", "b", "y"), ("s", "c", "z")) == "[s]\na=x\nb: y\nc   =   z\n"


def test_set_appends_at_the_end_of_the_section(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE)
    text = edit(path, ("keystone_authtoken", "password", "secret"))
    assert text == SAMPLE.replace(
        "admin_tenant_name = service\n", "admin_tenant_name = service\npassword = secret\n"
    )


def test_set_creates_a_missing_section_at_the_end(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE)
    text = edit(path, ("oslo_messaging_notifications", "driver", "messagingv2"))
    assert text == SAMPLE + "\n[oslo_messaging_notifications]\ndriver = messagingv2\n"


def test_missing_final_newline_is_kept_where_untouched(tmp_path: Path) -> None:
    path = write(tmp_path, "[a]\nx = 1\n\n[b]\ny = 2")
    assert edit(path, ("a", "x", "9")) == "[a]\nx = 9\n\n[b]\ny = 2"
    assert edit(path, ("b", "y", "8")) == "[a]\nx = 9\n\n[b]\ny = 8"


def test_crlf_files_stay_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, "[a]\r\nx = 1\r\n")
    assert edit(path, ("a", "x", "2"), ("a", "y", "3")) == "[a]\r\nx = 2\r\ny = 3\r\n"


def test_trailing_whitespace_and_comments_survive(tmp_path: Path) -> None:
    original = "# top comment  \n[a]   \n; semi comment\t\nx = 1\n\n\n[b]\n"
    path = write(tmp_path, original)
    assert edit(path, ("b", "y", "2")) == original + "y = 2\n"


@pytest.mark.parametrize("value", NASTY_VALUES)
def test_any_value_round_trips(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, SAMPLE)
    edit(path, ("database", "connection", value))
    assert IniFile(str(path)).get("database", "connection") == value


@pytest.mark.parametrize("value", NASTY_VALUES)
def test_values_read_the_same_with_oslo_config(tmp_path: Path, value: str) -> None:
    from oslo_config import cfg

    path = write(tmp_path, SAMPLE)
    edit(path, ("database", "connection", value))
    sections: dict[str, dict[str, list[str]]] = {}
    cfg.ConfigParser(str(path), sections).parse()
    assert sections["database"]["connection"] == [value]


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "\n"])
def test_a_line_break_in_a_value_is_refused_and_the_file_untouched(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, SAMPLE)
    before = path.stat()
    with pytest.raises(InvalidValueError, match=r"test.conf.*line break"), IniFile(str(path)) as conf:
        conf.set("database", "connection", "fine")
        conf.set("database", "connection", value)
    assert path.read_text() == SAMPLE
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_multi_line_values_are_read_and_replaced_whole(tmp_path: Path) -> None:
    path = write(tmp_path, "[a]\nx = one\n  two\n\tthree\ny = 1\n")
    assert IniFile(str(path)).get("a", "x") == "one\ntwo\nthree"
    assert edit(path, ("a", "x", "single")) == "[a]\nx = single\ny = 1\n"


def test_duplicate_sections_merge_and_the_last_value_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "[a]\nx = 1\n[b]\n[a]\nx = 2\n")
    assert IniFile(str(path)).get("a", "x") == "2"
    assert edit(path, ("a", "x", "3")) == "[a]\n[b]\n[a]\nx = 3\n"


def test_section_names_are_case_insensitive_except_default(tmp_path: Path) -> None:
    path = write(tmp_path, "[Database]\nconnection = x\n[default]\ny = 1\n")
    conf = IniFile(str(path))
    assert conf.get("database", "connection") == "x"
    assert conf.get("DEFAULT", "y") is None


def test_commented_lookalike_keys_are_not_uncommented(tmp_path: Path) -> None:
    path = write(tmp_path, "[database]\n#connection_recycle_time = 3600\n# connection: see the guide\n")
    text = edit(path, ("database", "connection", "x"))
    assert (
        text == "[database]\n#connection_recycle_time = 3600\n# connection: see the guide\nconnection = x\n"
    )


def test_add_if_absent_with_a_comment(tmp_path: Path) -> None:
    path = write(tmp_path, "[a]\nx = 1\n")
    with IniFile(str(path)) as conf:
        assert conf.add_if_absent("a", "y", "2", comment="Added by the\npackage") is True
        assert conf.add_if_absent("a", "x", "changed") is False
    assert path.read_text() == "[a]\nx = 1\n# Added by the\n# package\ny = 2\n"


def test_unset_and_comment_out(tmp_path: Path) -> None:
    path = write(tmp_path, "[a]\nx = 1\ny = 2\n  more\nz = 3\n")
    with IniFile(str(path)) as conf:
        assert conf.unset("a", "x") is True
        assert conf.comment_out("a", "y") is True
        assert conf.unset("a", "nothing") is False
    assert path.read_text() == "[a]\n#y = 2\n#  more\nz = 3\n"
    assert IniFile(str(path)).get("a", "y") is None


def test_rename_moves_the_value_and_comments_out_the_old(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE)
    with IniFile(str(path)) as conf:
        assert conf.rename("keystone_authtoken", "admin_user", "keystone_authtoken", "username")
        assert conf.rename("keystone_authtoken", "admin_tenant_name", "keystone_authtoken", "project_name")
        assert not conf.rename("keystone_authtoken", "admin_password", "keystone_authtoken", "password")
    conf = IniFile(str(path))
    assert conf.get("keystone_authtoken", "username") == "glance"
    assert conf.get("keystone_authtoken", "project_name") == "service"
    assert conf.get("keystone_authtoken", "admin_user") is None
    assert "#admin_user = glance" in path.read_text()


def test_rename_keeps_a_value_already_under_the_new_name(tmp_path: Path) -> None:
    path = write(tmp_path, "[k]\nadmin_user = old\nusername = new\n")
    with IniFile(str(path)) as conf:
        conf.rename("k", "admin_user", "k", "username")
    assert path.read_text() == "[k]\n#admin_user = old\nusername = new\n"


def test_remove_section(tmp_path: Path) -> None:
    path = write(tmp_path, "[a]\nx = 1\n\n[b]\ny = 2\n\n[a]\nz = 3\n")
    with IniFile(str(path)) as conf:
        assert conf.remove_section("a") is True
        assert conf.remove_section("a") is False
    assert path.read_text() == "[b]\ny = 2\n\n"


def test_extract_section_moves_it_to_another_file(tmp_path: Path) -> None:
    source = write(tmp_path, SAMPLE)
    destination = tmp_path / "api-paste.ini"
    with IniFile(str(source)) as conf, IniFile(str(destination), create=True) as dest:
        assert conf.extract_section("filter:authtoken", dest)
    assert "[filter:authtoken]" not in source.read_text()
    assert destination.read_text() == (
        "[filter:authtoken]\npaste.filter_factory = keystonemiddleware.auth_token:filter_factory\n"
    )
    with IniFile(str(source)) as conf, IniFile(str(destination), create=True) as dest:
        assert not conf.extract_section("filter:authtoken", dest)


def test_no_write_when_nothing_changes(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE)
    edit(path, ("keystone_authtoken", "admin_user", "x"))
    os.utime(path, ns=(1, 1))
    with IniFile(str(path)) as conf:
        conf.set("keystone_authtoken", "admin_user", "x")
        assert not conf.changed
    assert path.stat().st_mtime_ns == 1


def test_saving_twice_writes_once(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE)
    conf = IniFile(str(path))
    assert not conf.changed and conf.save() is False
    conf.set("database", "connection", "x")
    assert conf.changed and conf.save() is True
    assert not conf.changed and conf.save() is False
    conf.set("database", "connection", "y")
    conf.set("database", "connection", "x")
    assert not conf.changed and conf.save() is False
    assert conf.data() == path.read_bytes()


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("[DEFAULT]\n[database\nx = 1\n", 2, "malformed section header"),
        ("[a]\n[]\n", 2, "empty section name"),
        ("x = 1\n[a]\n", 1, "before any"),
        ("[a]\njust words\n", 2, "no '=' or ':'"),
        ("[a]\n= value\n", 2, "empty name"),
        ("[a]\n# comment\n  indented\n", 3, "continues no directive"),
    ],
)
def test_malformed_files_name_the_file_and_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError, match=problem) as caught:
        IniFile(str(path))
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")


# Comments and blank lines, as oslo-config-generator writes them.
GENERATED = "".join(f"# Help of option {n}.\n#option_{n} = default\n\n" for n in range(500))


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("just words", "no '=' or ':'"),
        ("= value", "empty name"),
        ("\x0c= 1", "empty name"),
        ("\xa0x", "no '=' or ':'"),
        ("\u3000x", "no '=' or ':'"),
        ("\rx", "carriage return without a line feed"),
        ("  indented", "continues no directive"),
        ("\tindented = x", "continues no directive"),
    ],
)
def test_an_error_where_no_edit_looks_is_reported(tmp_path: Path, line: str, problem: str) -> None:
    text = f"[DEFAULT]\n{GENERATED}[database]\n{GENERATED}[other]\nx = 1\n#\n{line}\ny = 2\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError, match=problem) as caught, IniFile(str(path)) as conf:
        conf.set("database", "connection", "sqlite://")
    assert caught.value.line == text.count("\n", 0, text.index(f"#\n{line}")) + 2
    assert path.read_bytes() == text.encode()


def test_continuation_lines_where_no_edit_looks_are_read(tmp_path: Path) -> None:
    text = f"[DEFAULT]\n{GENERATED}[other]\nx = 1\n  more\n\ty = 2\n"
    path = write(tmp_path, text)
    with IniFile(str(path)) as conf:
        conf.set("DEFAULT", "option_7", "x")
    assert IniFile(str(path)).get("other", "x") == "1\nmore\ny = 2"


def test_bytes_no_edit_touches_are_written_back_as_read(tmp_path: Path) -> None:
    original = (
        b"[DEFAULT]\n# caf\xe9 \xff\xfe\r\n#x = 1\n[database]\n#connection = <None>\n[z]\n\xe9 = \xff\n"
    )
    path = tmp_path / "bytes.conf"
    path.write_bytes(original)
    with IniFile(str(path)) as conf:
        conf.set("database", "connection", "sqlite://")
    assert path.read_bytes() == original.replace(b"#connection = <None>", b"connection = sqlite://")
    assert IniFile(str(path)).get("z", "\udce9") == "\udcff"


def test_an_empty_key_is_never_set(tmp_path: Path) -> None:
    conf = IniFile(str(write(tmp_path, SAMPLE)))
    assert conf.get("DEFAULT", "") is None
    assert conf.unset("database", "") is False


def test_missing_file_is_an_error_unless_created(tmp_path: Path) -> None:
    missing = tmp_path / "new.conf"
    with pytest.raises(ConfigFileError, match="no such file"):
        IniFile(str(missing))
    with IniFile(str(missing), create=True, new_file_mode=0o640) as conf:
        conf.set("DEFAULT", "debug", "true")
    assert missing.read_text() == "[DEFAULT]\ndebug = true\n"
    assert missing.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(("section", "key"), [("", "k"), ("a]b", "k"), ("s", ""), ("s", "a=b"), ("s", "a b")])
def test_bad_names_are_refused(tmp_path: Path, section: str, key: str) -> None:
    path = write(tmp_path, SAMPLE)
    with pytest.raises(InvalidValueError), IniFile(str(path)) as conf:
        conf.set(section, key, "v")
    assert path.read_text() == SAMPLE


@pytest.mark.parametrize("value", [*NASTY_VALUES, "a$b", "$", "$$", "${x}", "p$$w0rd$"])
def test_literal_values_reach_the_service_verbatim(tmp_path: Path, value: str) -> None:
    from oslo_config import cfg

    path = write(tmp_path, "[keystone_authtoken]\n")
    edit(path, ("keystone_authtoken", "password", oslo_literal(value)))
    opts = cfg.ConfigOpts()
    opts.register_opts([cfg.StrOpt("password")], group="keystone_authtoken")
    opts(["--config-file", str(path)], default_config_files=[], default_config_dirs=[])
    assert opts.keystone_authtoken.password == value
    assert oslo_unliteral(IniFile(str(path)).get("keystone_authtoken", "password") or "") == value


def test_encode_quotes_only_when_needed() -> None:
    assert encode_value("plain value") == "plain value"
    assert encode_value(" x") == '" x"'
    assert encode_value('"x"') == '""x""'
    assert decode_value(' "a b" ') == "a b"
