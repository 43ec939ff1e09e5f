"""pkgos rewire and pkgos archive on Debian 12's own packages.

The packages are downloaded from Debian's archive with ``apt-get
download`` into ``.cache/debs`` (never committed) the first time. Nothing
here installs a package: apt reads the signed archive with a private
configuration (its own sources list, lists and cache folders), so the
machine's apt state is untouched.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import shutil
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from openstack_pkg_tools.build import debfile
from openstack_pkg_tools.build.rewire import new_version, parse_script
from tests.e2e.debhelpers import ROOT, debian_deb, pkgos, run

PHASES = ("preinst", "config", "postinst", "prerm", "postrm")
# The toolkit's endpoint template says "Answer yes to ...", which lintian
# flags; the wording is the shared templates' to fix, not the rewiring's.
KNOWN_TEMPLATE_TAGS = {"making-assumptions-about-interfaces-in-templates"}


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A folder for this module's packages and archive."""
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"pkgostest-rewire.{os.getpid()}"
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path)


# Debian's packages the profiles of this tree rewire, and each one's profile.
REWIRED = {"glance-api": "glance", "glance-common": "glance", "keystone": "keystone"}


def _rewired(package: str, workdir: Path) -> tuple[Path, Path]:
    """Debian's ``package`` and its rewired package (in ``workdir``/rewired, the archive's folder)."""
    original = debian_deb(package)
    out = workdir / "rewired"
    result = pkgos("rewire", str(original), "--output-dir", str(out))
    (rewired,) = out.glob(f"{package}_*.deb")
    assert str(rewired) in result.stdout
    return original, rewired


@pytest.fixture(scope="module")
def glance_api(workdir: Path) -> tuple[Path, Path]:
    """Debian's glance-api and its rewired package."""
    return _rewired("glance-api", workdir)


@pytest.fixture(scope="module", params=sorted(REWIRED))
def rewired(request: pytest.FixtureRequest, workdir: Path) -> tuple[Path, Path]:
    """Each package of ``REWIRED`` and its rewired package."""
    return _rewired(str(request.param), workdir)


def _control(deb: Path) -> dict[str, debfile.ControlFile]:
    return debfile.control_files(str(deb))


def _field(deb: Path, name: str) -> str:
    return run("dpkg-deb", "--field", str(deb), name).stdout.strip()


def _fsys(deb: Path) -> tuple[list[str], dict[str, str]]:
    """The data archive's listing (as tar prints it) and each file's SHA-256."""
    listing = run("sh", "-c", f"dpkg-deb --fsys-tarfile '{deb}' | tar -tvf -").stdout.splitlines()
    data = debfile.data_member(debfile.read_members(str(deb))).data
    hashes = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            if member.isfile():
                handle = archive.extractfile(member)
                assert handle is not None
                hashes[member.name] = hashlib.sha256(handle.read()).hexdigest()
    return listing, hashes


def test_the_rewired_package_has_the_same_name_and_files_byte_for_byte(rewired: tuple[Path, Path]) -> None:
    original, rewired = rewired
    assert _field(rewired, "Package") == _field(original, "Package")
    before, after = debfile.read_members(str(original)), debfile.read_members(str(rewired))
    assert debfile.data_member(after) == debfile.data_member(before)
    assert _fsys(rewired) == _fsys(original)
    old, new = _control(original), _control(rewired)
    for name in ("conffiles", "md5sums"):
        assert new[name] == old[name]


def test_the_scripts_are_the_toolkits_with_every_debhelper_block_in_its_place(
    rewired: tuple[Path, Path],
) -> None:
    original, rewired = rewired
    package = _field(original, "Package")
    old, new = _control(original), _control(rewired)
    for phase in PHASES:
        if phase not in old:
            continue
        blocks = parse_script(phase, old[phase].data.decode()).blocks
        if phase not in new:  # a script of Debian's logic alone, no block, nothing generated: gone
            assert not blocks and phase not in ("config", "postinst", "postrm"), phase
            continue
        text = new[phase].data.decode()
        positions = [text.index(block.text) for block in blocks]
        assert positions == sorted(positions), phase
        assert "pkgos_func" not in text
        assert new[phase].mode == 0o755
    for phase in ("config", "postinst", "postrm"):
        profile = REWIRED[package]
        assert f'pkgos maintscript --script "$0" {phase} {profile} "$@"' in new[phase].data.decode()
    # A script of debhelper blocks alone, with nothing generated for its phase, is the original.
    assert new.get("preinst") == old.get("preinst")
    if package == "glance-api":
        assert new["prerm"] == old["prerm"]
    elif package == "glance-common":
        # Its prerm only handed the database to dbconfig-common, with no debhelper block: gone
        # (the toolkit's postrm does the database).
        assert not parse_script("prerm", old["prerm"].data.decode()).blocks and "prerm" not in new
    else:
        # keystone's prerm: Debian's dbconfig-common removal goes (the toolkit's postrm
        # does the database), its dh_installinit block stays, alone.
        (block,) = parse_script("prerm", old["prerm"].data.decode()).blocks
        assert new["prerm"].data.decode() == f"#!/bin/sh\nset -e\n{block.text}exit 0\n"


def test_the_templates_are_the_toolkits_with_translations_and_debians_names(
    rewired: tuple[Path, Path],
) -> None:
    original, rewired = rewired
    old = set(re.findall(r"^Template: (\S+)", _control(original)["templates"].data.decode(), re.MULTILINE))
    templates = _control(rewired)["templates"].data.decode()
    new = set(re.findall(r"^Template: (\S+)", templates, re.MULTILINE))
    assert old <= new
    assert "Description-de.UTF-8: " in templates and "Description-fr.UTF-8: " in templates


def test_the_version_is_just_above_the_original_and_the_toolkit_is_a_dependency(
    rewired: tuple[Path, Path],
) -> None:
    original, rewired = rewired
    version, new_version = _field(original, "Version"), _field(rewired, "Version")
    assert new_version == f"{version}+pkgos1"
    run("dpkg", "--compare-versions", new_version, "gt", version)
    # Below Debian's next stable update of it, whichever update apt downloaded.
    update = re.search(r"deb12u(\d+)$", version)
    assert update is not None, version
    next_update = f"{version[: update.start(1)]}{int(update.group(1)) + 1}"
    run("dpkg", "--compare-versions", new_version, "lt", next_update)
    depends = _field(rewired, "Depends")
    assert depends.startswith(_field(original, "Depends") + ", ")
    assert depends.endswith(", openstack-pkg-tools (>= 1:0.1.0)")
    changelog = rewired.with_suffix(".changelog").read_text()
    source = _field(original, "Source") or _field(original, "Package")
    assert changelog.startswith(f"{source} ({new_version}) bookworm; urgency=medium\n")
    # Every debhelper block kept is named (glance-api's dh_installsystemd, glance-common's debconf purge).
    old = _control(original)
    tools = {
        block.tool
        for phase in PHASES
        if phase in old
        for block in parse_script(phase, old[phase].data.decode()).blocks
    }
    assert tools and all(tool in changelog for tool in tools)


def _tags(deb: Path) -> set[str]:
    """lintian's tags of ``deb``, without the line they point at: rewired scripts have other lines."""
    out = run("lintian", "--tag-display-limit", "0", str(deb), check=False).stdout
    return {
        re.sub(r" \[[^]]*:\d+\]$", "", " ".join(line.split()[2:]))
        for line in out.splitlines()
        if re.match(r"^[EWIPX]: ", line)
    }


def test_lintian_reports_nothing_the_original_did_not(rewired: tuple[Path, Path]) -> None:
    original, rewired = rewired
    new = _tags(rewired) - _tags(original)
    assert {tag for tag in new if tag.split()[0] not in KNOWN_TEMPLATE_TAGS} == set()


def test_rewiring_again_writes_the_same_bytes(rewired: tuple[Path, Path], workdir: Path) -> None:
    original, rewired = rewired
    again = workdir / "again"
    pkgos("rewire", str(original), "--output-dir", str(again))
    assert (again / rewired.name).read_bytes() == rewired.read_bytes()


def test_a_package_with_steps_nothing_expresses_is_refused_with_the_step_named(workdir: Path) -> None:
    # The shipped glance profile without its policy.json [[leftover]]: Debian's
    # glance-common moves that file aside, and nothing else says so.
    shipped = (ROOT / "openstack_pkg_tools/profiles/glance.toml").read_text()
    leftover = (
        '[[leftover]]\npath = "/etc/glance/policy.json"\naction = "rename"\n'
        'rename_to = "/etc/glance/disabled.policy.json.old"\n'
    )
    assert leftover in shipped
    profile = workdir / "glance-without-policy.toml"
    profile.write_text(shipped.replace(leftover, ""))
    out = workdir / "refused"
    common = str(debian_deb("glance-common"))
    result = run(
        str(ROOT / ".venv/bin/pkgos"),
        "rewire",
        common,
        "--profile",
        str(profile),
        "--output-dir",
        str(out),
        check=False,
    )
    assert result.returncode == 2
    named = re.search(
        r"Cannot rewire glance-common: (postinst:\d+) 'mv /etc/glance/policy.json ", result.stderr
    )
    assert named, result.stderr
    explained = run(
        str(ROOT / ".venv/bin/pkgos"), "rewire", "--explain", common, "--profile", str(profile), check=False
    )
    assert explained.returncode == 1
    assert f"  {named.group(1)}  mv /etc/glance/policy.json" in explained.stdout
    # And its purge, which removes that file among others: refused naming it.
    refused = [line for line in explained.stdout.splitlines() if "REFUSED" in line]
    assert len(refused) == 2 and "REFUSED: purge of /etc/glance/policy.json" in refused[1]
    assert not out.exists() or not list(out.iterdir())


def test_glance_commons_explanation_says_what_became_of_each_step_debian_alone_had() -> None:
    explained = run(str(ROOT / ".venv/bin/pkgos"), "rewire", "--explain", str(debian_deb("glance-common")))
    out = explained.stdout
    assert "rewired (profile glance)" in out.splitlines()[0]
    assert "REFUSED" not in out and "templates lack" not in out
    for step, verdict in [
        ("mv /etc/glance/policy.json /etc/glance/disabled.policy.json.old", "profile [[leftover]]"),
        ("mkdir -p /etc/glance/metadefs", "profile [[directory]] /etc/glance/metadefs"),
        ("chown glance:glance /etc/glance/metadefs", "profile owner and group of /etc/glance/metadefs"),
        ("MDFILE=`basename $i`", "nothing: MDFILE is the name of each file $i stands for"),
        ("install -D -m 0640 -o glance -g glance /usr/share/glance-common/met...",
         'profile [[config]] source = "metadefs/*.json"'),
        ('if [ "$RET" = "true" ] && [ -n "${2}" ] \\',
         "nothing: true only on an upgrade from a version before 2014.1~, and Debian upgrades glance-common "
         "only from Debian 11's"),
        ('Q="SET FOREIGN_KEY_CHECKS=0;', "nothing: the branch for an upgrade from before 2014.1~"),
        ("pkgos_mysql_query ${dbc_dbuser} ${dbc_dbpass} ${dbc_dbserver:-local...",
         "nothing: the branch for an upgrade from before 2014.1~"),
        ("chown glance:glance /var/lib/glance/ /etc/glance/",
         "profile owner and group of /var/lib/glance/; nothing for /etc/glance, on purpose"),
        ("rm /etc/glance/${i}", "the toolkit's purge"),
        ("rm -rf /etc/glance/metadefs", "the toolkit's purge"),
    ]:  # fmt: skip
        assert re.search(rf"  \S+:\d+(-\d+)?  {re.escape(step)}\n      -> {re.escape(verdict)}", out), step


def test_keystones_explanation_names_what_replaces_each_step_and_why() -> None:
    explained = run(str(ROOT / ".venv/bin/pkgos"), "rewire", "--explain", str(debian_deb("keystone")))
    out = explained.stdout
    assert "rewired (profile keystone)" in out.splitlines()[0]
    assert "REFUSED" not in out and "templates lack" not in out
    assert "[keystone_bootstrap]" in out
    assert "postinst:1324  su keystone" in out and "sync = ['keystone-manage', 'db_sync']" in out
    # The steps the toolkit does differently say so, with the reason.
    for step, verdict in [
        (
            "rm -f /etc/keystone/policy.json",
            "profile [[leftover]] /etc/keystone/policy.json removed on configure",
        ),
        ("systemctl enable keystone", "profile [[service]] 'keystone'"),
        ("chown -R keystone:keystone /var/log/keystone", "nothing, on purpose: a recursive chown"),
        ("p=$(pkgos_gen_pass)", "nothing, on purpose: the toolkit never makes up an administrator password"),
        ("db_input high keystone/passwords-do-not-match || true", "question keystone/passwords-do-not-match"),
        ("a2dissite wsgi-keystone.conf || true", "nothing: an Apache site of older keystone packages"),
    ]:
        assert re.search(rf"  \S+:\d+  {re.escape(step)}\n      -> {re.escape(verdict)}", out), step


def test_a_package_with_no_configuration_of_its_own_keeps_its_scripts(workdir: Path) -> None:
    # nova-compute: no config, no templates, nothing of it in the nova profile.
    original = debian_deb("nova-compute")
    out = workdir / "kept"
    pkgos("rewire", str(original), "--output-dir", str(out))
    (rewired,) = out.glob("*.deb")
    old, new = _control(original), _control(rewired)
    assert {name: item for name, item in new.items() if name != "control"} == {
        name: item for name, item in old.items() if name != "control"
    }
    assert _field(rewired, "Version") == _field(original, "Version") + "+pkgos1"
    assert _field(rewired, "Depends") == _field(original, "Depends")


def test_exact_relations_on_packages_rewired_together_follow_their_new_version(workdir: Path) -> None:
    compute, kvm = debian_deb("nova-compute"), debian_deb("nova-compute-kvm")
    out = workdir / "siblings"
    pkgos("rewire", str(compute), str(kvm), "--output-dir", str(out))
    (rewired_kvm,) = out.glob("nova-compute-kvm_*.deb")
    old = _field(compute, "Version")
    depends = _field(rewired_kvm, "Depends")
    assert f"nova-compute (= {old}+pkgos1)" in depends
    # nova-common was not rewired in this run: Debian's version stays the one asked for.
    assert f"nova-common (= {old})" in depends


NEUTRON = (
    "neutron-common",
    "neutron-api",
    "neutron-metadata-agent",
    "neutron-linuxbridge-agent",
    "neutron-dhcp-agent",
)


@pytest.mark.parametrize("package", ["placement-api", *NEUTRON])
def test_the_other_packages_the_profiles_express_rewire_cleanly(package: str, workdir: Path) -> None:
    original = debian_deb(package)
    out = workdir / package
    pkgos("rewire", str(original), "--output-dir", str(out))
    (rewired,) = out.glob("*.deb")
    assert debfile.data_member(debfile.read_members(str(rewired))) == debfile.data_member(
        debfile.read_members(str(original))
    )
    # +pkgos1 or +~pkgos1, whichever update of Debian's apt downloaded (21.0.0-7, 21.0.0-7+deb12u1).
    version = _field(original, "Version")
    assert _field(rewired, "Version") == new_version(version)
    run("dpkg", "--compare-versions", new_version(version), "gt", version)
    assert _field(rewired, "Depends").endswith(", openstack-pkg-tools (>= 1:0.1.0)")
    assert "debconf" in _field(rewired, "Depends")
    old, new = _control(original), _control(rewired)
    for name in ("conffiles", "md5sums"):
        assert new[name] == old[name]
    for phase in PHASES:
        if phase in old:
            blocks = parse_script(phase, old[phase].data.decode()).blocks
            # A script of Debian's own logic alone (neutron-common's prerm) goes with it.
            text = new[phase].data.decode() if blocks else new.get(phase, old[phase]).data.decode()
            positions = [text.index(block.text) for block in blocks]
            assert positions == sorted(positions), phase
    new_tags = _tags(rewired) - _tags(original)
    assert {tag for tag in new_tags if tag.split()[0] not in KNOWN_TEMPLATE_TAGS} == set()


def test_neutrons_packages_rewire_together_and_the_transitional_server_follows(workdir: Path) -> None:
    names = (*NEUTRON, "neutron-rpc-server", "neutron-server")
    out = workdir / "neutron"
    result = pkgos("rewire", *(str(debian_deb(name)) for name in names), "--output-dir", str(out))
    outcomes = dict(re.findall(r"^(\S+) \S+ \((\w+)\): ", result.stdout, flags=re.MULTILINE))
    assert outcomes == {
        **dict.fromkeys(NEUTRON, "rewired"),
        "neutron-rpc-server": "kept",
        "neutron-server": "kept",
    }
    version = new_version(_field(debian_deb("neutron-server"), "Version"))
    (server,) = out.glob("neutron-server_*.deb")
    # The empty transitional package asks for the rewired API and RPC server, not Debian's.
    assert _field(server, "Depends") == f"neutron-api (= {version}), neutron-rpc-server (= {version})"
    (agent,) = out.glob("neutron-linuxbridge-agent_*.deb")
    assert f"neutron-common (= {version})" in _field(agent, "Depends")
    # The agent's questions are the toolkit's linuxbridge family (Debian asks nothing).
    templates = _control(agent)["templates"].data.decode()
    assert "Template: neutron/linuxbridge-physical-interface-mappings" in templates
    # Debian's prerm of neutron-common only handed the database to dbconfig-common: gone.
    (common,) = out.glob("neutron-common_*.deb")
    assert "prerm" in _control(debian_deb("neutron-common")) and "prerm" not in _control(common)


# --- the archive -----------------------------------------------------------------------------------


def private_apt(private: Path, line: str) -> list[str]:
    """apt options for a sources list of ``line`` alone, with lists and cache in ``private``.

    The machine's own sources, lists and cache are neither read nor touched.
    """
    shutil.rmtree(private, ignore_errors=True)
    (private / "lists" / "partial").mkdir(parents=True)
    (private / "cache" / "archives" / "partial").mkdir(parents=True)
    (private / "sources.list").write_text(line + "\n")
    return [
        f"-oDir::Etc::sourcelist={private / 'sources.list'}",
        "-oDir::Etc::sourceparts=-",
        f"-oDir::State::Lists={private / 'lists'}",
        f"-oDir::Cache={private / 'cache'}",
    ]


def _apt(workdir: Path, line: str, *argv: str) -> tuple[int, str]:
    """apt-get or apt-cache with a private sources list, lists and cache (the host's are untouched)."""
    options = private_apt(workdir / "apt", line)
    update = run("apt-get", *options, "update", check=False)
    if update.returncode != 0 or "W: " in update.stderr or "E: " in update.stderr:
        return 1, update.stdout + update.stderr
    result = run(argv[0], *options, *argv[1:], check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def archive(glance_api: tuple[Path, Path], workdir: Path) -> tuple[Path, str]:
    """The rewired glance-api in a signed flat archive, and its sources.list line."""
    folder = glance_api[1].parent
    line = pkgos("archive", str(folder), "--key-dir", str(workdir / "key")).stdout.strip()
    return folder, line


def test_archive_prints_a_signed_by_line_and_keeps_its_secret_key_private(
    archive: tuple[Path, str], workdir: Path
) -> None:
    folder, line = archive
    assert line == f"deb [signed-by={folder}/archive-key.pgp] file:{folder} ./"
    assert "trusted" not in line
    key = workdir / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o700
    secrets = list((key / "private-keys-v1.d").iterdir())
    assert secrets and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in secrets)
    assert not any(path.name.startswith("private") for path in folder.iterdir())


def test_apt_verifies_the_archive_and_offers_the_rewired_version(
    archive: tuple[Path, str], glance_api: tuple[Path, Path], workdir: Path
) -> None:
    _, line = archive
    code, out = _apt(workdir, line, "apt-cache", "policy", "glance-api")
    assert code == 0, out
    assert f"Candidate: {_field(glance_api[1], 'Version')}" in out


def test_apt_refuses_a_tampered_index_or_release(archive: tuple[Path, str], workdir: Path) -> None:
    folder, line = archive
    saved = {name: (folder / name).read_bytes() for name in ("Packages", "Packages.gz", "InRelease")}
    try:
        tampered = saved["Packages"].replace(b"Priority: optional", b"Priority: required")
        (folder / "Packages").write_bytes(tampered)
        (folder / "Packages.gz").write_bytes(gzip.compress(tampered, mtime=0))
        code, out = _apt(workdir, line, "apt-cache", "policy", "glance-api")
        assert code != 0 and "Hash Sum mismatch" in out, out
        for name in ("Packages", "Packages.gz"):
            (folder / name).write_bytes(saved[name])
        (folder / "InRelease").write_bytes(saved["InRelease"].replace(b"Label: pkgos", b"Label: evil"))
        code, out = _apt(workdir, line, "apt-cache", "policy", "glance-api")
        assert code != 0 and "BADSIG" in out, out
    finally:
        for name, data in saved.items():
            (folder / name).write_bytes(data)
    assert _apt(workdir, line, "apt-cache", "policy", "glance-api")[0] == 0


def test_archive_again_on_the_same_files_changes_nothing(archive: tuple[Path, str], workdir: Path) -> None:
    folder, line = archive
    before = {
        path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in folder.iterdir() if path.is_file()
    }
    assert pkgos("archive", str(folder), "--key-dir", str(workdir / "key")).stdout.strip() == line
    after = {
        path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in folder.iterdir() if path.is_file()
    }
    assert after == before
