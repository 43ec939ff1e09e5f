"""Running the ``pkgos`` command of this tree as a child process, as the tests do."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pkgos(
    *args: str, env: Mapping[str, str] | None = None, stdin: str = "", check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the ``pkgos`` command as a child process; return what it did."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "openstack_pkg_tools", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        check=False,
        timeout=600,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result
