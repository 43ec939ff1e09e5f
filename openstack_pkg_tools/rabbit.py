"""The message queue: ``[DEFAULT] transport_url`` and RabbitMQ accounts.

``write_transport_url`` sets the URL and comments out the directives it
replaces (``rabbit_host``, ``rabbit_userid``, ``rabbit_password``...), so
no stale password stays live in the file. ``ensure_account`` makes a
RabbitMQ user, its password, a virtual host and the user's permissions on
it exist, through ``rabbitmqctl`` with the password on stdin, idempotently.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from .errors import InvalidValueError
from .inifile import DEFAULT_SECTION, IniFile
from .run import run
from .urls import TransportUrl

TRANSPORT_KEY = "transport_url"
LEGACY_KEYS = (
    "rabbit_host",
    "rabbit_hosts",
    "rabbit_port",
    "rabbit_userid",
    "rabbit_password",
    "rabbit_virtual_host",
)
LEGACY_SECTIONS = (DEFAULT_SECTION, "oslo_messaging_rabbit")
USER_EXISTS = 70
AUTH_FAILED = 65
ALL = ".*"
MAX_NAME = 255  # RabbitMQ keeps names as short strings (at most 255 bytes on the wire)
NAME = re.compile(r"[^\s\x00-\x1f\x7f-][^\s\x00-\x1f\x7f]*")


def write_transport_url(path: str, url: TransportUrl) -> bool:
    """Set ``[DEFAULT] transport_url`` and comment out legacy directives; True if written."""
    with IniFile(path) as conf:
        conf.set(DEFAULT_SECTION, TRANSPORT_KEY, url.render())
        for section in LEGACY_SECTIONS:
            for key in LEGACY_KEYS:
                conf.comment_out(section, key)
        return conf.changed


class RabbitChange(enum.StrEnum):
    """What ``ensure_account`` changed."""

    CREATED_VHOST = "created virtual host"
    CREATED_USER = "created user"
    UPDATED_PASSWORD = "updated password"  # noqa: S105 (a label, not a secret)
    SET_PERMISSIONS = "set permissions"


@dataclass(frozen=True)
class RabbitAccount:
    """A RabbitMQ user with full permissions on one virtual host."""

    user: str
    password: str = field(repr=False)
    vhost: str = "/"

    def __post_init__(self) -> None:
        for what, value in (("user", self.user), ("virtual host", self.vhost)):
            if not NAME.fullmatch(value) or len(value.encode()) > MAX_NAME:
                raise InvalidValueError(
                    f"Invalid RabbitMQ {what} {value!r}: it must be 1 to {MAX_NAME} bytes, not start "
                    "with '-', and hold no white space or control characters.",
                    hint="use the service's name, e.g. glance.",
                )
        if not self.password or self.password != self.password.strip() or "\n" in self.password:
            # rabbitmqctl reads one line and trims it: such a password
            # would be stored other than the URL says.
            raise InvalidValueError(
                f"Invalid password for RabbitMQ user {self.user!r}: it must not be empty, start or end "
                "with white space, or hold a line break.",
                hint="choose another password.",
            )


def ensure_account(account: RabbitAccount) -> tuple[RabbitChange, ...]:
    """Make the user, its password, the vhost and the permissions exist; return the changes."""
    changes: list[RabbitChange] = []
    if account.vhost not in _ctl("list_vhosts", "--silent", "name").splitlines():
        _ctl("add_vhost", account.vhost)
        changes.append(RabbitChange.CREATED_VHOST)
    added = run(
        ["rabbitmqctl", "add_user", account.user],
        stdin=account.password + "\n",
        ok_codes=(0, USER_EXISTS),
        secrets=(account.password,),
    )
    if added.exit_code == 0:
        changes.append(RabbitChange.CREATED_USER)
    elif not _authenticates(account):
        run(
            ["rabbitmqctl", "change_password", account.user],
            stdin=account.password + "\n",
            secrets=(account.password,),
        )
        changes.append(RabbitChange.UPDATED_PASSWORD)
    if not _has_full_permissions(account):
        _ctl("set_permissions", "-p", account.vhost, account.user, ALL, ALL, ALL)
        changes.append(RabbitChange.SET_PERMISSIONS)
    return tuple(changes)


def _ctl(*args: str) -> str:
    return run(["rabbitmqctl", *args], hint="start rabbitmq-server, or run as root.").stdout


def _authenticates(account: RabbitAccount) -> bool:
    result = run(
        ["rabbitmqctl", "authenticate_user", account.user],
        stdin=account.password + "\n",
        ok_codes=(0, AUTH_FAILED),
        secrets=(account.password,),
    )
    return result.exit_code == 0


def _has_full_permissions(account: RabbitAccount) -> bool:
    for line in _ctl("list_user_permissions", "--silent", account.user).splitlines():
        fields = line.split("\t")
        if len(fields) == 4 and fields[0] == account.vhost:
            return fields[1:] == [ALL, ALL, ALL]
    return False
