"""Progress lines: nested timed steps interactively, plain lines in maintainer scripts."""

from __future__ import annotations

import re

import pytest

from openstack_pkg_tools import log


def test_nested_steps_are_indented_and_timed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DPKG_MAINTSCRIPT_NAME", raising=False)
    with log.step("Configuring glance"), log.step("Creating database glance"):
        log.info("created")
    lines = capsys.readouterr().err.splitlines()
    assert lines[:3] == ["==> Configuring glance", "    ==> Creating database glance", "        created"]
    assert re.fullmatch(r"    <== Creating database glance \(\d+\.\d s\)", lines[3])
    assert re.fullmatch(r"<== Configuring glance \(\d+\.\d s\)", lines[4])


def test_maintainer_scripts_get_plain_prefixed_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DPKG_MAINTSCRIPT_NAME", "postinst")
    monkeypatch.setenv("DPKG_MAINTSCRIPT_PACKAGE", "glance-common")
    with pytest.raises(RuntimeError), log.step("Running db sync"):
        raise RuntimeError
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "glance-common: Running db sync"
    assert re.fullmatch(r"glance-common: Running db sync: failed after \d+\.\d s", lines[1])


def test_debug_lines_only_when_verbose(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PKGOS_VERBOSE", raising=False)
    log.debug("hidden")
    monkeypatch.setenv("PKGOS_VERBOSE", "1")
    log.debug("shown")
    assert capsys.readouterr().err == "shown\n"
