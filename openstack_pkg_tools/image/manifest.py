"""What went into an image: the JSON manifest and the SHA256SUMS file."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict

from ..run import run
from .options import ImageOptions


def installed_packages(tree: str) -> dict[str, str]:
    """Package name -> version of every package installed in ``tree``."""
    result = run(
        [
            "dpkg-query",
            "--admindir=" + os.path.join(tree, "var/lib/dpkg"),
            "-W",
            # dpkg-query expands the escapes itself: the logged command stays on one line.
            r"-f=${db:Status-Status}\t${Package}\t${Version}\n",
        ]
    )
    return parse_dpkg_query(result.stdout)


def parse_dpkg_query(text: str) -> dict[str, str]:
    """Parse ``status<TAB>package<TAB>version`` lines, keeping installed packages only."""
    packages = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[0] == "installed":
            packages[fields[1]] = fields[2]
    return dict(sorted(packages.items()))


def sha256_of(path: str) -> str:
    """The hex SHA-256 of the file ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inputs(options: ImageOptions) -> dict[str, object]:
    """The build's inputs as they go into the manifest (never a password hash)."""
    values = asdict(options)
    values["password_hash"] = None if options.password_hash is None else "***"
    return values


def manifest(
    options: ImageOptions, packages: dict[str, str], outputs: dict[str, str], extra: dict[str, object]
) -> dict[str, object]:
    """The manifest: inputs, packages, and for each output file its size and SHA-256."""
    files = {
        os.path.basename(path): {"format": kind, "size": os.path.getsize(path), "sha256": sha256_of(path)}
        for kind, path in outputs.items()
    }
    return {"inputs": inputs(options), **extra, "files": files, "packages": packages}


def write(path: str, data: dict[str, object]) -> None:
    """Write the manifest ``data`` as JSON to ``path``."""
    with open(path, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")


def sha256sums(data: dict[str, object]) -> str:
    """SHA256SUMS content (``sha256sum -c`` format) for the manifest's files."""
    files = data["files"]
    assert isinstance(files, dict)
    return "".join(f"{entry['sha256']}  {name}\n" for name, entry in sorted(files.items()))
