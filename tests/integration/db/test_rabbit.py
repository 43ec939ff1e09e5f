"""transport_url in a config file, and RabbitMQ accounts on the real broker."""

from __future__ import annotations

import os

import pytest

from openstack_pkg_tools.errors import InvalidValueError
from openstack_pkg_tools.inifile import IniFile
from openstack_pkg_tools.rabbit import (
    RabbitAccount,
    RabbitChange,
    ensure_account,
    write_transport_url,
)
from openstack_pkg_tools.urls import TransportHost, TransportUrl
from tests.servers.rabbitmq import RabbitMQ

LEGACY_CONF = """\
[DEFAULT]
rabbit_host = old-host
rabbit_userid = guest
rabbit_password = old secret
debug = true

[oslo_messaging_rabbit]
rabbit_password = older secret
"""


def test_transport_url_replaces_the_legacy_directives(workdir: str) -> None:
    path = os.path.join(workdir, "nova.conf")
    with open(path, "w") as handle:
        handle.write(LEGACY_CONF)
    url = TransportUrl(
        (
            TransportHost("10.0.0.1", 5672, "nova", "p@ss:/%41#"),
            TransportHost("fd00::2", 5672, "nova", "p@ss:/%41#"),
        ),
        virtual_host="openstack",
    )
    assert write_transport_url(path, url)
    with open(path) as handle:
        text = handle.read()
    assert "\n#rabbit_host = old-host\n" in text and "\n#rabbit_password = older secret\n" in text
    assert (
        "transport_url = rabbit://nova:p%40ss%3A%2F%2541%23@10.0.0.1:5672,nova:p%40ss%3A%2F%2541%23@[fd00::2]:5672/openstack"
        in text
    )
    assert TransportUrl.parse(IniFile(path).get("DEFAULT", "transport_url") or "") == url
    mtime = os.stat(path).st_mtime_ns
    assert not write_transport_url(path, url)
    assert os.stat(path).st_mtime_ns == mtime


def test_account_is_created_idempotently_and_its_password_updated(
    rabbitmq: RabbitMQ, capfd: pytest.CaptureFixture[str]
) -> None:
    # Named per run: the broker is the machine's own, and a killed run may leave its account.
    account = RabbitAccount(
        f"pkgostest-nova-{os.getpid()}", "s3cr:et@/%41 é", f"pkgostest-vhost-{os.getpid()}"
    )
    try:
        assert ensure_account(account) == (
            RabbitChange.CREATED_VHOST,
            RabbitChange.CREATED_USER,
            RabbitChange.SET_PERMISSIONS,
        )
        assert rabbitmq.ctl("authenticate_user", account.user, stdin=account.password + "\n").returncode == 0
        assert ensure_account(account) == ()
        changed = RabbitAccount(account.user, "n3w #pass", account.vhost)
        assert ensure_account(changed) == (RabbitChange.UPDATED_PASSWORD,)
        assert rabbitmq.ctl("authenticate_user", account.user, stdin="n3w #pass\n").returncode == 0
        assert rabbitmq.ctl("authenticate_user", account.user, stdin=account.password + "\n").returncode != 0
        permissions = rabbitmq.ctl("list_permissions", "-p", account.vhost, "--silent").stdout
        assert f"{account.user}\t.*\t.*\t.*" in permissions
    finally:
        rabbitmq.ctl("delete_user", account.user)
        rabbitmq.ctl("delete_vhost", account.vhost)
    logged = capfd.readouterr()
    assert f"+ rabbitmqctl add_user {account.user}" in logged.err
    assert account.password not in logged.out + logged.err and "n3w #pass" not in logged.out + logged.err


@pytest.mark.parametrize("password", ["", " leading", "trailing ", "two\nlines"])
def test_passwords_rabbitmqctl_would_alter_are_refused(password: str) -> None:
    with pytest.raises(InvalidValueError, match="password"):
        RabbitAccount("pkgostest-x", password)


@pytest.mark.parametrize("name", ["", "-rf", "a b"])
def test_bad_user_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidValueError, match="user"):
        RabbitAccount(name, "pw")
