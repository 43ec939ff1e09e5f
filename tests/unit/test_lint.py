"""Lint, format and type checks run as ordinary tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*argv: str) -> None:
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}"


def test_ruff_check() -> None:
    _run(str(BIN / "ruff"), "check", ".")


def test_ruff_format() -> None:
    _run(str(BIN / "ruff"), "format", "--check", ".")


def test_mypy() -> None:
    _run(sys.executable, "-m", "mypy")


def test_only_run_module_starts_processes() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "openstack_pkg_tools").rglob("*.py")
        if path.name != "run.py"
        and ("import subprocess" in path.read_text() or "os.system(" in path.read_text())
    ]
    assert offenders == [], "processes are started only through openstack_pkg_tools/run.py"
