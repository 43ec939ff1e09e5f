"""Preseed generation from a site file: answers, passwords, seen flags, files."""

from __future__ import annotations

import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from openstack_pkg_tools import cli
from openstack_pkg_tools.errors import ConfigFileError, InvalidValueError
from openstack_pkg_tools.preseed import generate as preseed
from openstack_pkg_tools.preseed.check import check, toolkit_questions
from openstack_pkg_tools.preseed.generate import Role
from tests.preseed_examples import EXAMPLES, generate_example

SITE = """\
[site]
region = "RegionTwo"

[database]
host = "localhost"

[rabbitmq]
host = "mq.example.org"

[keystone]
address = "192.0.2.10"

[controller]
address = "192.0.2.11"

[network]
provider_interface = "eth1"

[passwords]
store = "secrets.toml"
generate = true
"""


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pkgos-test-preseed-"))
    yield path
    shutil.rmtree(path)


def write_site(directory: Path, text: str = SITE) -> str:
    path = directory / "site.toml"
    path.write_text(text)
    return str(path)


def answers(text: str) -> dict[str, tuple[str, str]]:
    """question -> (type, value) of a preseed's answer lines."""
    result = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            _owner, question, type_, value = line.split(" ", 3)
            if type_ != "seen":
                result[question] = (type_, value)
    return result


def test_generate_writes_three_private_files_and_a_private_store(workdir: Path) -> None:
    paths = preseed.generate(write_site(workdir), str(workdir / "out"))
    assert sorted(p.name for p in paths) == ["all-in-one.preseed", "compute.preseed", "controller.preseed"]
    for path in [*paths, workdir / "secrets.toml"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_compute_answers_follow_the_site_file(workdir: Path) -> None:
    preseed.generate(write_site(workdir), str(workdir), [Role.COMPUTE])
    text = (workdir / "compute.preseed").read_text()
    got = answers(text)
    assert got["nova/rabbit-host"] == ("string", "mq.example.org")
    assert got["nova/ksat-public-url"] == ("string", "http://192.0.2.10:5000")
    assert got["neutron/ksat-region"] == ("string", "RegionTwo")
    assert got["nova/configure_rabbit"] == ("boolean", "true")
    # A compute node neither creates databases nor service users, so it
    # holds no administrator's password at all.
    assert got["nova/ksat-create-service-user"] == ("boolean", "false")
    assert not [q for q in got if "admin-password" in q or "configure_db" in q]
    assert "# pkgos-role: compute\n" in text


def test_nodes_of_one_site_share_their_passwords(workdir: Path) -> None:
    preseed.generate(write_site(workdir), str(workdir))
    controller = answers((workdir / "controller.preseed").read_text())
    compute = answers((workdir / "compute.preseed").read_text())
    for question in ("nova/rabbit-password", "nova/ksat-service-password", "neutron/ksat-service-password"):
        assert controller[question] == compute[question]
    assert controller["glance/rabbit-password"] == controller["nova/rabbit-password"]
    assert controller["keystone/admin-password"] == controller["glance/api-keystone-admin-password"]


def test_nodes_reach_each_other_with_the_services_passwords_and_one_metadata_secret(workdir: Path) -> None:
    preseed.generate(write_site(workdir), str(workdir))
    controller = answers((workdir / "controller.preseed").read_text())
    compute = answers((workdir / "compute.preseed").read_text())
    # nova reaches placement and neutron as their own users; neutron reaches nova as nova's.
    assert compute["nova/placement_admin_password"] == controller["placement/ksat-service-password"]
    assert compute["nova/neutron_admin_password"] == controller["neutron/ksat-service-password"]
    assert controller["neutron/nova_service_password"] == controller["nova/ksat-service-password"]
    secret = compute["nova/metadata_secret"]
    assert controller["neutron-metadata/metadata_secret"] == controller["nova/metadata_secret"] == secret
    assert compute["nova/neutron_url"] == ("string", "http://192.0.2.11:9696")
    assert controller["neutron-metadata/nova_metadata_host"] == ("string", "192.0.2.11")
    assert compute["neutron/linuxbridge-physical-interface-mappings"] == ("string", "provider:eth1")
    assert compute["nova/placement_os_region_name"] == ("string", "RegionTwo")
    # Each node's own address: left to its default route.
    assert not {"nova/my-ip", "neutron/linuxbridge-local-ip"} & set(compute)
    # Still no database password and no Keystone administrator's on a compute node.
    assert not [q for q in compute if "db-password" in q or "admin-password" in q]


def test_passwords_are_random_strong_and_distinct(workdir: Path) -> None:
    preseed.generate(write_site(workdir), str(workdir), [Role.CONTROLLER])
    got = answers((workdir / "controller.preseed").read_text())
    passwords = {q: v for q, (t, v) in got.items() if t == "password"}
    assert passwords
    for value in passwords.values():
        assert re.fullmatch(r"[A-Za-z0-9]{32}", value)
    per_secret = {
        got["glance/db-password"][1],
        got["nova/db-password"][1],
        got["glance/ksat-service-password"][1],
        got["glance/rabbit-password"][1],
        got["keystone/admin-password"][1],
    }
    assert len(per_secret) == 5


def test_new_password_draws_from_the_whole_alphabet() -> None:
    drawn = "".join(preseed.new_password(64) for _ in range(200))
    assert set(drawn) == set(preseed.PASSWORD_ALPHABET)


def test_generating_again_changes_nothing(workdir: Path) -> None:
    site = write_site(workdir)
    preseed.generate(site, str(workdir))
    files = [*sorted(workdir.glob("*.preseed")), workdir / "secrets.toml"]
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in files}
    preseed.generate(site, str(workdir))
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in files} == before


def test_a_wider_old_preseed_is_made_private(workdir: Path) -> None:
    site = write_site(workdir)
    old = workdir / "compute.preseed"
    old.write_text("old\n")
    old.chmod(0o644)
    preseed.generate(site, str(workdir), [Role.COMPUTE])
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_defaults_are_preseeded_unseen_and_site_answers_seen(workdir: Path) -> None:
    preseed.generate(write_site(workdir), str(workdir), [Role.CONTROLLER])
    lines = (workdir / "controller.preseed").read_text().splitlines()
    unseen = {line.split()[1] for line in lines if line.endswith(" seen false")}
    # Not in the site file: offered for review by an interactive frontend.
    assert {
        "glance/db-type",
        "glance/rabbit-userid",
        "keystone/admin-email",
        "glance/api-endpoint-proto",
        "glance/ksat-admin-username",
        "keystone/admin-tenant-name",
    } <= unseen
    # Given by the site file, or decided by the role: never asked.
    for question in ("glance/ksat-region", "glance/rabbit-host", "glance/configure_db", "glance/db-password"):
        assert question not in unseen


def test_remote_database_needs_the_stored_admin_password(workdir: Path) -> None:
    site = write_site(workdir, SITE.replace('host = "localhost"', 'host = "db.example.org"'))
    with pytest.raises(ConfigFileError) as error:
        preseed.generate(site, str(workdir))
    assert "'database-admin'" in str(error.value)
    assert not list(workdir.glob("*.preseed"))
    store = workdir / "secrets.toml"
    store.write_text('database-admin = "S3cret-db-root"\n')
    store.chmod(0o600)
    preseed.generate(site, str(workdir), [Role.CONTROLLER])
    got = answers((workdir / "controller.preseed").read_text())
    assert got["glance/db-admin-password"] == ("password", "S3cret-db-root")
    assert 'database-admin = "S3cret-db-root"' in store.read_text()


def test_postgresql_sites_answer_pgsql_as_the_template_offers(workdir: Path) -> None:
    site = write_site(workdir, SITE.replace("[database]\n", '[database]\ntype = "postgresql"\n'))
    preseed.generate(site, str(workdir), [Role.CONTROLLER])
    text = (workdir / "controller.preseed").read_text()
    got = answers(text)
    assert got["glance/db-type"] == ("select", "pgsql")
    assert got["keystone/db-type"] == ("select", "pgsql")
    assert check(text, toolkit_questions()) == []


def test_sqlite_sites_need_no_database_host_user_or_password(workdir: Path) -> None:
    site = write_site(workdir, SITE.replace('host = "localhost"', 'type = "sqlite"'))
    preseed.generate(site, str(workdir), [Role.ALL_IN_ONE])
    text = (workdir / "all-in-one.preseed").read_text()
    got = answers(text)
    assert got["glance/configure_db"] == ("boolean", "true")
    assert got["glance/db-type"] == ("select", "sqlite")
    assert not [question for question in got if "/db-" in question and not question.endswith("/db-type")]
    assert "glance-db" not in (workdir / "secrets.toml").read_text()
    assert "glance-keystone" in (workdir / "secrets.toml").read_text()
    assert check(text, toolkit_questions()) == []


def test_a_keystone_database_password_its_url_would_encode_is_refused_before_writing(workdir: Path) -> None:
    site = write_site(workdir)
    store = workdir / "secrets.toml"
    store.write_text('keystone-db = "p@ss:word"\nglance-db = "g@ss%41 $x"\n')
    store.chmod(0o600)
    with pytest.raises(ConfigFileError, match="'keystone-db' has characters") as error:
        preseed.generate(site, str(workdir))
    assert str(error.value).startswith(f"{store}: ")
    assert "p@ss" not in str(error.value)
    assert not list(workdir.glob("*.preseed"))
    # Other services read any password; Keystone takes one that needs no encoding.
    store.write_text('keystone-db = "Plain-pass_1.~"\nglance-db = "g@ss%41 $x"\n')
    preseed.generate(site, str(workdir), [Role.CONTROLLER])
    got = answers((workdir / "controller.preseed").read_text())
    assert got["keystone/db-password"] == ("password", "Plain-pass_1.~")
    assert got["glance/db-password"] == ("password", "g@ss%41 $x")


def test_a_store_others_can_read_is_refused(workdir: Path) -> None:
    site = write_site(workdir)
    store = workdir / "secrets.toml"
    store.write_text('rabbitmq = "abc"\n')
    store.chmod(0o644)
    with pytest.raises(ConfigFileError, match="chmod 600"):
        preseed.generate(site, str(workdir))


def test_without_generate_a_missing_password_is_an_error(workdir: Path) -> None:
    site = write_site(workdir, SITE.replace("generate = true", "generate = false"))
    with pytest.raises(ConfigFileError, match="generate = true") as error:
        preseed.generate(site, str(workdir), [Role.COMPUTE])
    assert "secrets.toml" in str(error.value)
    assert not (workdir / "secrets.toml").exists()


def test_ipv6_keystone_address_is_bracketed_in_urls(workdir: Path) -> None:
    site = write_site(workdir, SITE.replace('address = "192.0.2.10"', 'address = "2001:db8::10"'))
    preseed.generate(site, str(workdir), [Role.COMPUTE])
    got = answers((workdir / "compute.preseed").read_text())
    assert got["nova/ksat-public-url"] == ("string", "http://[2001:db8::10]:5000")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('host = "mq.example.org"', ""), r"rabbitmq\.host: missing"),
        (("[site]\n", '[site]\nflavour = "x"\n'), r"site\.flavour: unknown key"),
        (("generate = true", 'generate = true\nrabbitmq = "pw"'), "passwords go in the password store"),
        (("[database]\n", '[database]\ntype = "oracle"\n'), r"'oracle' is not one of mysql, postgresql"),
        (("[site]\n", "[sites]\n"), r"sites: unknown key.*Hint: use the tables controller"),
        (('address = "192.0.2.11"', 'address = "a b"'), "not a host name or an IP address"),
        (('address = "192.0.2.11"', 'address = "http://x:1/"'), "not a host name or an IP address"),
        (('host = "mq.example.org"', 'host = "[fd00::1"'), "not a host name or an IP address"),
        (('host = "mq.example.org"', 'host = "192.0.2.300"'), r"rabbitmq\.host: .*neither an IPv4"),
        (('host = "mq.example.org"', f'host = "{"a" * 64}.org"'), r"rabbitmq\.host: Invalid host"),
        (('region = "RegionTwo"', 'region = "a b"'), "without spaces"),
        (('region = "RegionTwo"', 'region = "r1\\n"'), "without spaces"),
        (("generate = true", "generate = true\nlength = 8"), r"8 is not in 16\.\.4096"),
        (("generate = true", "generate = true\nlength = 100000000000"), r"is not in 16\.\.4096"),
        (('provider_interface = "eth1"', ""), r"network\.provider_interface: missing"),
        (('provider_interface = "eth1"', 'provider_interface = "a:b"'), "a network interface's name"),
    ],
)
def test_bad_site_files_are_refused_naming_the_key(
    workdir: Path, change: tuple[str, str], message: str
) -> None:
    site = write_site(workdir, SITE.replace(*change, 1))
    with pytest.raises(ConfigFileError, match=message):
        preseed.generate(site, str(workdir))
    assert sorted(p.name for p in workdir.iterdir()) == ["site.toml"]


def test_unknown_role_lists_the_roles() -> None:
    with pytest.raises(InvalidValueError, match="all-in-one, controller, compute"):
        preseed.parse_role("network")


def test_cli_generate_prints_paths_never_a_password(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["preseed", "generate", write_site(workdir), "--output-dir", str(workdir)]) == 0
    out, err = capsys.readouterr()
    store = (workdir / "secrets.toml").read_text()
    passwords = re.findall(r'= "([A-Za-z0-9]+)"', store)
    assert passwords
    for password in passwords:
        assert password not in out + err
    assert out.splitlines() == [str(workdir / f"{role}.preseed") for role in Role]


def test_cli_generate_error_exits_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["preseed", "generate", str(workdir / "missing.toml")]) == 2
    assert "missing.toml: no such file." in capsys.readouterr().err


def test_committed_example_preseeds_are_current(workdir: Path) -> None:
    generate_example(workdir)
    for role in Role:
        name = f"{role}.preseed"
        assert (workdir / name).read_text() == (EXAMPLES / name).read_text(), f"run make preseeds ({name})"
    assert (workdir / "example-secrets.toml").read_bytes() == (EXAMPLES / "example-secrets.toml").read_bytes()


@pytest.mark.parametrize(
    "password", ["C:\\new\\path", 'quote"d', "é☃ unicode", "\\u0041 not an escape", "sp ace"]
)
def test_stored_passwords_round_trip_through_the_store(workdir: Path, password: str) -> None:
    site = write_site(workdir)
    store = workdir / "secrets.toml"
    store.write_text(f"rabbitmq = {preseed.toml_string(password)}\n")
    store.chmod(0o600)
    preseed.generate(site, str(workdir), [Role.COMPUTE])
    # The store was rewritten with the generated passwords: the stored one is intact.
    assert preseed.read_store(str(store))["rabbitmq"] == password
    assert answers((workdir / "compute.preseed").read_text())["nova/rabbit-password"] == (
        "password",
        password,
    )


@pytest.mark.parametrize("password", ["two\nlines", "cr\rhere", "nul\x00", "sep\u2028x", "tab\there"])
def test_a_password_that_would_break_a_preseed_line_is_refused(workdir: Path, password: str) -> None:
    site = write_site(workdir)
    store = workdir / "secrets.toml"
    store.write_text(f"rabbitmq = {preseed.toml_string(password)}\n")
    store.chmod(0o600)
    with pytest.raises(ConfigFileError, match="'rabbitmq' holds a control character") as error:
        preseed.generate(site, str(workdir), [Role.COMPUTE])
    assert password not in str(error.value)
    assert not (workdir / "compute.preseed").exists()


def test_no_preseed_is_written_through_a_link(workdir: Path) -> None:
    site = write_site(workdir)
    target = workdir / "elsewhere"
    target.write_text("not yours\n")
    target.chmod(0o644)
    (workdir / "out").mkdir()
    (workdir / "out" / "compute.preseed").symlink_to(target)
    with pytest.raises(ConfigFileError, match="is a link or not a regular file"):
        preseed.generate(site, str(workdir / "out"), [Role.COMPUTE])
    assert target.read_text() == "not yours\n"
    assert target.stat().st_mode & 0o777 == 0o644
