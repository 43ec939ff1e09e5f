"""nova-api's novaapi/configure_db: Debian's name in nova-api's templates, its plan, the preseeds."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from openstack_pkg_tools import log
from openstack_pkg_tools.build.templates import render
from openstack_pkg_tools.maintscript import apply
from openstack_pkg_tools.maintscript.plans import plans
from openstack_pkg_tools.preseed.check import check, toolkit_questions
from openstack_pkg_tools.preseed.generate import Role, required_questions
from openstack_pkg_tools.profile import load
from openstack_pkg_tools.questions import Family, families, prefix_of
from tests.unit.test_asked_settings import defaults

ROOT = Path(__file__).resolve().parents[2]


def test_nova_api_asks_novaapi_configure_db_beside_its_nova_endpoint_questions() -> None:
    nova = load("nova")
    assert families(nova, "nova-api") == (Family.ENDPOINT, Family.API_DB)
    assert prefix_of(nova, "nova-api") == "nova"
    text = "\n".join(render("nova", families(nova, "nova-api")))
    assert "Template: novaapi/configure_db\nType: boolean\nDefault: false\n" in text
    assert "Template: nova/configure_api-endpoint\n" in text
    assert Family.API_DB not in families(nova, "nova-common")


def test_a_yes_plans_the_migrations_again_and_a_no_does_not() -> None:
    nova = load("nova")
    answers = defaults(nova, "nova-api")
    assert plans(nova, "nova-api", answers).migrate is False
    planned = plans(nova, "nova-api", answers | {"configure_db": "true"})
    assert planned.migrate is True
    assert planned.database is None and planned.settings == ()


@pytest.mark.parametrize("role", [Role.CONTROLLER, Role.ALL_IN_ONE])
def test_the_controller_preseeds_answer_it_and_preseed_check_knows_it(role: Role) -> None:
    assert "novaapi/configure_db" in required_questions(role)
    text = (ROOT / "preseed" / f"{role}.preseed").read_text()
    assert "\nnova-api novaapi/configure_db boolean true\n" in text
    known = toolkit_questions()
    assert known["novaapi/configure_db"].type == "boolean"
    assert check(text, known) == []
    missing = text.replace("nova-api novaapi/configure_db boolean true\n", "")
    assert [problem.message for problem in check(missing, known)] == [
        f"missing answer to novaapi/configure_db, which a {role} node needs."
    ]
    bad = text.replace("novaapi/configure_db boolean true", "novaapi/configure_db boolean yes")
    assert [problem.message for problem in check(bad, known)] == [
        "novaapi/configure_db is a boolean: 'true' or 'false', not 'yes'."
    ]


def test_the_compute_preseed_does_not_need_it() -> None:
    assert "novaapi/configure_db" not in required_questions(Role.COMPUTE)


def test_before_nova_common_wrote_a_url_nothing_is_migrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nova = load("nova")
    conf = tmp_path / "nova.conf"
    conf.write_text("[database]\n")
    databases = tuple(dataclasses.replace(d, config=str(conf)) for d in nova.databases)
    warnings: list[str] = []
    monkeypatch.setattr(log, "warning", warnings.append)
    assert apply.migrate_configured(dataclasses.replace(nova, databases=databases)) == []
    assert warnings == [
        "nova-common has no database configured: no migration was run. Configure it "
        "(dpkg-reconfigure nova-common), then dpkg-reconfigure this package."
    ]
