"""Answers checked across packages: one metadata secret for nova and the metadata agent, and
which region answers postinst checks against Keystone's regions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from openstack_pkg_tools.errors import InvalidValueError
from openstack_pkg_tools.maintscript.plans import plans
from openstack_pkg_tools.preseed.check import check, toolkit_questions
from openstack_pkg_tools.preseed.generate import (
    Role,
    disagreements,
    load_site,
    refuse_disagreeing,
    role_answers,
    shared_groups,
)
from openstack_pkg_tools.profile import load
from tests.unit.test_asked_settings import NOVA_ANSWERS, defaults

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("nova/metadata_secret", "neutron-metadata/metadata_secret")


def test_the_metadata_secret_is_one_shared_group() -> None:
    assert [names for names, _ in shared_groups()] == [SECRETS]


@pytest.mark.parametrize("role", [Role.CONTROLLER, Role.ALL_IN_ONE])
def test_preseed_check_refuses_two_metadata_secrets_naming_both_and_quoting_neither(role: Role) -> None:
    text = (ROOT / "preseed" / f"{role}.preseed").read_text()
    known = toolkit_questions()
    assert check(text, known) == []
    lines = text.splitlines()
    [first] = [n for n, line in enumerate(lines, 1) if f" {SECRETS[0]} " in line]
    [other] = [n for n, line in enumerate(lines, 1) if f" {SECRETS[1]} " in line]
    secret = lines[other - 1].rsplit(" ", 1)[1]
    lines[other - 1] = lines[other - 1].replace(secret, "another-secret")
    problems = check("\n".join(lines) + "\n", known)
    assert [(p.line, p.message) for p in problems] == [
        (
            other,
            f"{SECRETS[1]} differs from {SECRETS[0]} (line {first}): nova's metadata API and the neutron "
            "metadata agent sign their requests with one secret; answer both alike.",
        )
    ]
    assert secret not in str(problems) and "another-secret" not in str(problems)


def test_a_preseed_with_one_of_the_two_answers_is_not_a_disagreement() -> None:
    assert disagreements({SECRETS[0]: "a"}) == []
    assert disagreements({SECRETS[0]: "a", SECRETS[1]: "a"}) == []
    assert [pair[:2] for pair in disagreements({SECRETS[0]: "a", SECRETS[1]: "b"})] == [SECRETS]


class _EveryPassword(dict[str, str]):
    """A password store with a password for every name."""

    def __missing__(self, name: str) -> str:
        return f"pw-{name}"


def test_generate_refuses_answers_that_disagree_before_writing() -> None:
    site = load_site(str(ROOT / "preseed" / "example-site.toml"))
    answers = role_answers(site, Role.ALL_IN_ONE, _EveryPassword())
    refuse_disagreeing(answers)  # the generator gives both packages one password
    changed = [dataclasses.replace(a, value="other") if a.question == SECRETS[1] else a for a in answers]
    with pytest.raises(InvalidValueError, match=f"{SECRETS[0]} and {SECRETS[1]} would get different answers"):
        refuse_disagreeing(changed)


def test_the_region_answers_postinst_checks_against_keystone() -> None:
    nova = load("nova")
    answers = defaults(nova, "nova-common", configure_ksat="true", **NOVA_ANSWERS)
    answers |= {"ksat-service-password": "x", "ksat-admin-password": "y"}
    assert plans(nova, "nova-common", answers, "192.0.2.21").regions == (
        ("nova/ksat-region", "RegionTwo"),
        ("nova/placement_os_region_name", "RegionTwo"),
        ("nova/cinder_os_region_name", "RegionTwo"),
    )
    neutron = load("neutron")
    answers = defaults(neutron, "neutron-common", configure_nova="true", nova_region="RegionThree")
    answers |= {"nova_service_password": "x"}
    assert plans(neutron, "neutron-common", answers).regions == (("neutron/nova_region", "RegionThree"),)
    placement = load("placement")
    answers = defaults(placement, "placement-api", **{"configure_api-endpoint": "true"})
    answers |= {"api-keystone-admin-password": "x", "api-endpoint-address": "192.0.2.5"}
    assert plans(placement, "placement-api", answers).regions == (
        ("placement/api-endpoint-region-name", "regionOne"),
    )
    # Nothing switched on: only cinder's region, asked and applied on every configure.
    assert plans(nova, "nova-common", defaults(nova, "nova-common"), "192.0.2.21").regions == (
        ("nova/cinder_os_region_name", "regionOne"),
    )
    # Keystone's bootstrap makes its own region.
    keystone = load("keystone")
    answers = defaults(keystone, "keystone", **{"create-admin-tenant": "true", "admin-password": "a"})
    answers |= {"admin-password-confirm": "a"}
    assert plans(keystone, "keystone", answers, "192.0.2.21").regions == ()
