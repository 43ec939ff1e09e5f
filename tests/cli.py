"""Running the ``pkgos`` command of this tree as a child process, as the tests do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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


@contextmanager
def toolkit_for_anyone() -> Iterator[Path]:
    """A copy of the toolkit every user can read, for a test that runs pkgos as another user.

    The tree itself may be where only root enters (a clone in /root).
    """
    copy = Path(tempfile.mkdtemp(prefix="pkgostest-toolkit-"))
    try:
        copy.chmod(0o755)
        shutil.copytree(
            ROOT / "openstack_pkg_tools",
            copy / "openstack_pkg_tools",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        yield copy
    finally:
        shutil.rmtree(copy)
