"""urls.py: round trips through SQLAlchemy and oslo.messaging, for any text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oslo_config import cfg
from oslo_messaging import TransportURL as OsloTransportURL
from sqlalchemy.engine import make_url

from openstack_pkg_tools.errors import InvalidValueError
from openstack_pkg_tools.inifile import IniFile
from openstack_pkg_tools.urls import DatabaseUrl, Engine, TransportHost, TransportUrl, check_host

# Any text a password can hold (no surrogates: they are not UTF-8).
SECRETS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1)
HOSTS = st.sampled_from(["127.0.0.1", "db.example.org", "::1", "fd00::17", "localhost"])


@settings(max_examples=300, deadline=None)
@given(user=SECRETS, password=SECRETS, host=HOSTS, port=st.none() | st.integers(1, 65535))
def test_sqlalchemy_reads_back_exactly_what_was_built(
    user: str, password: str, host: str, port: int | None
) -> None:
    url = DatabaseUrl.for_engine(Engine.MYSQL, "nova_api", user=user, password=password, host=host, port=port)
    parsed = make_url(url.render())
    assert (parsed.username, parsed.password, parsed.host, parsed.port) == (user, password, host, port)
    assert (parsed.database, dict(parsed.query)) == ("nova_api", {"charset": "utf8"})
    assert DatabaseUrl.parse(url.render()) == url


@settings(max_examples=300, deadline=None)
@given(
    user=SECRETS, password=SECRETS, vhost=st.none() | SECRETS, hosts=st.lists(HOSTS, min_size=1, max_size=3)
)
def test_oslo_messaging_reads_back_exactly_what_was_built(
    user: str, password: str, vhost: str | None, hosts: list[str]
) -> None:
    hosts.sort(key=lambda host: ":" in host)  # IPv6 brokers last (see the refusal test)
    url = TransportUrl(tuple(TransportHost(host, 5672, user, password) for host in hosts), vhost)
    parsed = OsloTransportURL.parse(cfg.ConfigOpts(), url.render())
    assert [(h.hostname, h.port, h.username, h.password) for h in parsed.hosts] == [
        (host, 5672, user, password) for host in hosts
    ]
    assert (parsed.virtual_host or None) == vhost  # oslo.messaging gives "" for the default
    assert TransportUrl.parse(url.render()) == url


@settings(max_examples=100, deadline=None)
@given(password=SECRETS)
def test_a_url_survives_a_config_file_unchanged(
    tmp_path_factory: pytest.TempPathFactory, password: str
) -> None:
    path = str(tmp_path_factory.mktemp("conf") / "glance.conf")
    url = DatabaseUrl.for_engine(Engine.PGSQL, "glance", user="glance", password=password, host="db")
    with IniFile(path, create=True) as conf:
        conf.set("database", "connection", url.render())
    assert DatabaseUrl.parse(IniFile(path).get("database", "connection") or "") == url


def test_rendering_encodes_exactly_what_must_be_encoded() -> None:
    url = DatabaseUrl.for_engine(
        Engine.MYSQL, "glance", user="glance", password="a@b:c/d%41#e$f~g.h-i_j", host="db"
    )
    assert url.render() == "mysql+pymysql://glance:a%40b%3Ac%2Fd%2541%23e%24f~g.h-i_j@db/glance?charset=utf8"
    assert url.redacted() == "mysql+pymysql://glance:***@db/glance?charset=utf8"
    assert str(url) == url.redacted() and "a@b" not in repr(url)


def test_examples_of_each_kind() -> None:
    assert (
        DatabaseUrl(Engine.SQLITE, "/var/lib/glance/glance.sqlite").render()
        == "sqlite:////var/lib/glance/glance.sqlite"
    )
    pg = DatabaseUrl.for_engine(Engine.PGSQL, "nova", user="nova", password="pw", host="fd00::1", port=5432)
    assert pg.render() == "postgresql+psycopg2://nova:pw@[fd00::1]:5432/nova"
    rabbit = TransportUrl((TransportHost("h1", 5672, "u", "p"), TransportHost("h2", 5672, "u", "p")))
    assert rabbit.render() == "rabbit://u:p@h1:5672,u:p@h2:5672/"
    assert rabbit.redacted() == "rabbit://u:***@h1:5672,u:***@h2:5672/"
    assert (
        TransportUrl.single("::1", user="u", password="p", virtual_host="/").render()
        == "rabbit://u:p@[::1]:5672/%2F"
    )


def test_unencoded_urls_of_older_tools_split_at_the_last_at_sign() -> None:
    url = DatabaseUrl.parse("mysql+pymysql://glance:p@ss:w?rd@db.example:3306/glance?charset=utf8")
    assert (url.user, url.password, url.host, url.port, url.query) == (
        "glance",
        "p@ss:w?rd",
        "db.example",
        3306,
        (("charset", "utf8"),),
    )
    rabbit = TransportUrl.parse("rabbit://guest:gu@st@rabbit-host:5672/")
    assert (rabbit.hosts[0].password, rabbit.hosts[0].host, rabbit.virtual_host) == (
        "gu@st",
        "rabbit-host",
        None,
    )


@pytest.mark.parametrize(
    "text",
    [
        "glance",
        "oracle://u:p@h/db",
        "mysql+pymysql://u:p@h:99999/db",
        "mysql+pymysql://u:p@h/",
        "mysql+pymysql://u:p@[::1/db",
        "sqlite:///relative.db",
    ],
)
def test_unparsable_urls_are_refused_without_echoing_them(text: str) -> None:
    with pytest.raises(InvalidValueError) as error:
        DatabaseUrl.parse(text)
    assert ":p@" not in str(error.value)


def test_ipv6_broker_before_a_named_one_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="IPv6 brokers last"):
        TransportUrl((TransportHost("::1", 5672), TransportHost("h2", 5672)))


def test_bad_hosts_and_names_are_refused() -> None:
    for host in ("", "a b", "h/x", "h@x"):
        with pytest.raises(InvalidValueError, match="host"):
            DatabaseUrl.for_engine(Engine.MYSQL, "db", host=host)
    with pytest.raises(InvalidValueError, match="database name"):
        DatabaseUrl.for_engine(Engine.MYSQL, "db/x", host="h")


@pytest.mark.parametrize(
    "host",
    [
        "controller",
        "controller.example.org.",
        "db_1.lan",
        "192.0.2.10",
        "2001:db8::1",
        "[2001:db8::1]",
        "fe80::1%eth0",
    ],
)
def test_check_host_takes_names_and_addresses(host: str) -> None:
    assert check_host(host, "database") == host


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("192.0.2.300", "neither an IPv4 address nor a DNS name"),
        ("[2001:db8::1", "Invalid database host"),
        ("[controller]", "Invalid database host"),
        ("-controller", "Invalid database host"),
        ("a" * 64 + ".org", "Invalid database host"),
        ("controller/x", "Invalid database host"),
        ("", "Invalid database host"),
    ],
)
def test_check_host_refuses_what_would_change_a_url(host: str, problem: str) -> None:
    with pytest.raises(InvalidValueError, match=re.escape(problem)):
        check_host(host, "database")
