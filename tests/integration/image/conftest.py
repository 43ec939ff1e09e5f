"""One minimal bookworm image for the whole session, built by the real command.

The bootstrapped tree is cached in .cache/image-tree, so a second run of
``make check-image`` on the same machine skips the bootstrap.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PKGOS = str(Path(sys.executable).parent / "pkgos")
CACHE = os.environ.get("PKGOS_IMAGE_CACHE", str(ROOT / ".cache" / "image-tree"))
# Characters that broke the reference's shell quoting.
PASSWORD = "t3st p@ss&w0rd'\"$x"


@dataclass(frozen=True)
class Built:
    out: str
    qcow2: str
    raw: str
    manifest: str
    stderr: str
    seconds: float


def pkgos(*argv: str, stdin: str = "", timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """Run the installed pkgos command."""
    return subprocess.run(
        [PKGOS, *argv], input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


def build_args(out: str, *extra: str) -> list[str]:
    return [
        "build-image",
        "--release",
        "bookworm",
        "--minimal",
        "--cache-dir",
        CACHE,
        "-o",
        os.path.join(out, "debian-test"),
        *extra,
    ]


@pytest.fixture(scope="session")
def built() -> Iterator[Built]:
    assert os.geteuid() == 0, "make check-image runs as root (debootstrap, chroot)"
    out = tempfile.mkdtemp(prefix="pkgos-image-test-")
    try:
        started = time.monotonic()
        result = pkgos(*build_args(out, "--password", "-"), stdin=PASSWORD + "\n")
        seconds = time.monotonic() - started
        assert result.returncode == 0, result.stderr[-5000:]
        yield Built(
            out=out,
            qcow2=os.path.join(out, "debian-test.qcow2"),
            raw=os.path.join(out, "debian-test.raw"),
            manifest=os.path.join(out, "debian-test.manifest.json"),
            stderr=result.stderr,
            seconds=seconds,
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)
