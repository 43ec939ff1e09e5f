"""The phases' logic: families, seeding from config files, asking, plans, forgetting secrets."""

from __future__ import annotations

from pathlib import Path

import debconf as debian_debconf
import pytest

from openstack_pkg_tools.debconf import Debconf
from openstack_pkg_tools.errors import InvalidValueError
from openstack_pkg_tools.maintscript import phases as maintscript
from openstack_pkg_tools.maintscript import seeding
from openstack_pkg_tools.maintscript.phases import Phase, script_identity
from openstack_pkg_tools.maintscript.plans import Plans, plans
from openstack_pkg_tools.maintscript.seeding import seeds
from openstack_pkg_tools.profile import load, parse
from openstack_pkg_tools.questions import Family, families, of_family

DEFAULTS = {
    "configure_db": "false",
    "db-type": "mysql",
    "db-host": "localhost",
    "db-name": "glance",
    "db-user": "glance",
    "db-admin-user": "root",
    "configure_rabbit": "false",
    "rabbit-host": "localhost",
    "rabbit-userid": "guest",
    "configure_ksat": "false",
    "ksat-public-url": "http://localhost:5000",
    "ksat-region": "regionOne",
    "ksat-create-service-user": "true",
    "ksat-admin-username": "admin",
    "ksat-admin-project-name": "admin",
    "ksat-service-username": "glance",
    "ksat-service-project-name": "service",
    "configure_api-endpoint": "false",
    "api-keystone-address": "127.0.0.1",
    "api-keystone-proto": "http",
    "api-keystone-admin-username": "admin",
    "api-keystone-admin-project-name": "admin",
    "api-endpoint-proto": "http",
    "api-endpoint-region-name": "regionOne",
}


class Database:
    """A debconf database in memory, speaking the protocol commands the facade sends."""

    def __init__(self, prefix: str = "glance", shown: bool = False) -> None:
        self.values = {f"{prefix}/{name}": value for name, value in DEFAULTS.items()}
        self.seen: set[str] = set()
        self.asked: list[str] = []
        self.shown = shown

    def command(self, command: str, *params: str) -> str:
        if command == "get":
            return self.values.get(params[0], "")
        if command == "set":
            self.values[params[0]] = " ".join(params[1:])
            return ""
        if command == "fset":
            (self.seen.add if params[2] == "true" else self.seen.discard)(params[0])
            return ""
        if command == "fget":
            return "true" if params[0] in self.seen else "false"
        if command == "input":
            if not self.shown or params[1] in self.seen:
                raise debian_debconf.DebconfError(30, "question skipped")
            self.asked.append(params[1])
            self.seen.add(params[1])
            return ""
        return ""

    def stop(self) -> None:
        pass


def test_families_per_package() -> None:
    glance = load("glance")
    assert families(glance, "glance-common") == (Family.DB, Family.RABBIT, Family.KSAT)
    assert families(glance, "glance-api") == (Family.ENDPOINT,)
    # Keystone registers its own catalog entry when it bootstraps (Debian's keystone/* questions).
    assert families(load("keystone"), "keystone") == (Family.DB, Family.KEYSTONE)
    assert families(glance, "glance-doc") == ()


def test_seeds_come_from_the_current_config_and_legacy_directives(tmp_path: Path) -> None:
    conf = tmp_path / "glance-api.conf"
    conf.write_text(
        "[DEFAULT]\ntransport_url = rabbit://bob:p%40ss%3Aw@mq1:5672,carol:x@mq2:5672/\n"
        "[database]\nconnection = mysql+pymysql://glance:s%2Fcret@db.example.org/glance_db?charset=utf8\n"
        "[keystone_authtoken]\nauth_uri = http://ks:5000\nadmin_user = glance-svc\n"
        "admin_tenant_name = services\npassword = kspass\nadmin_password = old\n"
    )
    text = f'name = "glance"\n[[config]]\nsource = "a"\ntarget = "{conf}"\n[[database]]\n[messaging]\n'
    profile = parse(text + "[keystone_authtoken]\n", "glance.toml")
    assert seeds(profile, "glance-common") == {
        "db-type": "mysql",
        "db-host": "db.example.org",
        "db-user": "glance",
        "db-password": "s/cret",
        "db-name": "glance_db",
        "rabbit-host": "mq1",
        "rabbit-userid": "bob",
        "rabbit-password": "p@ss:w",
        "ksat-public-url": "http://ks:5000",
        "ksat-service-username": "glance-svc",
        "ksat-service-project-name": "services",
        "ksat-service-password": "kspass",
    }
    assert seeds(profile, "glance-api") == {}


def test_seeding_reads_each_config_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "glance-api.conf"
    conf.write_text("[DEFAULT]\n[database]\n[keystone_authtoken]\nusername = glance\n")
    text = f'name = "glance"\n[[config]]\nsource = "a"\ntarget = "{conf}"\n[[database]]\n[messaging]\n'
    opened: list[str] = []

    class CountingIniFile(seeding.IniFile):
        def __init__(self, path: str) -> None:
            opened.append(path)
            super().__init__(path)

    monkeypatch.setattr(seeding, "IniFile", CountingIniFile)
    found = seeds(parse(text + "[keystone_authtoken]\n", "glance.toml"), "glance-common")
    assert found == {"ksat-service-username": "glance"}
    assert opened == [str(conf)]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg2://nova:pw@[2001:db8::1]:5432/nova",
            {"db-type": "pgsql", "db-host": "2001:db8::1"},
        ),
        ("mariadb+pymysql://nova:pw@db/nova", {"db-type": "mysql", "db-host": "db"}),
        ("sqlite:////var/lib/nova/nova.sqlite", {"db-type": "sqlite"}),
        ("oracle://nova:pw@db/nova", {}),
        ("<None>", {}),
    ],
)
def test_database_seeds_per_engine(url: str, expected: dict[str, str]) -> None:
    found = seeds(
        load("nova"), "nova-common", lambda path, section, key: url if key == "connection" else None
    )
    assert {key: found[key] for key in ("db-type", "db-host") if key in found} == expected


def test_no_config_file_means_no_seeds() -> None:
    assert seeds(load("glance"), "glance-common", lambda path, section, key: None) == {}


def test_config_asks_details_only_after_a_yes_and_is_idempotent() -> None:
    db = Database(shown=True)
    db.values["glance/configure_rabbit"] = "true"
    conf = Debconf(db)
    read = {("/etc/glance/glance-api.conf", "DEFAULT", "transport_url"): "rabbit://u:p@mq:5672/"}
    maintscript.config(conf, load("glance"), "glance-common", lambda *key: read.get(key))
    assert db.asked == [
        "glance/configure_db",
        "glance/configure_rabbit",
        "glance/rabbit-host",
        "glance/rabbit-userid",
        "glance/rabbit-password",
        "glance/configure_ksat",
    ]
    assert db.values["glance/rabbit-host"] == "mq"
    values = dict(db.values)
    db.asked.clear()
    maintscript.config(conf, load("glance"), "glance-common", lambda *key: read.get(key))
    assert db.asked == []
    assert db.values == values


def _answers(**changes: str) -> dict[str, str]:
    answers = dict(DEFAULTS)
    answers.update(
        {key.replace("_", "-").replace("configure-", "configure_"): v for key, v in changes.items()}
    )
    return answers


def test_nothing_is_planned_unless_a_configure_answer_says_so() -> None:
    assert plans(load("glance"), "glance-common", _answers()) == Plans()


def test_database_plan_keeps_the_other_databases_of_the_profile() -> None:
    answers = {**_answers(configure_db="true", db_name="nova_main"), "cinder_os_region_name": "regionOne"}
    planned = plans(load("nova"), "nova-common", answers, "192.0.2.10")
    assert planned.database is not None
    assert [d.name for d in planned.database.databases] == ["nova_main", "nova_api", "nova_cell0"]
    assert planned.database.admin_user == "root"


@pytest.mark.parametrize(
    ("changes", "question"),
    [
        ({"db_password": "p@ss word"}, "keystone/db-password"),
        ({"db_password": "cost$5"}, "keystone/db-password"),
        ({"db_user": "key:stone", "db_password": "plain"}, "keystone/db-user"),
    ],
)
def test_keystone_refuses_database_answers_its_url_would_percent_encode(
    changes: dict[str, str], question: str
) -> None:
    answers = _answers(configure_db="true", db_name="keystone", **changes)
    with pytest.raises(InvalidValueError, match=f"^{question} has characters") as raised:
        plans(load("keystone"), "keystone", answers)
    assert changes.get("db_password", "plain") not in str(raised.value)


@pytest.mark.parametrize("password", ["", "Ab9-._~", "generated_urlsafe-Token"])
def test_keystone_takes_database_passwords_that_need_no_encoding(password: str) -> None:
    answers = _answers(configure_db="true", db_name="keystone", db_user="keystone", db_password=password)
    planned = plans(load("keystone"), "keystone", answers)
    assert planned.database is not None
    assert planned.database.password == password


def test_other_services_take_any_database_password() -> None:
    answers = _answers(configure_db="true", db_password="p@ss%41 $x")
    planned = plans(load("glance"), "glance-common", answers)
    assert planned.database is not None
    assert planned.database.password == "p@ss%41 $x"


def test_sqlite_has_no_user_or_password_to_refuse() -> None:
    answers = _answers(
        configure_db="true", db_type="sqlite", db_name="keystone", db_user="a@b", db_password="p@ss"
    )
    planned = plans(load("keystone"), "keystone", answers)
    assert planned.database is not None
    assert planned.database.user == ""


def test_endpoint_urls_per_interface_with_ipv6_brackets() -> None:
    answers = _answers(
        configure_api_endpoint="true",
        api_keystone_admin_password="x",
        api_endpoint_address="2001:db8::5",
        api_endpoint_internal_url="http://internal:8774/v2.1",
    )
    planned = plans(load("nova"), "nova-api", answers)
    assert planned.catalog is not None
    entry, urls = planned.catalog.services[0]
    assert entry.type == "compute"
    assert urls.public == "http://[2001:db8::5]:8774/v2.1"
    assert urls.internal == "http://internal:8774/v2.1"
    assert urls.admin == urls.public
    assert planned.catalog.keystone_url == "http://127.0.0.1:5000/v3"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"configure_rabbit": "true", "rabbit_host": " "}, "glance/rabbit-host is empty"),
        ({"configure_db": "true", "db_type": "oracle"}, "glance/db-type is 'oracle', not one of mysql"),
        ({"configure_ksat": "true", "ksat_service_password": "x", "ksat_region": "-bad"}, "not a region"),
        ({"configure_ksat": "true", "ksat_public_url": "keystone:5000"}, "not an http:// or https:// URL"),
        ({"configure_ksat": "true", "ksat_service_password": "x"}, "glance/ksat-admin-password is empty"),
    ],
)
def test_bad_answers_are_refused_with_the_question_named(changes: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        plans(load("glance"), "glance-common", _answers(**changes))


def test_postinst_keeps_the_answers_when_it_fails() -> None:
    # So that once the bad answer is fixed, dpkg --configure -a finishes
    # the work without asking anything again.
    db = Database()
    db.values |= {
        "glance/configure_rabbit": "true",
        "glance/rabbit-host": "",
        "glance/db-admin-password": "x",
    }
    with pytest.raises(InvalidValueError):
        maintscript.postinst(Debconf(db), load("glance"), "glance-common")
    assert db.values["glance/db-admin-password"] == "x"
    assert db.values["glance/configure_rabbit"] == "true"


def test_the_service_passwords_are_forgotten_after_postinst() -> None:
    # config seeds them again from the config files.
    db = Database()
    db.values |= {
        "glance/db-password": "d",
        "glance/rabbit-password": "r",
        "glance/ksat-service-password": "k",
    }
    maintscript.forget_secrets(Debconf(db), load("glance"), "glance-common")
    assert db.values["glance/db-password"] == db.values["glance/rabbit-password"] == ""
    assert db.values["glance/ksat-service-password"] == ""


def test_config_seeds_a_forgotten_password_but_keeps_a_new_one() -> None:
    read = {
        ("/etc/glance/glance-api.conf", "DEFAULT", "transport_url"): "rabbit://u:old@mq:5672/",
        ("/etc/glance/glance-api.conf", "keystone_authtoken", "password"): "old-k",
    }
    db = Database()
    db.values["glance/ksat-service-password"] = "new-k"  # preseeded: a rotation
    maintscript.config(Debconf(db), load("glance"), "glance-common", lambda *key: read.get(key))
    assert db.values["glance/rabbit-password"] == "old"
    assert db.values["glance/ksat-service-password"] == "new-k"
    assert db.values["glance/rabbit-host"] == "mq"


def test_config_keeps_the_answers_of_a_switch_still_on_over_a_half_written_file() -> None:
    # A run killed before the ksat step left Debian's shipped placeholder in
    # the file; the preseeded answers wait for the re-run and are applied.
    read = {
        ("/etc/glance/glance-api.conf", "keystone_authtoken", "region_name"): "regionOne",
        ("/etc/glance/glance-api.conf", "keystone_authtoken", "username"): "glance",
    }
    db = Database()
    db.values |= {"glance/configure_ksat": "true", "glance/ksat-region": "RegionOne"}
    db.seen.add("glance/ksat-region")  # preseeded
    maintscript.config(Debconf(db), load("glance"), "glance-common", lambda *key: read.get(key))
    assert db.values["glance/ksat-region"] == "RegionOne"
    # Once postinst succeeded (the switch off), the file is what is in effect.
    db.values["glance/configure_ksat"] = "false"
    maintscript.config(Debconf(db), load("glance"), "glance-common", lambda *key: read.get(key))
    assert db.values["glance/ksat-region"] == "regionOne"


@pytest.mark.parametrize(
    ("script", "identity"),
    [
        ("/var/lib/dpkg/info/glance-common.postinst", ("glance-common", Phase.POSTINST)),
        ("/var/cache/debconf/tmp.ci/glance-common.config.bHKMk7", ("glance-common", Phase.CONFIG)),
        ("/var/lib/dpkg/info/libfoo1.2:amd64.postrm", ("libfoo1.2", Phase.POSTRM)),
        ("debian/nova-api.prerm", ("nova-api", Phase.PRERM)),
    ],
)
def test_script_identity(script: str, identity: tuple[str, Phase], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DPKG_MAINTSCRIPT_PACKAGE", raising=False)
    assert script_identity(script) == identity


def test_an_unknown_script_name_is_an_error() -> None:
    with pytest.raises(InvalidValueError, match="/usr/bin/pkgos"):
        script_identity("/usr/bin/pkgos")


@pytest.mark.parametrize(
    ("phase", "args", "talks"),
    [
        (Phase.CONFIG, ["configure", "1.0"], True),
        (Phase.CONFIG, ["reconfigure", "1.0"], True),
        (Phase.POSTINST, ["configure", "1.0"], True),
        (Phase.POSTINST, ["abort-upgrade", "1.0"], False),
        (Phase.POSTRM, ["remove"], False),
        (Phase.POSTRM, ["purge"], True),
        (Phase.PRERM, ["remove"], False),
    ],
)
def test_which_dpkg_actions_do_something(phase: Phase, args: list[str], talks: bool) -> None:
    assert maintscript.talks_to_debconf(phase, args) is talks


@pytest.mark.parametrize(
    ("answers", "admin_questions"),
    [
        ({"glance/db-host": "localhost"}, []),
        ({"glance/db-host": "db.example.org"}, ["glance/db-admin-user", "glance/db-admin-password"]),
        ({"glance/db-host": "db.example.org", "glance/db-type": "sqlite"}, []),
    ],
)
def test_database_admin_is_asked_only_for_a_remote_server(
    answers: dict[str, str], admin_questions: list[str]
) -> None:
    db = Database(shown=True)
    db.values |= {"glance/configure_db": "true", **answers}
    maintscript.config(Debconf(db), load("glance"), "glance-common", lambda *key: None)
    asked = [name for name in db.asked if name.startswith("glance/db-")]
    assert asked == [
        "glance/db-type",
        "glance/db-host",
        "glance/db-name",
        "glance/db-user",
        "glance/db-password",
        *admin_questions,
    ]


def test_keystone_admin_is_asked_only_to_create_the_service_user() -> None:
    db = Database(shown=True)
    db.values |= {"glance/configure_ksat": "true", "glance/ksat-create-service-user": "false"}
    maintscript.config(Debconf(db), load("glance"), "glance-common", lambda *key: None)
    assert "glance/ksat-service-password" in db.asked
    assert not [name for name in db.asked if name.startswith("glance/ksat-admin")]


@pytest.mark.parametrize(
    ("phase", "args", "reconfigure", "expected"),
    [
        (Phase.POSTINST, ["configure", "1.0"], "", True),
        (Phase.POSTINST, ["configure", ""], "", False),
        (Phase.POSTINST, ["configure"], "", False),
        (Phase.POSTINST, ["configure", "1.0"], "1", False),
        (Phase.CONFIG, ["configure", "1.0"], "", False),
    ],
)
def test_an_upgrade_is_postinst_configure_with_an_old_version_outside_dpkg_reconfigure(
    phase: Phase, args: list[str], reconfigure: str, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEBCONF_RECONFIGURE", reconfigure)
    assert maintscript.is_upgrade(phase, args) is expected


def test_postinst_forgets_only_the_questions_of_the_package_families() -> None:
    db = Database()
    db.values["glance/ksat-admin-password"] = "kept"
    db.values["glance/api-keystone-admin-password"] = "forgotten"
    db.values["glance/configure_api-endpoint"] = "true"
    db.values["glance/configure_rabbit"] = "true"
    maintscript.forget_secrets(Debconf(db), load("glance"), "glance-api")
    assert db.values["glance/api-keystone-admin-password"] == ""
    assert db.values["glance/configure_api-endpoint"] == "false"
    # glance-common's questions: not this package's to touch (they may not even exist).
    assert db.values["glance/ksat-admin-password"] == "kept"
    assert db.values["glance/configure_rabbit"] == "true"


def test_a_bad_endpoint_address_is_refused_at_plan_time_naming_the_questions() -> None:
    answers = _answers(
        configure_api_endpoint="true", api_keystone_admin_password="x", api_endpoint_address="bad host!"
    )
    with pytest.raises(InvalidValueError, match=r"^nova/api-endpoint-\*: Invalid endpoint URL"):
        plans(load("nova"), "nova-api", answers)


def test_seeded_answers_are_questions_of_the_table(tmp_path: Path) -> None:
    conf = tmp_path / "glance-api.conf"
    conf.write_text(
        "[DEFAULT]\ntransport_url = rabbit://u:p@h:5672/\n"
        "[database]\nconnection = mysql+pymysql://g:pw@db/glance\n"
        "[keystone_authtoken]\nwww_authenticate_uri = http://k:5000\nregion_name = r1\n"
        "username = glance\nproject_name = service\npassword = pw\n"
    )
    profile = parse(
        f'name = "glance"\n[[config]]\nsource = "glance-api.conf"\ntarget = "{conf}"\n'
        "[[database]]\n[messaging]\n[keystone_authtoken]\n",
        "test.toml",
    )
    seeded = seeds(profile, "glance-common")
    table = {question.name for family in families(profile, "glance-common") for question in of_family(family)}
    assert len(seeded) == 13
    assert set(seeded) <= table


KEYSTONE_ANSWERS = {
    "create-admin-tenant": "true",
    "admin-user": "admin",
    "admin-email": "cloud@example.org",
    "admin-password": "Adm1n$|pass",
    "admin-password-confirm": "Adm1n$|pass",
    "admin-role-name": "admin",
    "admin-tenant-name": "admin",
    "register-endpoint": "true",
    "endpoint-ip": "",
    "endpoint-proto": "https",
    "region-name": "regionOne",
}


def test_keystone_bootstraps_itself_from_debians_questions() -> None:
    keystone = load("keystone")
    planned = plans(keystone, "keystone", KEYSTONE_ANSWERS, "2001:db8::5")
    assert planned.catalog is None and planned.bootstrap is not None
    bootstrap = planned.bootstrap
    assert bootstrap.spec.endpoints is not None
    assert bootstrap.spec.endpoints.public == "https://[2001:db8::5]:5000/v3"
    assert (bootstrap.spec.region, bootstrap.spec.service_name) == ("regionOne", "keystone")
    assert (bootstrap.spec.system_user, bootstrap.spec.config_file) == (
        "keystone",
        "/etc/keystone/keystone.conf",
    )
    assert bootstrap.local_url == "http://127.0.0.1:5000/v3"
    assert bootstrap.start == "keystone"
    assert bootstrap.uwsgi == "/etc/keystone/keystone-uwsgi.ini"
    assert {"service", "heat_stack_owner", "load-balancer_member"} <= set(bootstrap.roles)
    assert "Adm1n" not in repr(bootstrap)
    # Without register-endpoint, keystone-manage registers no endpoint (and no region).
    unregistered = plans(keystone, "keystone", {**KEYSTONE_ANSWERS, "register-endpoint": "false"}, "")
    assert unregistered.bootstrap is not None and unregistered.bootstrap.spec.endpoints is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"admin-password-confirm": "other"},
            "keystone/admin-password and keystone/admin-password-confirm differ",
        ),
        ({"admin-email": "not an address"}, "keystone/admin-email is 'not an address'"),
        ({"endpoint-ip": "http://x:1/"}, "keystone/endpoint-ip is 'http://x:1/'"),
        ({"region-name": "a b"}, "keystone/region-name is 'a b', not a region name"),
        ({"admin-user": ""}, "keystone/admin-user is empty"),
        ({"endpoint-proto": "gopher"}, "keystone/endpoint-proto is 'gopher', not one of http, https"),
    ],
)
def test_bad_keystone_answers_are_refused_by_name(change: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message) as error:
        plans(load("keystone"), "keystone", {**KEYSTONE_ANSWERS, **change}, "192.0.2.5")
    assert "Adm1n" not in str(error.value)


# -- asked settings (their plans: test_asked_settings.py) --------------------------

AGENT_INI = "/etc/neutron/plugins/ml2/linuxbridge_agent.ini"


def test_the_passwords_are_kept_not_forgotten() -> None:
    # Debian keeps them in debconf and in the config files: nova and neutron need them to run.
    nova = load("nova")
    db = Database(prefix="nova")
    db.values |= {
        "nova/placement_admin_password": "p",
        "nova/neutron_admin_password": "n",
        "nova/metadata_secret": "m",
        "nova/configure_placement": "true",
    }
    maintscript.forget_secrets(Debconf(db), nova, "nova-common")
    assert db.values["nova/placement_admin_password"] == "p"
    assert db.values["nova/metadata_secret"] == "m"
    assert db.values["nova/configure_placement"] == "false"


def test_config_asks_a_switchless_family_every_time_and_seeds_it_from_its_directive() -> None:
    db = Database(prefix="neutron", shown=True)
    read = {
        (AGENT_INI, "linux_bridge", "physical_interface_mappings"): "physnet1:ens4",
        (AGENT_INI, "vxlan", "enable_vxlan"): "False",
    }
    maintscript.config(Debconf(db), load("neutron"), "neutron-linuxbridge-agent", lambda *key: read.get(key))
    assert db.asked == [
        "neutron/linuxbridge-physical-interface-mappings",
        "neutron/linuxbridge-enable-vxlan",
        "neutron/linuxbridge-local-ip",
    ]
    assert db.values["neutron/linuxbridge-physical-interface-mappings"] == "physnet1:ens4"
    # oslo.config's False, as debconf's boolean.
    assert db.values["neutron/linuxbridge-enable-vxlan"] == "false"


def test_config_asks_the_metadata_agent_under_debians_prefix() -> None:
    db = Database(prefix="neutron-metadata", shown=True)
    db.values["neutron-metadata/configure"] = "true"
    maintscript.config(Debconf(db), load("neutron"), "neutron-metadata-agent", lambda *key: None)
    assert db.asked == [
        "neutron-metadata/configure",
        "neutron-metadata/metadata_secret",
        "neutron-metadata/nova_metadata_host",
    ]


class Typist(Database):
    """A debconf user who types each password question's answers in turn."""

    def __init__(self, typed: dict[str, list[str]]) -> None:
        super().__init__("keystone", shown=True)
        self.values |= {"keystone/create-admin-tenant": "true"}
        self.typed = typed

    def command(self, command: str, *params: str) -> str:
        result = super().command(command, *params)
        if command == "input" and self.typed.get(params[1]):
            self.values[params[1]] = self.typed[params[1]].pop(0)
        return result


def test_keystone_asks_both_passwords_again_after_debians_note_until_they_agree() -> None:
    db = Typist(
        {"keystone/admin-password": ["a", "b", "s"], "keystone/admin-password-confirm": ["x", "y", "s"]}
    )
    maintscript.config(Debconf(db), load("keystone"), "keystone", lambda *key: None)
    asked = [name for name in db.asked if "password" in name]
    assert (
        asked
        == ["keystone/admin-password", "keystone/admin-password-confirm"]
        + [
            "keystone/passwords-do-not-match",
            "keystone/admin-password",
            "keystone/admin-password-confirm",
        ]
        * 2
    )
    assert db.values["keystone/admin-password"] == db.values["keystone/admin-password-confirm"] == "s"


def test_keystone_keeps_two_different_preseeded_passwords_for_postinst_to_refuse() -> None:
    db = Database("keystone")
    db.values |= {
        "keystone/create-admin-tenant": "true",
        "keystone/admin-password": "a",
        "keystone/admin-password-confirm": "b",
    }
    maintscript.config(Debconf(db), load("keystone"), "keystone", lambda *key: None)
    assert (db.values["keystone/admin-password"], db.values["keystone/admin-password-confirm"]) == ("a", "b")
    with pytest.raises(InvalidValueError, match="admin-password and keystone/admin-password-confirm differ"):
        plans(load("keystone"), "keystone", {**_keystone_answers(), "admin-password": "a"})


def _keystone_answers() -> dict[str, str]:
    answers = {q.name: q.default_for("keystone") for q in of_family(Family.KEYSTONE)}
    return answers | {"create-admin-tenant": "true", "admin-password-confirm": "b"}


def test_the_purge_says_what_the_controller_keeps_of_this_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maintscript.socket, "gethostname", lambda: "compute7")
    profile = parse(
        'name = "foo"\n[[leaving]]\npackage = "foo-agent"\n'
        'text = "{host} stays listed: on the controller run foo delete {host}."\n',
        "foo.toml",
    )
    assert maintscript.purge(None, profile, "foo-agent") == [
        "compute7 stays listed: on the controller run foo delete compute7."
    ]
    assert maintscript.purge(None, profile, "foo-api") == []


def test_nova_and_neutron_compute_packages_say_how_the_controller_forgets_the_host() -> None:
    for service, package, command in (
        ("nova", "nova-compute-qemu", "openstack compute service delete"),
        ("nova", "nova-compute-kvm", "openstack compute service delete"),
        ("neutron", "neutron-linuxbridge-agent", "openstack network agent delete"),
    ):
        (leaving,) = load(service).leavings_for(package)
        assert command in leaving.text and "{host}" in leaving.text
