"""pkgos rewire's pure part: scripts cut into steps, steps matched to the toolkit, scripts put back."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from openstack_pkg_tools.build import debfile
from openstack_pkg_tools.build.rewire import (
    Context,
    Line,
    RewireError,
    Side,
    classify,
    new_version,
    parse_script,
    rewired_script,
    steps_of,
    template_names,
)
from openstack_pkg_tools.build.rewirer import Original, _with_debconf_purge, control_text
from openstack_pkg_tools.profile import load, parse
from openstack_pkg_tools.questions import Family, families
from openstack_pkg_tools.run import run

POSTINST = """\
#!/bin/sh

set -e

API_CONF=/etc/svc/svc-api.conf
### Start of included pkgos_func library
pkgos_var_user_group () {
	echo library
}
### End of included pkgos_func library

# Automatically added by dh_installinit/13.11.4
if [ "$1" = "configure" ] ; then
	update-rc.d svc defaults >/dev/null
fi
# End automatically added section
if [ "$1" = "configure" ] ; then
	. /usr/share/debconf/confmodule
	pkgos_var_user_group svc /bin/sh
	pkgos_write_new_conf svc svc-api.conf
	pkgos_inifile set ${API_CONF} paste_deploy flavor \\
		keystone
	Q="SELECT 1;
SELECT 2;"
	db_get svc/configure_db
	db_stop
fi
# Automatically added by dh_installsystemd/13.11.4
deb-systemd-helper enable 'svc.service' >/dev/null || true
# End automatically added section

exit 0
"""

PROFILE = """\
name = "svc"

[user]
shell = "/bin/sh"

[[config]]
source = "svc-api.conf"

[[directory]]
path = "/var/lib/svc/images"

[[database]]
sync = [["svc-manage", "db_sync"]]

[[catalog]]
type = "thing"
port = 1234
description = "Thing"

[[setting]]
config = "/etc/svc/svc-api.conf"
section = "paste_deploy"
key = "flavor"
value = "keystone"

[[membership]]
group = "libvirt"
package = "svc-common"
"""


def _context(package: str = "svc-common", questions: tuple[str, ...] = ("svc/configure_db",)) -> Context:
    profile = parse(PROFILE, "svc.toml")
    wanted = {"svc-common": {Family.DB}, "svc-api": {Family.ENDPOINT}}[package]
    return Context(package, profile, frozenset(wanted), frozenset(questions))


def _verdict(text: str, phase: str = "postinst", package: str = "svc-common") -> str:
    script = parse_script(phase, f"#!/bin/sh\nAPI_CONF=/etc/svc/svc-api.conf\n{text}\n")
    line = next(line for line in script.lines if line.number == 3)
    verdict = classify(line, script, _context(package))
    return verdict.replaced_by or f"REFUSED: {verdict.reason}"


def test_the_library_is_dropped_and_debhelper_blocks_are_kept_on_their_side() -> None:
    script = parse_script("postinst", POSTINST)
    assert [(library.name, library.number, library.last) for library in script.libraries] == [
        ("pkgos_func", 6, 10)
    ]
    assert [(block.tool, block.side) for block in script.blocks] == [
        ("dh_installinit/13.11.4", Side.BEFORE),
        ("dh_installsystemd/13.11.4", Side.AFTER),
    ]
    assert script.blocks[0].text.startswith("# Automatically added by dh_installinit/13.11.4\n")
    assert script.blocks[0].text.endswith("# End automatically added section\n")
    texts = [line.text for line in script.lines]
    assert "echo library" not in texts
    assert "update-rc.d svc defaults >/dev/null" not in texts


def test_continued_and_quoted_lines_are_one_step_numbered_by_their_first_line() -> None:
    script = parse_script("postinst", POSTINST)
    by_number = {line.number: line for line in script.lines}
    assert by_number[21].text.startswith("pkgos_inifile set") and by_number[21].last == 22
    assert by_number[23].text == 'Q="SELECT 1;\nSELECT 2;"' and by_number[23].last == 24
    assert script.variables["API_CONF"] == "/etc/svc/svc-api.conf"


def test_a_script_of_debhelper_blocks_alone_has_them_after_its_logic() -> None:
    script = parse_script(
        "prerm", "#!/bin/sh\nset -e\n# Automatically added by dh_x/1\n:\n# End automatically added section\n"
    )
    assert [block.side for block in script.blocks] == [Side.AFTER]


def test_an_unterminated_block_is_an_error_naming_the_script_and_line() -> None:
    with pytest.raises(RewireError, match=r"postrm:2: the debhelper block"):
        parse_script("postrm", "#!/bin/sh\n# Automatically added by dh_x/1\nfoo\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pkgos_var_user_group svc /bin/sh", "profile [user] svc"),
        ("pkgos_write_new_conf svc svc-api.conf", 'profile [[config]] source = "svc-api.conf"'),
        (
            "pkgos_write_new_conf svc svc-paste.ini",
            'REFUSED: profile svc.toml has no [[config]] source = "svc-paste.ini"',
        ),
        ("pkgos_dbc_postinst ${API_CONF} database connection svc $@", "the toolkit's db family"),
        (
            "pkgos_dbc_postinst ${API_CONF} api_database connection svcapi $@",
            "REFUSED: profile svc.toml has no [[database]]",
        ),
        ('su svc -s /bin/sh -c "svc-manage db_sync" || true', "profile [[database]] svc sync"),
        ('su svc -s /bin/sh -c "svc-manage fernet_setup"', "REFUSED: the command 'svc-manage fernet_setup'"),
        ("mkdir -p /var/lib/svc/images", "profile [[directory]] /var/lib/svc/images"),
        (
            "mkdir -p /var/lib/svc/cache",
            'REFUSED: profile svc.toml has no [[directory]] path = "/var/lib/svc/cache"',
        ),
        ("chown svc:adm /var/log/svc/", "profile owner and group"),
        (
            "chown svc:svc /etc/svc",
            "REFUSED: profile [[directory]] /etc/svc is root:svc, Debian's is svc:svc",
        ),
        ("chmod 0750 /var/log/svc", "profile mode"),
        (
            "chmod 755 /var/lib/svc",
            "REFUSED: profile [[directory]] /var/lib/svc has mode 0750, Debian's 0755",
        ),
        ("chown -R svc:svc /var/log/svc", "REFUSED: profile svc.toml has no [[directory]] path"),
        ("db_get svc/configure_db", "question svc/configure_db of the toolkit's templates"),
        (
            "db_input high svc/admin-email || true",
            "REFUSED: question svc/admin-email is not in the toolkit's",
        ),
        ("db_stop", "pkgos maintscript speaks debconf itself"),
        ("pkgos_inifile get ${API_CONF} database connection", "nothing: it prints a value"),
        (
            "pkgos_inifile set ${API_CONF} paste_deploy flavor keystone",
            "profile [[setting]] [paste_deploy] flavor",
        ),
        (
            "pkgos_inifile set ${API_CONF} paste_deploy flavor noauth",
            "REFUSED: profile [[setting]] [paste_deploy]",
        ),
        (
            "pkgos_inifile set ${API_CONF} DEFAULT my_ip ${RET}",
            "REFUSED: sets [DEFAULT] my_ip in /etc/svc/svc-api",
        ),
        ("adduser --quiet svc libvirt", "profile [[membership]] svc in group libvirt"),
        ("chmod 0640 /etc/svc/svc-api.conf", "profile mode of /etc/svc/svc-api.conf"),
        (
            "chmod 0660 /etc/svc/svc-api.conf",
            "REFUSED: profile [[config]] /etc/svc/svc-api.conf has mode 0640",
        ),
        (
            "chown svc:svc /etc/svc/other.ini",
            'REFUSED: profile svc.toml has no [[directory]] or [[config]] for "/etc',
        ),
        ("adduser --quiet svc kvm", "REFUSED: profile svc.toml has no [[membership]] group kvm"),
        ("openstack role create --or-show x", "REFUSED: an openstack CLI call"),
        ("invoke-rc.d svc start", "REFUSED: starts or stops a service by hand"),
        ("rm -f /etc/svc/policy.json", "REFUSED: removes /etc/svc/policy.json"),
        ("a2dissite svc.conf || true", "REFUSED: an Apache site no profile field expresses"),
        ('if [ "$1" = configure ] ; then', "a condition"),
        ("if dpkg-vendor --derives-from ubuntu ; then", "REFUSED: nothing in the toolkit expresses it"),
        ("p=$(pkgos_gen_pass)", "REFUSED: sets p from a command's output"),
        ("systemctl enable svc", "REFUSED: enables or disables a service by hand"),
        ("update-rc.d svc defaults", "REFUSED: enables or disables a service by hand"),
        ("echo done", "nothing: a progress message"),
        ("pkgos_read_config -p high ${API_CONF} DEFAULT x svc/configure_db", "question svc/configure_db"),
        ("pkgos_read_config -p high ${API_CONF} DEFAULT x svc/x_secret", "REFUSED: question svc/x_secret"),
    ],
)
def test_each_step_is_matched_to_a_family_or_profile_field_or_refused(text: str, expected: str) -> None:
    assert _verdict(text).startswith(expected)


def _keystone_verdict(text: str, phase: str = "postinst") -> str:
    profile = load("keystone")
    context = Context("keystone", profile, frozenset(families(profile, "keystone")), frozenset())
    script = parse_script(phase, f"#!/bin/sh\nKEY_CONF=/etc/keystone/keystone.conf\n{text}\n")
    line = next(line for line in script.lines if line.number == 3)
    verdict = classify(line, script, context)
    return verdict.replaced_by or f"REFUSED: {verdict.reason}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p=$(pkgos_gen_pass)", "nothing, on purpose: the toolkit never makes up an administrator password"),
        ("ADMIN_USER_PW=${RET:-$(gen_password)}", "nothing, on purpose: the toolkit never makes up"),
        (
            "DEFROUTE_IF=$(awk '{ print $1 }' /proc/net/route)",
            "the toolkit's keystone family: an empty address answer is the default route's address",
        ),
        (
            'KEYSTONE_ENDPOINT_IP=`echo "${RET}" | egrep ${REG_ENDPOINT_IPV4_REGEX}` || true',
            "the plan's check",
        ),
        ('R=`echo "${R}" | egrep ${REG_ENDPOINT_REGION_REGEX}` || true', "the plan's check of the region"),
        ("X=$(hostname -f)", "REFUSED: sets X from a command's output"),
        (
            "rm -f /etc/keystone/policy.json",
            "profile [[leftover]] /etc/keystone/policy.json removed on configure",
        ),
        ("rm -f /etc/keystone/keystone.conf", "REFUSED: removes /etc/keystone/keystone.conf"),
        ("chown -R keystone:keystone /var/log/keystone", "nothing, on purpose: a recursive chown"),
        (
            "chown -R keystone:keystone /var/lib/keystone",
            "profile [[directory]] owners, enforced, of /var/lib/keystone",
        ),
        ("systemctl enable keystone", "profile [[service]] 'keystone'"),
        ("update-rc.d keystone defaults", "profile [[service]] 'keystone'"),
        ("systemctl enable apache2", "REFUSED: enables or disables a service by hand"),
        ("invoke-rc.d keystone start", "profile [keystone_bootstrap] start = 'keystone'"),
        ("invoke-rc.d keystone stop", "REFUSED: starts or stops a service by hand"),
        ('openstack project set --description "Default" admin', "nothing: a description"),
        (
            'openstack user set --description "D" --email x@y --enable admin',
            "profile [keystone_bootstrap]: the",
        ),
        ("openstack user set --password x admin", "REFUSED: an openstack CLI call"),
    ],
)
def test_keystones_own_steps_are_its_profiles_or_named_on_purpose(text: str, expected: str) -> None:
    assert _keystone_verdict(text).startswith(expected)


def test_keystones_purge_removes_etc_keystone_and_no_apache_site() -> None:
    verdict = _keystone_verdict("rm -rf /var/log/keystone /var/lib/keystone /etc/keystone", phase="postrm")
    assert verdict.startswith("the toolkit's purge")
    assert _keystone_verdict("a2dissite wsgi-keystone.conf || true", phase="postrm").startswith(
        "nothing: an Apache"
    )


def test_purge_steps_are_the_toolkit_purge_only_for_what_the_profile_purges() -> None:
    assert _verdict("[ -e /var/lib/svc ] && rm -rf /var/lib/svc", phase="postrm").startswith(
        "the toolkit's purge"
    )
    assert _verdict("rm -rf /etc/svc/metadefs", phase="postrm").startswith(
        "REFUSED: purge of /etc/svc/metadefs"
    )


def test_an_endpoint_is_matched_against_the_catalog_entry_of_the_package() -> None:
    good = 'pkgos_register_endpoint_postinst svc svc thing "Thing" 1234 ""'
    assert _verdict(good, package="svc-api").startswith("the toolkit's endpoint family")
    wrong_port = 'pkgos_register_endpoint_postinst svc svc thing "Thing" 4321 ""'
    assert "port 4321" in _verdict(wrong_port, package="svc-api")
    assert _verdict(good, package="svc-common").startswith("REFUSED")


def test_a_database_of_the_common_package_is_refused_in_another_package() -> None:
    verdict = _verdict("pkgos_dbc_postinst ${API_CONF} database connection svc $@", package="svc-api")
    assert verdict == "REFUSED: database svc ([database] connection) is handled by svc-common, not by svc-api"


def test_shell_functions_steps_are_classified_and_their_calls_are_not_steps() -> None:
    script = parse_script("config", "#!/bin/sh\nask () {\n\tdb_input high svc/x || true\n}\nask\n")
    verdicts = {line.text: classify(line, script, _context()) for line in script.lines}
    assert verdicts["db_input high svc/x || true"].replaced_by is None
    assert verdicts["ask"].syntax
    assert script.lines[1].function == "ask"


GENERATED = """\
#!/bin/sh
# svc-common.postinst: generated
set -e
. /usr/share/debconf/confmodule
pkgos maintscript --script "$0" postinst svc "$@"

#DEBHELPER#
"""


def test_rewired_script_puts_each_block_back_on_its_side() -> None:
    original = parse_script("postinst", POSTINST)
    text = rewired_script(original, GENERATED)
    before, after = original.blocks
    assert text.index("set -e\n") < text.index(before.text) < text.index("pkgos maintscript")
    assert text.index("pkgos maintscript") < text.index(after.text)
    assert "#DEBHELPER#" not in text and "pkgos_func" not in text
    alone = rewired_script(original, None)
    assert alone == f"#!/bin/sh\nset -e\n{before.text}{after.text}exit 0\n"


def _dpkg_sorts(lower: str, higher: str) -> bool:
    return run(["dpkg", "--compare-versions", lower, "lt", higher], ok_codes=(0, 1)).exit_code == 0


@pytest.mark.parametrize(
    ("version", "next_debian"),
    [
        ("2:26.2.2-1~deb12u4", "2:26.2.2-1~deb12u5"),
        ("2:26.2.2-1~deb12u4", "2:26.2.2-1"),
        ("2:25.1.0-2+deb12u3", "2:25.1.0-2+deb12u4"),
        ("2:25.1.0-2+deb12u3", "2:25.1.0-3"),
        ("2:21.0.0-7", "2:21.0.0-7+deb12u1"),
        ("2:21.0.0-7", "2:21.0.0-8"),
        ("2:21.0.0-7", "2:21.0.0-7+b1"),
        ("2:21.0.0-7", "2:21.0.0-7.1"),
    ],
)
def test_the_new_version_sorts_just_above_the_original(version: str, next_debian: str) -> None:
    rewired = new_version(version)
    assert rewired in (f"{version}+pkgos1", f"{version}+~pkgos1")
    assert _dpkg_sorts(version, rewired)
    assert _dpkg_sorts(rewired, next_debian)
    assert _dpkg_sorts(rewired, new_version(version, 2))


def test_a_rewired_version_is_not_rewired_again() -> None:
    for version in ("2:25.1.0-2+deb12u3+pkgos1", "2:21.0.0-7+~pkgos2"):
        with pytest.raises(RewireError, match="already a rewired one"):
            new_version(version)


def test_template_names() -> None:
    assert template_names("Template: a/b\nType: string\n\nTemplate:  c/d \nType: boolean\n") == ["a/b", "c/d"]


def _tiny_deb(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        "Package: pkgos-tiny\nVersion: 1.0-1\nArchitecture: all\nMaintainer: x <x@example.org>\n"
        "Description: tiny\n tiny package.\n"
    )
    (tree / "usr/share/pkgos-tiny").mkdir(parents=True)
    (tree / "usr/share/pkgos-tiny/odd").write_bytes(b"odd size")
    deb = tmp_path / "tiny.deb"
    run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)])
    return deb


def test_ar_members_are_written_back_byte_for_byte(tmp_path: Path) -> None:
    deb = _tiny_deb(tmp_path)
    members = debfile.read_members(str(deb))
    assert [member.name for member in members] == ["debian-binary", "control.tar.xz", "data.tar.xz"]
    assert b"".join(debfile.ar_bytes(members)) == deb.read_bytes()


def test_a_new_control_archive_keeps_the_data_member(tmp_path: Path) -> None:
    deb = _tiny_deb(tmp_path)
    files = debfile.control_files(str(deb))
    control = files["control"].data.replace(b"1.0-1", b"1.0-1+pkgos1")
    files["control"] = debfile.ControlFile("control", control, 0o644)
    out = tmp_path / "out.deb"
    assert debfile.write_with_control(str(deb), files, str(out))
    assert debfile.data_member(debfile.read_members(str(out))) == debfile.data_member(
        debfile.read_members(str(deb))
    )
    assert run(["dpkg-deb", "--field", str(out), "Version"]).stdout == "1.0-1+pkgos1\n"
    assert not debfile.write_with_control(str(deb), files, str(out)), "same input, same bytes: not rewritten"


def test_a_file_that_is_not_a_deb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.deb"
    path.write_bytes(b"not a package")
    with pytest.raises(debfile.DebFileError, match="no ar header"):
        debfile.read_members(str(path))


def test_lines_know_their_span() -> None:
    assert Line(3, 5, "x").last == 5


def test_an_exact_relation_moves_only_for_the_package_of_that_whole_name() -> None:
    control = (
        "Package: keystone\nVersion: 2:22-1\n"
        "Depends: python3-keystone (= 2:22-1), keystone-doc (= 2:22-1), x, keystone (= 2:22-1)\n"
        "Description: d\n"
    )
    original = Original(
        "keystone.deb", {"control": debfile.ControlFile("control", control.encode(), 0o644)}, {}
    )
    text = control_text(original, "2:22-1+pkgos1", {"keystone": ("2:22-1", "2:22-1+pkgos1")}, toolkit=False)
    assert (
        "Depends: python3-keystone (= 2:22-1), keystone-doc (= 2:22-1), x, keystone (= 2:22-1+pkgos1)\n"
        in text
    )


def test_config_seeding_from_a_section_postinst_does_not_write_reads_the_one_it_writes() -> None:
    # placement-common's config reads [database] while its postinst writes [placement_database].
    seeded = _verdict("pkgos_dbc_read_conf -pkg svc-common ${API_CONF} svc_database connection svc", "config")
    assert seeded.startswith(
        "the toolkit's db family: config seeds the db answers from [database] connection"
    )
    assert "Debian's reads [svc_database]" in seeded
    # Only the config's seeding: postinst writing another section is a database the profile lacks.
    assert _verdict("pkgos_dbc_postinst ${API_CONF} svc_database connection svc $@").startswith("REFUSED")
    assert _verdict(
        "pkgos_dbc_read_conf -pkg svc-api ${API_CONF} svc_database connection svc", "config", "svc-api"
    ).startswith("REFUSED")


def _nova_verdict(
    text: str,
    phase: str = "postinst",
    shipped: dict[str, int] | None = None,
    package: str = "nova-common",
    depends: frozenset[str] = frozenset(),
) -> str:
    """The verdict on ``text`` as a line of ``package``'s ``phase`` script, with the shipped nova profile."""
    nova = load("nova")
    script = parse_script(phase, f"#!/bin/sh\nNOVA_CONF=/etc/nova/nova.conf\n{text}\n")
    line = next(line for line in script.lines if line.number == 3)
    context = Context(
        package,
        nova,
        frozenset(families(nova, package)),
        frozenset({"nova/my-ip", "nova/cinder_os_region_name"}),
        shipped or {},
        depends,
    )
    verdict = classify(line, script, context)
    return verdict.replaced_by or f"REFUSED: {verdict.reason}"


DIRECTORY, FILE = stat.S_IFDIR | 0o755, stat.S_IFREG | 0o644


@pytest.mark.parametrize(
    ("text", "phase", "expected"),
    [
        # Directives Debian writes from an answer an asked family of the package writes.
        ("pkgos_inifile set ${NOVA_CONF} DEFAULT my_ip ${RET}", "postinst", "the toolkit's my-ip family"),
        (
            "pkgos_inifile set ${NOVA_CONF} neutron auth_url ${RET}",
            "postinst",
            "the toolkit's neutron family",
        ),
        (
            "pkgos_inifile set ${NOVA_CONF} cinder os_region_name ${RET}",
            "postinst",
            "the toolkit's cinder-region",
        ),
        ("pkgos_inifile set ${NOVA_CONF} cinder catalog_info x", "postinst", "REFUSED: sets [cinder]"),
        # Debian's guess of the node's address in config.
        (
            "DEFROUTE_IF=`awk '{ print $1 }' /proc/net/route | head -n 1`",
            "config",
            "the toolkit's my-ip family",
        ),
        ("HOSTNAME_IP=$(hostname -i)", "config", "the toolkit's my-ip family: an empty address answer"),
        ("OTHER=$(uname -r)", "config", "REFUSED: sets OTHER from a command's output"),
        # The placement user nova-common makes is placement's own service user.
        (
            "openstack user create --or-show --password ${PLACEMENT_PASS} ${PLACEMENT_USER}",
            "postinst",
            "the user nova-common reaches placement as (nova/placement_admin_username) is placement's",
        ),
        ("openstack role add --project x --user ${PLACEMENT_USER} admin", "postinst", "the user nova-common"),
        ("openstack role add --project x --user ${GLANCE_USER} admin", "postinst", "REFUSED: an openstack"),
        # [[leftover]] and [[file]].
        ("mv /etc/nova/policy.json /etc/nova/disabled.policy.json.old", "postinst", "profile [[leftover]]"),
        (
            "mv /etc/nova/api-paste.ini /etc/nova/old.ini",
            "postinst",
            "REFUSED: moves /etc/nova/api-paste.ini",
        ),
        (
            "[ -f /etc/sudoers.d/nova_sudoers ] && rm -f /etc/sudoers.d/nova_sudoers",
            "postinst",
            "profile [[left",
        ),
        ("rm -f /etc/nova/placement-policy.json", "postinst", "REFUSED: removes"),
        ("rm -f /etc/nova/placement-policy.json", "postrm", "the toolkit's purge"),
        ("rm -f /etc/default/nova-common", "postrm", "the toolkit's purge"),
        ("rm -f /etc/default/glance-common", "postrm", "REFUSED: purge of /etc/default/glance-common"),
        ("rm -rf /var/lib/nova/CA", "postrm", "the toolkit's purge"),
        ("touch /var/log/nova/nova-manage.log", "postinst", "profile [[file]] /var/log/nova/nova-manage.log"),
        ("touch /var/log/nova/other.log", "postinst", "REFUSED: profile profiles/nova.toml has no [[file]]"),
        ("chown nova:nova /var/log/nova/nova-manage.log", "postinst", "profile owner and group"),
        # The database steps Debian spells out in SQL, and its dump before a drop.
        (
            'echo "CREATE DATABASE IF NOT EXISTS x_cell0;" | mysql -h h -u root',
            "postinst",
            "the toolkit's db family",
        ),
        ("mysqldump -h h -u root x_cell0 > /var/tmp/x.mysql", "prerm", "nothing: the toolkit's postrm purge"),
        ('dump_timestamp=$(date +"%Y-%m-%d")', "prerm", "nothing: it names the database dump"),
        ("mysqldump -h h -u root x_cell0 > /var/tmp/x.mysql", "postinst", "REFUSED: a database dump"),
    ],
)
def test_nova_commons_own_steps(text: str, phase: str, expected: str) -> None:
    assert _nova_verdict(text, phase).startswith(expected)


def test_a_recursive_chown_needs_every_shipped_directory_below_owned_and_enforced() -> None:
    step = "chown -R nova:nova /var/lib/nova/"
    shipped = {"/var/lib/nova/instances": DIRECTORY, "/var/lib/nova/CA/private": DIRECTORY}
    assert _nova_verdict(step, shipped=shipped).startswith("profile [[directory]] owners, enforced")
    unknown = {**shipped, "/var/lib/nova/cache": DIRECTORY}
    assert 'no [[directory]] path = "/var/lib/nova/cache"' in _nova_verdict(step, shipped=unknown)
    a_file = {**shipped, "/var/lib/nova/README": FILE}
    assert "/var/lib/nova/README is a file the package ships" in _nova_verdict(step, shipped=a_file)
    assert "/var/log/nova" in _nova_verdict("chown -R nova:nova /var/log/nova")  # nova:adm in the profile


def test_a_chmod_of_a_file_dpkg_installs_with_that_mode_is_nothing() -> None:
    step = "chmod 0440 /etc/sudoers.d/nova-common"
    assert _nova_verdict(step, shipped={"/etc/sudoers.d/nova-common": stat.S_IFREG | 0o440}).startswith(
        "nothing: dpkg installs /etc/sudoers.d/nova-common with mode 0440"
    )
    assert _nova_verdict(step, shipped={"/etc/sudoers.d/nova-common": FILE}).startswith("REFUSED")
    assert _nova_verdict(step).startswith("REFUSED")


@pytest.mark.parametrize(
    "text",
    [
        "pkgos_dbc_read_conf -pkg nova-api ${NOVA_CONF} api_database connection novaapi $@",
        "db_get novaapi/configure_db",
        "pkgos_dbc_postinst --suite nova /etc/nova/nova.conf api_database connection novaapi $@",
        ". /usr/share/dbconfig-common/dpkg/prerm",
        "dbc_go nova-api $@",
        "dpkg-trigger --no-await nova-common-db-sync",
    ],
)
def test_nova_apis_database_steps_are_nova_commons_when_it_depends_on_it(text: str) -> None:
    after_common = _nova_verdict(text, package="nova-api", depends=frozenset({"nova-common", "python3"}))
    assert after_common.startswith(
        ("the db family of nova-common, which nova-api depends on", "nothing: nova")
    )
    # Without the dependency nothing says nova-common is configured first.
    assert _nova_verdict(text, package="nova-api").startswith("REFUSED")


def test_create_cell_is_a_cell_of_the_profile() -> None:
    step = (
        'su nova -s /bin/sh -c "nova-manage cell_v2 create_cell --name=cell1 --verbose 2>/dev/null" || true'
    )
    assert _nova_verdict(step, package="nova-api").startswith("profile [cells] cell1: nova-common's postinst")
    other = step.replace("cell1", "cell2")
    assert _nova_verdict(other, package="nova-api").startswith("REFUSED: the command")


def test_ubuntus_branch_is_never_taken_on_debian() -> None:
    text = (
        '#!/bin/sh\nset -e\nif [ "$1" = "configure" ]; then\n'
        "\tif dpkg-vendor --derives-from ubuntu ; then\n\t\tadduser --quiet svc libvirtd\n"
        "\t\tif [ -x /x ]; then\n\t\t\tfoo\n\t\tfi\n"
        "\telse\n\t\tadduser --quiet svc libvirt\n\tfi\n\tbar\nfi\n"
    )
    script = parse_script("postinst", text)
    verdicts = {step.line.text: step.verdict for step in steps_of((script,), _context())}
    assert (verdicts["if dpkg-vendor --derives-from ubuntu ; then"].replaced_by or "").startswith(
        "nothing: the test for Ubuntu"
    )
    for ubuntu_only in ("adduser --quiet svc libvirtd", "foo"):
        assert (
            verdicts[ubuntu_only].replaced_by
            == "nothing: Ubuntu's branch (dpkg-vendor --derives-from ubuntu)"
        )
    assert (verdicts["adduser --quiet svc libvirt"].replaced_by or "").startswith("profile [[membership]]")
    assert verdicts["bar"].replaced_by is None  # after the branch: classified as usual


def test_an_originals_dependencies_are_the_names_of_every_alternative() -> None:
    fields = {
        "Package": "nova-api",
        "Version": "1",
        "Pre-Depends": "dpkg (>= 1.17)",
        "Depends": "nova-common (= 2:26.2.2-1~deb12u4), python3:any, debconf (>= 0.5) | debconf-2.0",
    }
    original = Original("nova-api.deb", {}, fields)
    assert original.depends == {"dpkg", "nova-common", "python3", "debconf", "debconf-2.0"}


def test_a_postrm_without_debhelpers_debconf_purge_gets_one_after_its_blocks() -> None:
    end = "# End automatically added section\n"
    blocks_only = f"#!/bin/sh\nset -e\n# Automatically added by dh_installinit/13.11.4\n:\n{end}"
    script = _with_debconf_purge(parse_script("postrm", blocks_only))
    assert [block.tool for block in script.blocks] == [
        "dh_installinit/13.11.4",
        "pkgos rewire (debconf's purge)",
    ]
    text = rewired_script(script, "#!/bin/sh\nset -e\npkgos maintscript postrm\n#DEBHELPER#\nexit 0\n")
    assert text.index("dh_installinit") < text.index("\tdb_purge\n") < text.index("exit 0")
    with_purge = parse_script(
        "postrm",
        f"#!/bin/sh\n# Automatically added by dh_installdebconf/13.11.4\ndb_purge\n{end}",
    )
    assert _with_debconf_purge(with_purge) == with_purge
