"""Region answers checked against the regions of a real Keystone, before postinst changes anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openstack_pkg_tools.debconf import Debconf
from openstack_pkg_tools.errors import InvalidValueError
from openstack_pkg_tools.maintscript import phases, regions
from openstack_pkg_tools.maintscript.plans import plans
from openstack_pkg_tools.profile import load
from tests.integration.db.cloud import relocated
from tests.servers import free_port
from tests.servers.keystone import KeystoneServer
from tests.unit.test_asked_settings import NOVA_ANSWERS, defaults
from tests.unit.test_maintscript import Database


def _ksat(keystone: KeystoneServer, region: str, *, create: bool = True) -> dict[str, str]:
    """ksat answers that log in to ``keystone``: as its administrator, or (create false) as a user."""
    return {
        "configure_ksat": "true",
        "ksat-public-url": keystone.auth_url.removesuffix("/v3"),
        "ksat-region": region,
        "ksat-create-service-user": "true" if create else "false",
        "ksat-admin-password": keystone.admin_password,
        # Without creating it, postinst logs in as the service user: the administrator stands in.
        "ksat-service-username": keystone.admin_username if not create else "placement",
        "ksat-service-project-name": keystone.admin_project,
        "ksat-service-password": keystone.admin_password,
    }


@pytest.mark.parametrize("create", [True, False])
def test_a_region_keystone_has_passes_and_one_it_lacks_is_refused(
    keystone: KeystoneServer, create: bool
) -> None:
    placement = load("placement")
    answers = defaults(placement, "placement-common", **_ksat(keystone, keystone.region, create=create))
    regions.refuse_unknown_regions(plans(placement, "placement-common", answers))
    answers["ksat-region"] = "RegionTwo"
    with pytest.raises(InvalidValueError) as refused:
        regions.refuse_unknown_regions(plans(placement, "placement-common", answers))
    # The test Keystone is shared: other tests may have made regions of their own.
    message = str(refused.value)
    prefix = (
        f"placement/ksat-region is 'RegionTwo', a region Keystone at {keystone.auth_url.removesuffix('/v3')} "
        "does not have (it has "
    )
    assert message.startswith(prefix), message
    assert keystone.region in message[len(prefix) : message.index(").")].split(", ")
    assert message.endswith(
        "). Hint: answer it again with one of them (dpkg-reconfigure, or debconf-set-selections "
        "placement/ksat-region), or create the region first: openstack region create RegionTwo."
    )


def test_novas_placement_region_is_checked_too(keystone: KeystoneServer) -> None:
    nova = load("nova")
    answers = defaults(nova, "nova-common", **NOVA_ANSWERS) | _ksat(keystone, keystone.region)
    answers |= {"placement_os_region_name": keystone.region, "cinder_os_region_name": keystone.region}
    regions.refuse_unknown_regions(plans(nova, "nova-common", answers, "192.0.2.21"))
    answers["placement_os_region_name"] = "regionone"  # region ids are compared as Keystone keeps them
    with pytest.raises(InvalidValueError, match=r"^nova/placement_os_region_name is 'regionone', a region"):
        regions.refuse_unknown_regions(plans(nova, "nova-common", answers, "192.0.2.21"))


def test_an_unreachable_keystone_leaves_the_check_undone(
    keystone: KeystoneServer, capfd: pytest.CaptureFixture[str]
) -> None:
    placement = load("placement")
    answers = defaults(placement, "placement-common", **_ksat(keystone, "RegionTwo"))
    answers["ksat-public-url"] = f"http://127.0.0.1:{free_port()}"
    regions.refuse_unknown_regions(plans(placement, "placement-common", answers))
    assert "The region answers were not checked against Keystone: " in capfd.readouterr().err


def test_postinst_refuses_before_it_changes_anything(keystone: KeystoneServer, tmp_path: Path) -> None:
    etc = str(tmp_path / "etc")
    placement = relocated("placement", etc, "pkgostest-regions", config_arg=True)
    db = Database("placement")
    answers = _ksat(keystone, "RegionTwo") | {"configure_db": "false", "ksat-admin-username": "admin"}
    db.values |= {f"placement/{name}": value for name, value in answers.items()}
    with pytest.raises(InvalidValueError, match=r"^placement/ksat-region is 'RegionTwo'"):
        phases.postinst(Debconf(db), placement, "placement-common")
    # No user, directory or config file was made; the answers, the administrator's password
    # included, stay for the re-run once the region is fixed (dpkg --configure -a).
    assert not os.path.exists(etc)
    assert db.values["placement/ksat-admin-password"] == keystone.admin_password
