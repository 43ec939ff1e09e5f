"""The debconf facade: the frontend re-exec, skipped questions, secrets forgotten, real debconf."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import debconf as debian_debconf
import pytest

from openstack_pkg_tools import debconf
from openstack_pkg_tools.debconf import Debconf, DebconfFailure, Priority, ensure_frontend

OWNER = "pkgostest-unit"
TEMPLATES = f"""\
Template: {OWNER}/name
Type: string
Default: glance
Description: A name:
 Used by the tests of openstack-pkg-tools.

Template: {OWNER}/secret
Type: password
Description: A secret:
 Used by the tests of openstack-pkg-tools.
"""


class FakeChannel:
    """Records the protocol commands; answers INPUT with 30 for skipped questions."""

    def __init__(self, skipped: set[str] | None = None, fail_with: int | None = None) -> None:
        self.sent: list[tuple[str, ...]] = []
        self.skipped = skipped or set()
        self.fail_with = fail_with

    def command(self, command: str, *params: str) -> str:
        self.sent.append((command, *params))
        if self.fail_with is not None:
            raise debian_debconf.DebconfError(self.fail_with, "broken")
        if command == "input" and params[1] in self.skipped:
            raise debian_debconf.DebconfError(30, "question skipped")
        return ""

    def stop(self) -> None:
        self.sent.append(("stop",))


def test_ensure_frontend_reexecs_with_the_scripts_own_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str]]] = []
    monkeypatch.delenv("DEBIAN_HAS_FRONTEND", raising=False)
    monkeypatch.delenv("PERL_DL_NONLAZY", raising=False)
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append((path, argv)))
    ensure_frontend(["glance-common.postinst", "configure", "1.0"])
    assert calls == [
        (
            "/usr/share/debconf/frontend",
            ["/usr/share/debconf/frontend", os.path.abspath("glance-common.postinst"), "configure", "1.0"],
        )
    ]
    assert os.environ["PERL_DL_NONLAZY"] == "1"


def test_ensure_frontend_uses_an_explicit_script(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.delenv("DEBIAN_HAS_FRONTEND", raising=False)
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append(argv))
    ensure_frontend(["/usr/bin/pkgos", "configure"], script="/var/lib/dpkg/info/glance-common.postinst")
    assert calls == [
        ["/usr/share/debconf/frontend", "/var/lib/dpkg/info/glance-common.postinst", "configure"]
    ]


def test_ensure_frontend_does_nothing_under_a_frontend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBIAN_HAS_FRONTEND", "1")
    monkeypatch.setattr(os, "execv", lambda path, argv: pytest.fail("must not re-exec"))
    ensure_frontend(["x.postinst"])


def test_a_skipped_question_is_normal() -> None:
    channel = FakeChannel(skipped={"glance/db-host"})
    conf = Debconf(channel)
    assert conf.ask("glance/db-host", Priority.HIGH) is False
    assert conf.ask("glance/db-name") is True
    assert channel.sent == [("input", "high", "glance/db-host"), ("input", "medium", "glance/db-name")]


def test_other_refusals_raise_with_a_hint() -> None:
    conf = Debconf(FakeChannel(fail_with=10))
    with pytest.raises(DebconfFailure, match=r"glance/nope.*Hint: declare the question"):
        conf.ask("glance/nope")
    with pytest.raises(DebconfFailure, match=r"debconf refused GET glance/nope: 10 broken"):
        conf.get("glance/nope")


def test_forget_clears_the_value_and_the_seen_flag() -> None:
    channel = FakeChannel()
    Debconf(channel).forget("glance/ksat-admin-password")
    assert channel.sent == [
        ("set", "glance/ksat-admin-password", ""),
        ("fset", "glance/ksat-admin-password", "seen", "false"),
    ]


def test_a_value_on_several_lines_is_refused() -> None:
    channel = FakeChannel()
    with pytest.raises(DebconfFailure, match="several lines"):
        Debconf(channel).set("glance/db-name", "a\nGET root/password")
    assert channel.sent == []


# A debconf database of the test's own: the machine's is not touched.
DEBCONF_RC = """Config: configdb
Templates: templatedb

Name: configdb
Driver: File
Filename: {folder}/config.dat

Name: templatedb
Driver: File
Mode: 644
Filename: {folder}/templates.dat
"""


@pytest.fixture
def real(monkeypatch: pytest.MonkeyPatch) -> Iterator[Debconf]:
    """A conversation with a real debconf database of its own, through debconf-communicate."""
    folder = tempfile.mkdtemp(prefix="pkgostest-debconf.")
    rc = Path(folder) / "debconf.conf"
    rc.write_text(DEBCONF_RC.format(folder=folder))
    monkeypatch.setenv("DEBCONF_SYSTEMRC", str(rc))
    templates = Path(folder) / "templates"
    templates.write_text(TEMPLATES)
    subprocess.run(["debconf-loadtemplate", OWNER, str(templates)], check=True)
    channel = debian_debconf.DebconfCommunicator(OWNER)
    conf = Debconf(channel)
    try:
        yield conf
    finally:
        channel.shutdown()
        shutil.rmtree(folder)


def test_real_debconf_round_trip_and_forget(real: Debconf) -> None:
    assert real.get(f"{OWNER}/name") == "glance"
    real.set(f"{OWNER}/name", "a value with spaces & symbols")
    assert real.get(f"{OWNER}/name") == "a value with spaces & symbols"
    # debconf-communicate runs the noninteractive frontend: nothing is shown.
    assert real.ask(f"{OWNER}/name", Priority.CRITICAL) is False
    real.set(f"{OWNER}/secret", "s3cret")
    real.forget(f"{OWNER}/secret")
    assert real.get(f"{OWNER}/secret") == ""
    assert real.seen(f"{OWNER}/secret") is False
    with pytest.raises(DebconfFailure, match=f"{OWNER}/missing"):
        real.get(f"{OWNER}/missing")


def test_module_keeps_debians_module_out_of_import() -> None:
    # `pkgos --help` must work where python3-debconf is absent.
    assert "debconf" not in debconf.__dict__
