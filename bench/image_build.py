"""Benchmark of the image builder: the same image built cold, then with the tree cache.

Prints the cold and warm build times, the qcow2 size, the boot time under
QEMU TCG (SeaBIOS), and as its last line ``warm_over_cold=<ratio>``.
With ``--backends`` it first times a cold build with each bootstrap
backend (mmdebstrap, debootstrap), the measurement the default is chosen by.

Run as root: ``make bench-image`` (about 8 minutes; 11 with --backends).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PKGOS = str(Path(sys.executable).parent / "pkgos")


def build(out: str, cache: str, backend: str, release: str) -> float:
    """Build one minimal image; return the wall time in seconds."""
    os.makedirs(out, exist_ok=True)
    argv = [PKGOS, "build-image", "--release", release, "--minimal", "--backend", backend,
            "--cache-dir", cache, "--no-raw", "-o", os.path.join(out, "debian-bench")]  # fmt: skip
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stderr[-4000:]}")
    return seconds


def boot_seconds(image: str) -> float:
    """Boot the image once with SeaBIOS; return the boot time the boot test reports."""
    result = subprocess.run(
        [PKGOS, "image-test", image, "--firmware", "bios", "--no-logs"],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"boot time (\d+) s", result.stdout)
    if result.returncode != 0 or not match:
        sys.exit(f"boot test failed:\n{result.stdout}\n{result.stderr[-4000:]}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--release", default="bookworm")
    parser.add_argument("--backends", action="store_true", help="also time a cold build with each backend")
    parser.add_argument("--no-boot", action="store_true", help="skip the boot test")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="pkgos-bench-image-")
    try:
        if args.backends:
            for backend in ("mmdebstrap", "debootstrap"):
                seconds = build(
                    os.path.join(work, backend), os.path.join(work, f"cache-{backend}"), backend, args.release
                )
                print(f"cold_build_{backend}_s={seconds:.1f}", flush=True)
        cache = os.path.join(work, "cache")  # empty: the first build is cold
        cold = build(os.path.join(work, "cold"), cache, "mmdebstrap", args.release)
        print(f"cold_build_s={cold:.1f}", flush=True)
        warm = build(os.path.join(work, "warm"), cache, "mmdebstrap", args.release)
        print(f"warm_build_s={warm:.1f}", flush=True)
        image = os.path.join(work, "warm", "debian-bench.qcow2")
        print(f"qcow2_mib={os.path.getsize(image) / 2**20:.1f}", flush=True)
        if not args.no_boot:
            print(f"boot_tcg_s={boot_seconds(image):.0f}", flush=True)
        print(f"warm_over_cold={warm / cold:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
