"""``pkgos rabbit``: the message-queue URL, and optionally its RabbitMQ account."""

from __future__ import annotations

import argparse

from .. import log
from ..errors import InvalidValueError
from ..rabbit import RabbitAccount, ensure_account, write_transport_url
from ..urls import TransportHost, TransportUrl
from .arguments import port
from .secret_input import add_secret_options, read_secret

HELP = """\
Write [DEFAULT] transport_url into a service's configuration file
(percent-encoded, any password works) and comment out the legacy
rabbit_host, rabbit_userid, rabbit_password... directives. With
--create-user, also make the RabbitMQ user, its password, the virtual
host and the user's permissions on it exist on the local broker
(rabbitmqctl, password on stdin). Idempotent.

example:
  pkgos rabbit ensure --config /etc/glance/glance-api.conf --host 10.0.0.5 \\
      --user glance --password-file /root/rabbit.pw --create-user
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pkgos rabbit``."""
    parser = subparsers.add_parser(
        "rabbit",
        help="write transport_url; create the RabbitMQ user and vhost",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ensure = actions.add_parser(
        "ensure", help="write transport_url (and create the account)", description=HELP
    )
    ensure.add_argument("--config", metavar="FILE", required=True, help="the service's configuration file")
    ensure.add_argument("--host", action="append", required=True, help="broker host (repeatable)")
    ensure.add_argument("--port", type=port, default=5672, help="broker port (default 5672)")
    ensure.add_argument("--user", required=True, help="RabbitMQ user")
    add_secret_options(ensure, "password", "the RabbitMQ user's password")
    ensure.add_argument("--vhost", help="virtual host (default: the broker's default, /)")
    ensure.add_argument(
        "--create-user", action="store_true", help="also create the user, vhost and permissions locally"
    )
    ensure.set_defaults(handler=_ensure)


def _ensure(args: argparse.Namespace) -> int:
    password = read_secret(args, "password")
    if not password:
        raise InvalidValueError(
            f"No password given for RabbitMQ user {args.user!r}.",
            hint="use --password-stdin or --password-file.",
        )
    hosts = tuple(TransportHost(host, args.port, args.user, password) for host in args.host)
    url = TransportUrl(hosts, args.vhost)
    account = RabbitAccount(args.user, password, args.vhost or "/") if args.create_user else None
    if account is not None:
        with log.step(f"Ensuring RabbitMQ user {account.user!r} on virtual host {account.vhost!r}"):
            changes = ensure_account(account)
            log.info(", ".join(changes) if changes else "nothing to change")
    written = write_transport_url(args.config, url)
    log.info(f"{args.config}: transport_url = {url.redacted()}" + ("" if written else " (unchanged)"))
    return 0
