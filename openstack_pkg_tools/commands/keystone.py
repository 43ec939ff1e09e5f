"""``pkgos keystone``: register services, service users, bootstrap Keystone."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import InvalidValueError
from ..keystone import (
    AdminCredentials,
    Endpoints,
    KeystoneClient,
    Report,
    ServiceSpec,
    ServiceUserSpec,
    ensure_service_user,
    register_service,
)
from ..keystone.credentials import load
from ..keystone.model import DEFAULT_REGION
from ..keystone.services import KNOWN_SERVICES
from .secret_input import add_secret_options, read_secret

HELP = """\
Register OpenStack services in the Keystone catalog and create their
Keystone users, idempotently: what Keystone already holds is left alone, a
changed URL is updated, a missing endpoint is created, nothing is ever
duplicated. Everything happens in-process through one Keystone session.

Admin credentials come from --admin-file (an openrc-style file of OS_*
assignments that only its owner may read), else from the cloud named by
--os-cloud or OS_CLOUD in clouds.yaml, else from the OS_* variables
(OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME,
OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME). Passwords are never taken
from the command line.
"""

REGISTER_EPILOG = """\
examples:
  pkgos keystone register glance --public-url https://cloud.example.org:9292 \\
      --internal-url http://192.0.2.10:9292 --admin-url http://192.0.2.10:9292
  pkgos keystone register cinder --public-url 'http://[2001:db8::10]:8776/v3/%(project_id)s' --dry-run
"""

SERVICE_USER_EPILOG = """\
example:
  printf '%s' "$GLANCE_PASS" | pkgos keystone service-user glance --password-stdin
"""

BOOTSTRAP_EPILOG = """\
example (keystone's postinst):
  printf '%s' "$ADMIN_PASS" | pkgos keystone bootstrap --password-stdin \\
      --public-url http://192.0.2.10:5000/v3 --region regionOne
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pkgos keystone`` and its subcommands."""
    parser = subparsers.add_parser(
        "keystone",
        help="register services and service users in Keystone; bootstrap Keystone",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_register(actions)
    _add_service_user(actions)
    _add_bootstrap(actions)


def _subparser(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str, epilog: str
) -> argparse.ArgumentParser:
    return actions.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _admin_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("admin credentials")
    group.add_argument(
        "--admin-file", metavar="FILE", help="openrc-style file of OS_* assignments, mode 0600"
    )
    group.add_argument("--os-cloud", metavar="NAME", help="a cloud of clouds.yaml (default: $OS_CLOUD)")
    parser.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")


def _endpoint_options(parser: argparse.ArgumentParser, url: str, region: str) -> None:
    parser.add_argument("--public-url", required=True, metavar="URL", help=f"public {url}")
    parser.add_argument("--internal-url", metavar="URL", help="internal URL (default: the public one)")
    parser.add_argument("--admin-url", metavar="URL", help="admin URL (default: the internal one)")
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"{region} (default: {DEFAULT_REGION})")


def _add_register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _subparser(actions, "register", "register a service and its three endpoints", REGISTER_EPILOG)
    parser.add_argument("service", metavar="SERVICE", help="service name, e.g. glance")
    parser.add_argument(
        "--type", help="catalog type (default: the known type of SERVICE, e.g. image for glance)"
    )
    parser.add_argument("--description", help="service description (default: the known one)")
    _endpoint_options(parser, "endpoint URL", "region name")
    _admin_options(parser)
    parser.set_defaults(handler=_register)


def _add_service_user(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _subparser(
        actions, "service-user", "create or update a service's user, project and roles", SERVICE_USER_EPILOG
    )
    parser.add_argument("username", metavar="USERNAME", help="the service user, e.g. glance")
    add_secret_options(parser, "password", "the service user's password", required=True)
    parser.add_argument("--project", default="service", help="the user's project (default: service)")
    parser.add_argument(
        "--role",
        action="append",
        dest="roles",
        metavar="ROLE",
        help="role on the project (repeatable; default: service)",
    )
    parser.add_argument("--user-domain", default="Default", help="the user's domain (default: Default)")
    parser.add_argument("--project-domain", default="Default", help="the project's domain (default: Default)")
    _admin_options(parser)
    parser.set_defaults(handler=_service_user)


def _add_bootstrap(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _subparser(
        actions,
        "bootstrap",
        "bootstrap Keystone itself: db_sync, key repositories, admin, identity endpoints, service project",
        BOOTSTRAP_EPILOG,
    )
    add_secret_options(parser, "password", "the admin password (without one the admin is kept as it is)")
    parser.add_argument("--config-file", default="/etc/keystone/keystone.conf", help="keystone.conf to use")
    parser.add_argument(
        "--keystone-user", default="keystone", help="system user owning the keys (default: keystone)"
    )
    parser.add_argument("--keystone-group", default="keystone", help="its group (default: keystone)")
    parser.add_argument("--admin-username", default="admin", help="admin user name (default: admin)")
    parser.add_argument("--admin-project", default="admin", help="admin project (default: admin)")
    parser.add_argument("--admin-role", default="admin", help="admin role (default: admin)")
    _endpoint_options(
        parser, "identity URL, e.g. http://192.0.2.10:5000/v3", "region of the identity endpoints"
    )
    parser.add_argument(
        "--no-service-project",
        action="store_true",
        help="skip the service project and roles (they need Keystone running at the internal URL)",
    )
    parser.set_defaults(handler=_bootstrap)


def _client(args: argparse.Namespace) -> KeystoneClient:
    return KeystoneClient(load(args.admin_file, args.os_cloud, os.environ))


def _print_report(report: Report, client: KeystoneClient) -> int:
    for line in report.lines():
        print(line)
    counts = client.counts
    print(
        f"{counts.total} requests to Keystone ({counts.reads} reads, {counts.writes} writes)", file=sys.stderr
    )
    return 0


def _endpoints(args: argparse.Namespace) -> Endpoints:
    internal = args.internal_url or args.public_url
    return Endpoints(args.public_url, internal, args.admin_url or internal)


def _register(args: argparse.Namespace) -> int:
    known = KNOWN_SERVICES.get(args.service)
    service_type = args.type or (known.type if known else None)
    if service_type is None:
        raise InvalidValueError(
            f"No known catalog type for the service {args.service!r}.",
            hint="give it with --type, e.g. --type image.",
        )
    description = args.description if args.description is not None else (known.description if known else "")
    spec = ServiceSpec(
        args.service, service_type, _endpoints(args), region=args.region, description=description
    )
    client = _client(args)
    return _print_report(register_service(client, spec, dry_run=args.dry_run), client)


def _service_user(args: argparse.Namespace) -> int:
    password = read_secret(args, "password")
    assert password is not None  # the option group is required
    spec = ServiceUserSpec(
        args.username,
        password,
        project=args.project,
        roles=tuple(args.roles or ("service",)),
        user_domain=args.user_domain,
        project_domain=args.project_domain,
    )
    client = _client(args)
    return _print_report(ensure_service_user(client, spec, dry_run=args.dry_run), client)


def _bootstrap(args: argparse.Namespace) -> int:
    # Imported here: it loads sh, which only this subcommand needs.
    from ..keystone_bootstrap import (  # noqa: PLC0415
        BootstrapSpec,
        bootstrap,
        ensure_service_project,
    )

    password = read_secret(args, "password")
    endpoints = _endpoints(args)
    spec = BootstrapSpec(
        endpoints,
        config_file=args.config_file,
        system_user=args.keystone_user,
        system_group=args.keystone_group,
        admin_username=args.admin_username,
        admin_project=args.admin_project,
        admin_role=args.admin_role,
        region=args.region,
    )
    bootstrap(spec, password)
    if args.no_service_project:
        return 0
    if password is None:
        print("no admin password given: the service project is not checked", file=sys.stderr)
        return 0
    credentials = AdminCredentials(endpoints.internal, spec.admin_username, password, spec.admin_project)
    for created in ensure_service_project(KeystoneClient(credentials)):
        print(f"created {created}")
    return 0
