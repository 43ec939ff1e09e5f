"""Generated preseeds loaded by the real debconf-set-selections.

A private debconf database (DEBCONF_SYSTEMRC pointing at a config of our
own, files in a temporary directory) gets the question templates with
debconf-loadtemplate, then the generated preseed: every answer must read
back unchanged, and exactly the answers the site file decided must carry
the seen flag.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from debian.deb822 import Deb822

from openstack_pkg_tools.preseed.generate import Role
from tests.preseed_examples import generate_example, private_debconf


@pytest.fixture
def debconf_env() -> Iterator[dict[str, str]]:
    directory = Path(tempfile.mkdtemp(prefix="pkgos-test-debconf-"))
    env = private_debconf(directory)
    env["PKGOS_TEST_DIR"] = str(directory)
    yield env
    shutil.rmtree(directory)


@pytest.fixture(scope="module")
def generated() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="pkgos-test-preseed-load-"))
    generate_example(directory)
    yield directory
    shutil.rmtree(directory)


def expected(text: str) -> tuple[dict[str, str], set[str]]:
    """Answers by question, and the questions left unseen, as the preseed says."""
    values, unseen = {}, set()
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        _owner, question, type_, value = line.split(" ", 3)
        if type_ == "seen":
            unseen.add(question)
        else:
            values[question] = value
    return values, unseen


@pytest.mark.parametrize("role", [Role.CONTROLLER, Role.COMPUTE])
def test_debconf_keeps_every_answer_and_the_seen_flags(
    debconf_env: dict[str, str], generated: Path, role: Role
) -> None:
    path = generated / f"{role}.preseed"
    check = subprocess.run(
        ["debconf-set-selections", "--checkonly", str(path)],
        env=debconf_env,
        capture_output=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    subprocess.run(["debconf-set-selections", str(path)], env=debconf_env, check=True)
    database = Path(debconf_env["PKGOS_TEST_DIR"], "config.dat").read_text()
    stored = {stanza["Name"]: stanza for stanza in Deb822.iter_paragraphs(database.splitlines())}
    values, unseen = expected(path.read_text())
    # The example site leaves Keystone's admin email to its default.
    assert ("keystone/admin-email" in unseen) == (role is Role.CONTROLLER)
    for question, value in values.items():
        assert stored[question].get("Value") == value, question
        seen = "seen" in stored[question].get("Flags", "")
        assert seen == (question not in unseen), question
