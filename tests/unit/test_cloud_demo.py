"""make demo's answers for Debian's stock packages (demo/cloud.py), from a generated preseed."""

from __future__ import annotations

from pathlib import Path

from demo import cloud

PRESEED = (Path(__file__).resolve().parents[2] / "preseed" / "all-in-one.preseed").read_text()


def _answers(rewired: set[str]) -> dict[str, str]:
    lines = cloud.stock_answers(PRESEED, rewired)
    return {line.split()[1]: " ".join(line.split()[2:]) for line in lines}


def _preseed_value(name: str) -> str:
    line = next(line for line in PRESEED.splitlines() if line.split()[1:2] == [name])
    return line.split(None, 3)[3]


def test_a_stock_package_gets_dbconfig_commons_names_of_the_same_answers() -> None:
    answers = _answers(set())
    assert answers["keystone/dbconfig-install"] == "boolean true"
    assert answers["keystone/database-type"] == "select mysql"
    assert answers["keystone/db/dbname"] == "string keystone"
    password = _preseed_value("glance/db-password")
    assert answers["glance-common/mysql/app-pass"] == f"password {password}"
    assert answers["glance-common/app-password-confirm"] == f"password {password}"


def test_nova_api_gets_its_api_database_on_novas_user() -> None:
    answers = _answers(set())
    assert answers["novaapi/configure_db"] == "boolean true"
    assert answers["nova-api/db/dbname"] == "string nova_api"
    assert answers["nova-api/db/app-user"] == "string nova"
    assert answers["nova-api/mysql/app-pass"] == f"password {_preseed_value('nova/db-password')}"


def test_a_rewired_package_gets_none() -> None:
    answers = _answers({"keystone", "nova-api"})
    assert not [name for name in answers if name.startswith(("keystone/", "nova-api/", "novaapi/"))]
    assert "glance-common/mysql/app-pass" in answers


def test_sqlite_is_dbconfig_commons_sqlite3() -> None:
    preseed = PRESEED.replace("select mysql", "select sqlite")
    lines = cloud.stock_answers(preseed, set())
    assert "keystone keystone/database-type select sqlite3" in lines
