"""``pkgos db`` and ``pkgos dbsync``: a service's database, its URL and its migration."""

from __future__ import annotations

import argparse

from .. import log
from ..db import AdminLogin, DatabaseSpec, backend_for, validate
from ..dbsync import SyncPlan, sync
from ..errors import InvalidValueError
from ..inifile import IniFile
from ..secretfile import read_secret_file
from ..urls import DatabaseUrl, Engine
from .arguments import count, port, seconds
from .secret_input import add_secret_options, read_secret

HELP = """\
Create, check and drop a service's database and database user, and write
the connection URL the service uses. Idempotent: running 'ensure' again
changes nothing; a new password updates the user's.

  mysql   MariaDB/MySQL; as root over the local socket by default, or with
          --admin-user/--admin-password-file/--admin-host for another server
  pgsql   PostgreSQL; as 'runuser -u postgres psql' locally by default, or
          with an administrator's login
  sqlite  /var/lib/NAME/NAME.sqlite owned by --user, mode 0640

Passwords come from stdin (--password-stdin) or a 0600 file
(--password-file), never from the command line.

examples:
  pkgos db ensure --engine mysql --name glance --password-file /root/glance.pw \\
      --config /etc/glance/glance-api.conf
  pkgos db drop --engine mysql --name glance
  echo "$PW" | pkgos db url --engine pgsql --name nova --host db1 --password-stdin
  pkgos db url --from-config /etc/glance/glance-api.conf --field host
"""

DBSYNC_HELP = """\
Run SERVICE's database migration command (given after --) as the service's
system user (--user, default SERVICE), under a time limit, appending its
output to /var/log/SERVICE/dbsync.log. While the database server is not
reachable yet, the command is tried again (--attempts). Several commands
are separated by ';;'. Service profiles will supply the commands later;
until then they are given here.

examples:
  pkgos dbsync glance -- glance-manage db_sync
  pkgos dbsync nova -- nova-manage api_db sync ';;' nova-manage db sync
"""

URL_FIELDS = ("engine", "user", "password", "host", "port", "database")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pkgos db`` and ``pkgos dbsync``."""
    parser = subparsers.add_parser(
        "db",
        help="create, check or drop a service's database; build or read its URL",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ensure = _spec_parser(actions, "ensure", "create or update the database, user, password and grants")
    ensure.add_argument("--config", metavar="FILE", help="write the connection URL into FILE")
    ensure.add_argument("--section", default="database", help="section of the URL (default: database)")
    ensure.add_argument("--key", default="connection", help="key of the URL (default: connection)")
    ensure.set_defaults(handler=_ensure)
    _spec_parser(actions, "check", "log in as the service's user").set_defaults(handler=_check)
    _spec_parser(actions, "drop", "drop the database and its user (on purge)").set_defaults(handler=_drop)
    _url_parser(actions)
    _dbsync_parser(subparsers)


def _spec_parser(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--engine", required=True, choices=[engine.value for engine in Engine])
    parser.add_argument("--name", required=True, help="database name, e.g. glance or nova_api")
    parser.add_argument("--user", help="database user (SQLite: the file's owner); default: NAME")
    add_secret_options(parser, "password", "the user's password")
    parser.add_argument(
        "--host", default="127.0.0.1", help="host the service connects to (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=port, help="port the service connects to (default: the engine's)")
    parser.add_argument(
        "--client-host",
        action="append",
        dest="client_hosts",
        metavar="HOST",
        help="MariaDB: host the user may connect from (repeatable; default: localhost and %%)",
    )
    parser.add_argument("--admin-user", help="administrator (default: root, or postgres)")
    parser.add_argument("--admin-password-file", metavar="FILE", help="administrator's password (mode 0600)")
    parser.add_argument("--admin-host", help="server to administer (default: the local one, over its socket)")
    parser.add_argument("--admin-port", type=port, help="its port")
    parser.add_argument("--admin-socket", help="its unix socket (MariaDB) or socket directory (PostgreSQL)")
    parser.add_argument(
        "--sqlite-dir", metavar="DIR", help="SQLite: directory of the file (default /var/lib/NAME)"
    )
    return parser


def _url_parser(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "url",
        help="print a connection URL, built from parts or read from a configuration file",
        description="Print a connection URL built from its parts (percent-encoded), or, with "
        "--from-config, the parts of the URL in a configuration file as NAME=VALUE lines "
        "(the password only when asked for with --field password).",
    )
    parser.add_argument("--engine", choices=[engine.value for engine in Engine])
    parser.add_argument("--name", help="database name (SQLite: the file's absolute path)")
    parser.add_argument("--user", help="database user (default: NAME)")
    add_secret_options(parser, "password", "the user's password")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port)
    parser.add_argument("--redacted", action="store_true", help="print *** instead of the password")
    parser.add_argument("--from-config", metavar="FILE", help="read the URL from FILE instead")
    parser.add_argument("--section", default="database")
    parser.add_argument("--key", default="connection")
    parser.add_argument("--field", choices=URL_FIELDS, help="print only this part")
    parser.set_defaults(handler=_url)


def _dbsync_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "dbsync",
        help="run a service's database migration as its user",
        description=DBSYNC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("service", metavar="SERVICE")
    parser.add_argument("--user", help="system user to run as (default: SERVICE)")
    parser.add_argument("--log-dir", metavar="DIR", help="where dbsync.log goes (default /var/log/SERVICE)")
    parser.add_argument("--timeout", type=seconds, default=900.0, help="seconds per command (default 900)")
    parser.add_argument("--attempts", type=count, default=5, help="tries while the server is unreachable")
    parser.add_argument("--retry-delay", type=seconds, default=5.0, help="seconds between tries (default 5)")
    parser.add_argument("command", nargs="+", metavar="-- COMMAND", help="the migration command")
    parser.set_defaults(handler=_dbsync)


def _spec(args: argparse.Namespace) -> DatabaseSpec:

    admin_password = read_secret_file(args.admin_password_file) if args.admin_password_file else None
    admin = AdminLogin(args.admin_user, admin_password, args.admin_host, args.admin_port, args.admin_socket)
    return DatabaseSpec(
        Engine(args.engine),
        args.name,
        args.user or args.name,
        read_secret(args, "password"),
        host=args.host,
        port=args.port,
        client_hosts=tuple(args.client_hosts or ("localhost", "%")),
        admin=admin,
        sqlite_dir=args.sqlite_dir,
    )


def _ensure(args: argparse.Namespace) -> int:

    spec = _spec(args)
    validate(spec)
    if args.config:
        # Read and check the file before changing anything on the server.
        IniFile(args.config).get(args.section, args.key)
    with log.step(f"Ensuring {spec.engine} database {spec.name!r} for user {spec.user!r} on {spec.where}"):
        outcome = backend_for(spec.engine).ensure(spec)
        log.info(", ".join(outcome.changes) if outcome.changed else "nothing to change")
    if args.config:
        with IniFile(args.config) as conf:
            conf.set(args.section, args.key, spec.url().render())
    return 0


def _check(args: argparse.Namespace) -> int:

    spec = _spec(args)
    backend_for(spec.engine).check(spec)
    log.info(f"user {spec.user!r} can log in to {spec.engine} database {spec.name!r} on {spec.where}")
    return 0


def _drop(args: argparse.Namespace) -> int:

    spec = _spec(args)
    with log.step(f"Dropping {spec.engine} database {spec.name!r} and user {spec.user!r}"):
        outcome = backend_for(spec.engine).drop(spec)
        log.info(", ".join(outcome.changes) if outcome.changed else "nothing to drop")
    return 0


def _url(args: argparse.Namespace) -> int:
    if args.from_config:
        text = IniFile(args.from_config).get(args.section, args.key)
        if text is None:
            return 1
        parsed = DatabaseUrl.parse(text)
        parts = {
            "engine": parsed.engine.value,
            "user": parsed.user,
            "password": parsed.password,
            "host": parsed.host,
            "port": parsed.port,
            "database": parsed.database,
        }
        if args.field:
            value = parts[args.field]
            print("" if value is None else value)
        else:
            for name, value in parts.items():
                if name != "password":
                    print(f"{name}={'' if value is None else value}")
        return 0
    if not args.engine or not args.name:
        raise InvalidValueError("pkgos db url needs --engine and --name, or --from-config FILE.")
    engine = Engine(args.engine)
    if engine is Engine.SQLITE:
        url = DatabaseUrl(engine, args.name)
    else:
        url = DatabaseUrl.for_engine(
            engine,
            args.name,
            user=args.user or args.name,
            password=read_secret(args, "password"),
            host=args.host,
            port=args.port,
        )
    print(url.redacted() if args.redacted else url.render())
    return 0


def _dbsync(args: argparse.Namespace) -> int:
    commands: list[tuple[str, ...]] = [()]
    for word in args.command:
        if word == ";;":
            commands.append(())
        else:
            commands[-1] += (word,)
    plan = SyncPlan(
        args.service,
        tuple(commands),
        user=args.user,
        log_dir=args.log_dir,
        timeout=args.timeout,
        attempts=args.attempts,
        retry_delay=args.retry_delay,
    )
    sync(plan)
    return 0
