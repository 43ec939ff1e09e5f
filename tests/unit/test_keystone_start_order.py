"""The keystone package's postinst starts Keystone before its bootstrap, at the run() seam."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Any

import pytest

from openstack_pkg_tools import keystone_bootstrap
from openstack_pkg_tools.keystone import Endpoints
from openstack_pkg_tools.keystone_bootstrap import BootstrapSpec
from openstack_pkg_tools.maintscript import apply
from openstack_pkg_tools.maintscript.plans import BootstrapPlan
from openstack_pkg_tools.profile import load

ME = pwd.getpwuid(os.getuid()).pw_name
URL = "http://127.0.0.1:5000/v3"


@pytest.fixture
def argvs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    seen: list[list[str]] = []

    def fake_run(argv: list[str], **options: Any) -> None:
        seen.append(list(argv))

    monkeypatch.setattr(keystone_bootstrap, "run", fake_run)
    monkeypatch.setattr(apply, "run", fake_run)
    # What needs Keystone to answer is not this test's subject.
    monkeypatch.setattr(keystone_bootstrap, "ensure_service_project", lambda *args, **kwargs: [])
    return seen


def _plan(tmp_path: Path, password: str) -> BootstrapPlan:
    conf = tmp_path / "keystone.conf"
    conf.write_text(
        f"[fernet_tokens]\nkey_repository = {tmp_path}/fernet\n"
        f"[credential]\nkey_repository = {tmp_path}/credential\n"
    )
    spec = BootstrapSpec(Endpoints.same(URL), config_file=str(conf), system_user=ME)
    return BootstrapPlan(spec, password, "", "service", ("service",), "keystone", URL)


def test_keystone_starts_before_the_bootstrap_so_that_it_loads_meanwhile(
    argvs: list[list[str]], tmp_path: Path
) -> None:
    apply.bootstrap_keystone(load("keystone"), _plan(tmp_path, "Adm1n-pw"))
    commands = [
        argv[argv.index("keystone-manage") + 3] if "keystone-manage" in argv else argv[0] for argv in argvs
    ]
    # Keys first (keystone-manage here: the repositories do not exist), then the start, then the bootstrap.
    assert commands == ["fernet_setup", "credential_setup", "invoke-rc.d", "bootstrap"]
    assert ["invoke-rc.d", "keystone", "start"] in argvs


def test_without_the_password_keystone_is_neither_bootstrapped_nor_started(
    argvs: list[list[str]], tmp_path: Path
) -> None:
    apply.bootstrap_keystone(load("keystone"), _plan(tmp_path, ""))
    assert all("invoke-rc.d" not in argv and "bootstrap" not in argv for argv in argvs)
