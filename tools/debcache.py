"""Download Debian packages into a cache folder and unpack them there.

Used by the benchmarks and the demonstration to get Debian's own files (the
reference shell library, sample configuration files) at run time, so that
none of them is part of this repository.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def unpack(cache: Path, *packages: str) -> Path:
    """Download (once) and unpack (once) ``packages``; the tree they unpack to."""
    tree = cache / "root"
    cache.mkdir(parents=True, exist_ok=True)
    for package in packages:
        marker = cache / f"{package}.unpacked"
        if marker.exists():
            continue
        debs = sorted(cache.glob(f"{package}_*.deb"))
        if not debs:
            subprocess.run(["apt-get", "download", package], cwd=cache, check=True, capture_output=True)
            debs = sorted(cache.glob(f"{package}_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(tree)], check=True)
        marker.touch()
    return tree
