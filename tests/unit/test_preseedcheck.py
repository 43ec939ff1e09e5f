"""Checking preseed files against debconf templates."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from openstack_pkg_tools import cli
from openstack_pkg_tools.preseed.check import (
    Problem,
    Template,
    check,
    known_questions,
    parse_preseed,
    questions_from_templates,
)
from openstack_pkg_tools.preseed.generate import Role, required_questions
from tests.preseed_examples import generate_example, rendered_templates

QUESTIONS = known_questions(rendered_templates().values())


@pytest.fixture(scope="module")
def generated() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="pkgos-test-preseedcheck-"))
    generate_example(directory)
    yield directory
    shutil.rmtree(directory)


def test_templates_give_names_types_and_choices() -> None:
    text = (
        "Template: glance/api-endpoint-proto\nType: select\n_Choices: http, https\nDefault: http\n"
        "_Description: Protocol:\n Long text.\n\n"
        "Template: x/list\nType: multiselect\n__Choices: a\\, b, c\nDescription: d\n\n"
        "Template: x/flag\nType: boolean\nDescription: d\n"
    )
    assert questions_from_templates(text) == {
        "glance/api-endpoint-proto": Template("glance/api-endpoint-proto", "select", ("http", "https")),
        "x/list": Template("x/list", "multiselect", ("a, b", "c")),
        "x/flag": Template("x/flag", "boolean"),
    }


@pytest.mark.parametrize("role", list(Role))
def test_generated_preseeds_pass_the_check(generated: Path, role: Role) -> None:
    assert check((generated / f"{role}.preseed").read_text(), QUESTIONS) == []


@pytest.mark.parametrize("role", list(Role))
def test_every_line_is_a_question_of_the_package_that_owns_it(generated: Path, role: Role) -> None:
    templates = rendered_templates()
    answers, problems = parse_preseed((generated / f"{role}.preseed").read_text())
    assert problems == [] and answers
    for answer in answers:
        owned = questions_from_templates(templates[f"{answer.owner}.templates"])
        assert answer.question in owned, f"{answer.owner} does not ask {answer.question}"
        template = owned[answer.question]
        if answer.type == "seen":
            continue
        assert answer.type == template.type, answer
        if template.type in ("select", "boolean"):
            assert answer.value in (template.choices or ("true", "false")), answer


def test_endpoint_answers_belong_to_the_catalog_package(generated: Path) -> None:
    # heat-api-cfn registers its own catalog entry, under Debian's own prefix;
    # neutron's is neutron-api (neutron-server is empty in Debian 12).
    answers, _ = parse_preseed((generated / "controller.preseed").read_text())
    owners = {answer.question: answer.owner for answer in answers}
    assert owners["heat-api-cfn/configure_api-endpoint"] == "heat-api-cfn"
    assert owners["heat/configure_api-endpoint"] == "heat-api"
    assert owners["neutron/configure_api-endpoint"] == "neutron-api"
    assert owners["neutron/configure_db"] == "neutron-common"


def corrupt(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_corrupted_preseed_gives_one_precise_error_per_problem(generated: Path) -> None:
    text = (generated / "controller.preseed").read_text()
    text = corrupt(text, "glance/configure_rabbit boolean true", "glance/configure_rabit boolean true")
    text = corrupt(text, "nova/configure_ksat boolean true", "nova/configure_ksat boolean yes")
    text = corrupt(text, "heat/api-endpoint-proto select http", "heat/api-endpoint-proto select ftp")
    problems = check(text, QUESTIONS)
    assert problems == [
        Problem(
            line_of(text, "configure_rabit"),
            "unknown question glance/configure_rabit (did you mean glance/configure_rabbit?).",
        ),
        Problem(
            line_of(text, "nova/configure_ksat"),
            "nova/configure_ksat is a boolean: 'true' or 'false', not 'yes'.",
        ),
        Problem(
            line_of(text, "heat/api-endpoint-proto select"),
            "heat/api-endpoint-proto: 'ftp' is not one of http, https.",
        ),
        # The misspelt line no longer answers the real question.
        Problem(
            len(text.splitlines()) + 1,
            "missing answer to glance/configure_rabbit, which a controller node needs.",
        ),
    ]


def test_wrong_type_duplicates_flags_and_garbage_are_reported(generated: Path) -> None:
    text = (
        "# pkgos-role: compute\n"
        "nova-common nova/rabbit-host password secret-looking\n"
        "nova-common nova/rabbit-userid string a\n"
        "nova-common nova/rabbit-userid string b\n"
        "nova-common nova/rabbit-userid seen maybe\n"
        "nova-common nova/rabbit-userid strng c\n"
        "just-two fields\n"
    )
    problems = [str(problem) for problem in check(text, QUESTIONS)]
    assert problems[:5] == [
        "line 2: nova/rabbit-host is a string, not a password.",
        "line 4: nova/rabbit-userid is answered again (first on line 3).",
        "line 5: nova/rabbit-userid: the seen flag is 'true' or 'false', not 'maybe'.",
        "line 6: nova/rabbit-userid: unknown type 'strng'; debconf would skip the line.",
        "line 7: not an answer: expected 'owner question type value'.",
    ]
    # The value of a mistyped line never shows: it may be a password.
    assert "secret-looking" not in "\n".join(problems)
    missing = [p for p in problems if "missing answer" in p]
    assert "line 8: missing answer to nova/rabbit-password, which a compute node needs." in missing
    # Every question a compute node needs but rabbit-host and rabbit-userid, answered above.
    assert len(missing) == len(required_questions(Role.COMPUTE)) - 2 == 23


def test_continuation_lines_are_joined_as_debconf_does() -> None:
    text = "nova-common nova/rabbit-host string a\\\nb\nnova-common nova/configure_db boolean tr\\\nue\n"
    assert check(text, QUESTIONS) == []
    assert check(text, QUESTIONS, Role.COMPUTE)[0].line == 5


def test_cli_check_reports_file_and_line(generated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    templates_dir = generated / "templates"
    templates_dir.mkdir()
    options = []
    for name, text in rendered_templates().items():
        (templates_dir / name).write_text(text)
        options += ["--templates", str(templates_dir / name)]
    good = generated / "compute.preseed"
    assert cli.main(["preseed", "check", str(good), *options]) == 0
    bad = generated / "bad.preseed"
    bad.write_text(good.read_text().replace("boolean false", "boolean no"))
    assert cli.main(["preseed", "check", str(bad), *options, "--role", "compute"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"{bad}:{line_of(bad.read_text(), 'nova/ksat-create-service-user')}: "
        "nova/ksat-create-service-user is a boolean: 'true' or 'false', not 'no'.",
        f"{bad}:{line_of(bad.read_text(), 'neutron/ksat-create-service-user')}: "
        "neutron/ksat-create-service-user is a boolean: 'true' or 'false', not 'no'.",
    ]


def test_without_templates_the_shipped_preseeds_check_against_what_the_toolkit_knows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openstack_pkg_tools.cli import main

    root = Path(__file__).resolve().parents[2] / "preseed"
    for role in ("compute", "controller", "all-in-one"):
        assert main(["preseed", "check", str(root / f"{role}.preseed")]) == 0
    broken = tmp_path / "controller.preseed"
    text = (root / "controller.preseed").read_text()
    broken.write_text(
        text.replace("glance/db-host string", "glance/db-hots string", 1).replace(
            "keystone/endpoint-proto select http", "keystone/endpoint-proto select gopher", 1
        )
    )
    capsys.readouterr()
    assert main(["preseed", "check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "unknown question glance/db-hots (did you mean glance/db-host?)" in err
    assert "keystone/endpoint-proto" in err and "gopher" in err
    assert "missing answer to glance/db-host" in err
