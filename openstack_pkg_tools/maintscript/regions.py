"""Region answers checked against Keystone's own regions, before postinst changes anything.

``plans`` checks that every region answer is a region name (pure, no
network). Whether Keystone has that region only Keystone can say: postinst
asks it once the plans are made and before its first change, and refuses
an answer naming a region Keystone lacks, naming the question. A region
that is not there would give the service a region nothing is registered
in: keystonemiddleware, nova's ``[placement]`` and neutron's ``[nova]``
find no endpoint there, and a registration would make a second region out
of a typo.

It logs in with the credentials the package's answers hold (the Keystone
administrator's of the ksat answers when it creates the service user,
else the service user's own, else the endpoint answers' administrator's):
any valid token may list regions. A Keystone that cannot be reached, or
that refuses the login, leaves the check undone, with one line saying so,
as the Keystone steps themselves only warn then (a re-run repairs them).
Keystone's own package is not checked: its bootstrap makes its region.
"""

from __future__ import annotations

from .. import keystone, log
from ..errors import InvalidValueError
from ..urls import redact_url
from .plans import Plans

# One attempt: a Keystone that is not there refuses the connection at once.
# One that accepted it may still be loading (the keystone package starts
# Debian's uwsgi, 8 processes that each load Keystone, just before the next
# package's postinst asks): its answer is worth waiting for. The Keystone
# steps after this check wait longer still for a host that does not answer.
TIMEOUT = 60.0


def credentials_of(planned: Plans) -> keystone.AdminCredentials | None:
    """The login the planned answers give to read Keystone's regions, if any."""
    auth = planned.authtoken
    if auth is not None and auth.create_user:
        return keystone.AdminCredentials(
            auth.public_url, auth.admin_username, auth.admin_password, auth.admin_project_name
        )
    if auth is not None:
        return keystone.AdminCredentials(auth.public_url, auth.username, auth.password, auth.project_name)
    catalog = planned.catalog
    if catalog is not None:
        return keystone.AdminCredentials(
            catalog.keystone_url, catalog.admin_username, catalog.admin_password, catalog.admin_project_name
        )
    return None


def keystone_regions(credentials: keystone.AdminCredentials) -> set[str] | None:
    """The ids of Keystone's regions; None when Keystone cannot be asked (a line says why)."""
    try:
        client = keystone.KeystoneClient(credentials, retry=keystone.RetryPolicy(attempts=1), timeout=TIMEOUT)
        listed = client.get("/regions")
    except keystone.KeystoneError as error:
        log.info(f"The region answers were not checked against Keystone: {error}")
        return None
    return {str(region["id"]) for region in listed.get("regions", [])}


def refuse_unknown_regions(planned: Plans) -> None:
    """Refuse, naming the question, a region answer Keystone has no region for."""
    credentials = credentials_of(planned)
    if not planned.regions or credentials is None:
        return
    known = keystone_regions(credentials)
    if known is None:
        return
    for question, region in planned.regions:
        if region not in known:
            raise InvalidValueError(
                f"{question} is {region!r}, a region Keystone at {redact_url(credentials.auth_url)} "
                f"does not have (it has {', '.join(sorted(known)) or 'none'}).",
                hint=f"answer it again with one of them (dpkg-reconfigure, or debconf-set-selections "
                f"{question}), or create the region first: openstack region create {region}.",
            )
