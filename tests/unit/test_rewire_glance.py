"""pkgos rewire on glance-common's own steps: loops, a pattern of files, an upgrade branch, /etc/glance.

The snippets are Debian 12's glance-common postinst and postrm lines, as
written there; the profile is the shipped glance profile.
"""

from __future__ import annotations

import stat

import pytest

from openstack_pkg_tools.build.rewire import UPGRADES_FROM, Context, Verdict, parse_script, steps_of
from openstack_pkg_tools.profile import ServiceProfile, load, parse
from openstack_pkg_tools.questions import families

INSTALL = (
    "install -D -m 0640 -o glance -g glance /usr/share/glance-common/metadefs/$MDFILE "
    "/etc/glance/metadefs/$MDFILE"
)
METADEFS = f"""\
	mkdir -p /etc/glance/metadefs
	chown glance:glance /etc/glance/metadefs
	for i in `ls /usr/share/glance-common/metadefs/*.json` ; do
		MDFILE=`basename $i`
		if ! [ -e /etc/glance/metadefs/$MDFILE ] ; then
			{INSTALL}
		fi
	done
"""

QUERY = (
    "pkgos_mysql_query ${dbc_dbuser} ${dbc_dbpass} ${dbc_dbserver:-localhost} "
    '"${dbport}" ${dbc_dbname} "${Q}"'
)
# Debian's lines, their mix of tabs and spaces kept.
UTF8 = "".join(
    f"{line}\n"
    for line in (
        "\tdb_get glance/configure_db",
        '\tif [ "$RET" = "true" ] && [ -n "${2}" ] \\',
        '\t  && dpkg --compare-versions 2014.1~ gt "${2}" \\',
        "\t  && [ -r /usr/share/dbconfig-common/dpkg/postinst ] \\",
        '\t  && [ "${dbc_type}" = "mysql" ] ; then',
        '\t\tQ="SET FOREIGN_KEY_CHECKS=0;',
        "ALTER IGNORE TABLE images           CONVERT TO CHARACTER SET utf8 COLLATE utf8_unicode_ci;",
        'SET FOREIGN_KEY_CHECKS=1;"',
        f"\t\t{QUERY}",
        "\tfi",
        "\tdb_get glance/configure_db",
    )
)

PURGE = """\
	for i in glance-api.conf glance-registry.conf glance-cache.conf \\
			glance-manage.conf glance-scrubber.conf glance-api-paste.ini \\
			glance-registry-paste.ini policy.json schema-image.json \\
			property-protections-policies.conf property-protections-roles.conf \\
			ovf-metadata.json glance-swift.conf ; do
		if [ -e "/etc/glance/${i}" ] ; then
			rm /etc/glance/${i}
		fi
	done
	rm -rf /etc/glance/metadefs
"""


def _steps(
    body: str,
    phase: str = "postinst",
    profile: ServiceProfile | None = None,
    upgrades_from: tuple[str, str] | None = UPGRADES_FROM["glance"],
    shipped: dict[str, int] | None = None,
) -> dict[str, Verdict]:
    """Each step of ``body`` (in glance-common's ``phase`` script) and its verdict."""
    glance = profile or load("glance")
    script = parse_script(phase, f'#!/bin/sh\nset -e\nif [ "$1" = "configure" ] ; then\n{body}fi\n')
    context = Context(
        "glance-common",
        glance,
        frozenset(families(glance, "glance-common")),
        frozenset({"glance/configure_db"}),
        upgrades_from=upgrades_from,
        shipped=shipped or {},
    )
    return {step.line.text.split("\n")[0]: step.verdict for step in steps_of((script,), context)}


def _text(verdict: Verdict) -> str:
    return verdict.replaced_by or f"REFUSED: {verdict.reason}"


def test_the_metadefs_loop_is_the_profiles_pattern_of_config_files() -> None:
    steps = _steps(METADEFS)
    assert _text(steps["mkdir -p /etc/glance/metadefs"]) == "profile [[directory]] /etc/glance/metadefs"
    assert _text(steps["chown glance:glance /etc/glance/metadefs"]).startswith("profile owner and group")
    assert _text(steps["MDFILE=`basename $i`"]) == (
        "nothing: MDFILE is the name of each file $i stands for (steps below)"
    )
    assert _text(steps[INSTALL]) == (
        'profile [[config]] source = "metadefs/*.json": each shipped file it matches, '
        "installed once into /etc/glance/metadefs"
    )
    assert not [text for text, verdict in steps.items() if verdict.replaced_by is None]


@pytest.mark.parametrize(
    ("change", "refusal", "reason"),
    [
        # Another owner than the profile's.
        ("-o glance -g glance", "-o root -g glance", "is glance:glance, Debian's root:glance"),
        # Another pattern than the profile's.
        ("metadefs/*.json`", "metadefs/*.yaml`", "no [[config]] of glance-common installing"),
        # A loop over a command's output other than a listing binds nothing.
        (
            "`ls /usr/share/glance-common/metadefs/*.json`",
            "`find /usr/share/glance-common/metadefs`",
            "installing /etc/glance/metadefs/$MDFILE from /usr/share/glance-common/metadefs/$MDFILE",
        ),
    ],
)
def test_a_loop_the_pattern_does_not_express_is_refused(change: str, refusal: str, reason: str) -> None:
    steps = _steps(METADEFS.replace(change, refusal))
    install = next(verdict for text, verdict in steps.items() if text.startswith("install -D"))
    assert install.replaced_by is None and reason in install.reason
    if "find" in refusal:
        assert steps["MDFILE=`basename $i`"].replaced_by is None


def test_without_the_pattern_in_the_profile_the_install_is_refused() -> None:
    shipped = load("glance")
    profile = parse(
        'name = "glance"\n[[directory]]\npath = "/etc/glance/metadefs"\n', "glance-without-metadefs.toml"
    )
    assert profile.configs == () and shipped.configs
    verdict = _steps(METADEFS, profile=profile)[INSTALL]
    assert verdict.replaced_by is None
    assert "installing /etc/glance/metadefs/*.json from /usr/share/glance-common/metadefs/*.json" in (
        verdict.reason
    )


def test_the_utf8_conversion_of_upgrades_from_before_icehouse_never_runs() -> None:
    steps = _steps(UTF8)
    guard = _text(steps['if [ "$RET" = "true" ] && [ -n "${2}" ] \\'])
    assert guard == (
        "nothing: true only on an upgrade from a version before 2014.1~, and Debian upgrades "
        "glance-common only from Debian 11's (2:21.0.0~ or later, above 2014.1~): the branch below never runs"
    )
    branch = "nothing: the branch for an upgrade from before 2014.1~, which never runs (see its if)"
    assert _text(steps['Q="SET FOREIGN_KEY_CHECKS=0;']) == branch
    assert _text(steps[QUERY]) == branch
    assert _text(steps["db_get glance/configure_db"]).startswith("question glance/configure_db")


@pytest.mark.parametrize(
    ("change", "replacement"),
    [
        # Not an upgrade test: a fresh install would run it.
        ('[ -n "${2}" ] ', "true "),
        # Either test: the other may hold.
        ("\\\n\t  && dpkg --compare-versions", "\\\n\t  || dpkg --compare-versions"),
        # A version Debian 11's glance is older than.
        ("2014.1~", "2:22.0.0"),
        # Another comparison.
        ("2014.1~ gt", "2014.1~ lt"),
    ],
)
def test_only_that_guarded_shape_is_known_never_to_run(change: str, replacement: str) -> None:
    steps = _steps(UTF8.replace(change, replacement))
    query = next(verdict for text, verdict in steps.items() if text.startswith("pkgos_mysql_query"))
    assert query.replaced_by is None


def test_the_guard_needs_to_know_what_debian_upgrades_the_package_from() -> None:
    steps = _steps(UTF8, upgrades_from=None)
    assert all(verdict.replaced_by is None for text, verdict in steps.items() if "FOREIGN_KEY" in text)
    # A query outside the guard is refused wherever it is.
    query = 'pkgos_mysql_query ${dbc_dbuser} ${dbc_dbpass} localhost "" glance "SELECT 1"\n'
    assert _steps(query)[query.strip()].replaced_by is None
    # config's $2 is not the version upgraded from.
    assert _steps(UTF8, phase="config")['Q="SET FOREIGN_KEY_CHECKS=0;'].replaced_by is None


def test_etc_glance_stays_roots_on_purpose_where_debian_gives_it_to_glance() -> None:
    verdict = _text(_steps("\tchown glance:glance /var/lib/glance/ /etc/glance/\n")[
        "chown glance:glance /var/lib/glance/ /etc/glance/"
    ])  # fmt: skip
    assert verdict.startswith(
        "profile owner and group of /var/lib/glance/; nothing for /etc/glance, on purpose"
    )
    assert "root:glance 0750, set on every configure" in verdict
    assert "rename or replace the root-owned files" in verdict


def test_a_root_owned_etc_directory_not_set_on_every_configure_is_refused() -> None:
    # Without enforce_mode an upgrade from Debian's package would leave /etc/glance glance's.
    profile = parse('name = "glance"\n[[config]]\nsource = "glance-api.conf"\n', "glance-plain.toml")
    step = "chown glance:glance /etc/glance/"
    verdict = _steps(f"\t{step}\n", profile=profile)[step]
    assert verdict.replaced_by is None and "is root:glance, Debian's is glance:glance" in verdict.reason
    # Another directory than /etc/<service> is never kept from Debian's owner.
    profile = parse(
        'name = "glance"\n[[directory]]\npath = "/var/lib/glance"\nowner = "root"\ngroup = "glance"\n'
        "enforce_mode = true\n",
        "glance-lib.toml",
    )
    step = "chown glance:glance /var/lib/glance"
    assert _steps(f"\t{step}\n", profile=profile)[step].replaced_by is None


def test_the_purge_loop_is_the_toolkits_purge_of_each_file() -> None:
    steps = _steps(PURGE, phase="postrm")
    removal = _text(steps["rm /etc/glance/${i}"])
    assert removal.startswith("the toolkit's purge (")
    for name in ("glance-api.conf", "glance-registry.conf", "policy.json", "glance-swift.conf"):
        assert f" /etc/glance/{name}" in removal
    assert removal.count("the toolkit's purge") == 1
    assert _text(steps["rm -rf /etc/glance/metadefs"]).endswith(": /etc/glance/metadefs")


def test_a_file_a_pattern_installs_is_purged_even_where_its_directory_is_not() -> None:
    profile = parse(
        'name = "glance"\n[[directory]]\npath = "/etc/glance/metadefs"\n'
        '[[config]]\nsource = "metadefs/*.json"\n',
        "glance-kept-metadefs.toml",
    )
    for name, purged in (("x.json", True), ("x.yaml", False), ("", False)):
        step = f"rm /etc/glance/metadefs/{name}".rstrip("/")
        verdict = _steps(f"\t{step}\n", phase="postrm", profile=profile)[step]
        assert (verdict.replaced_by is not None) is purged, step


def test_one_value_of_the_loop_the_profile_does_not_purge_refuses_the_step_naming_it() -> None:
    steps = _steps(
        PURGE.replace("glance-swift.conf ; do", "glance-swift.conf unknown.conf ; do"), phase="postrm"
    )
    verdict = steps["rm /etc/glance/${i}"]
    assert verdict.replaced_by is None and "purge of /etc/glance/unknown.conf" in verdict.reason


def test_a_chown_of_a_directory_the_package_ships_needs_enforce_mode() -> None:
    # dpkg makes /var/lib/glance/images root's: Debian's chown on every configure is the
    # profile's owner only when the profile sets it on every configure too.
    step = "chown glance:glance /var/lib/glance/images"
    plain = parse('name = "glance"\n[[directory]]\npath = "/var/lib/glance/images"\n', "glance-images.toml")
    shipped = {"/var/lib/glance/images": stat.S_IFDIR | 0o755}
    verdict = _steps(f"\t{step}\n", profile=plain, shipped=shipped)[step]
    assert verdict.replaced_by is None
    assert "has no enforce_mode: the package ships it, so its owner would stay root" in verdict.reason
    assert _steps(f"\t{step}\n", shipped=shipped)[step].replaced_by == (
        "profile owner and group of /var/lib/glance/images"
    )
    # A directory the package does not ship is made by the profile with its owner.
    assert _steps(f"\t{step}\n", profile=plain)[step].replaced_by is not None
