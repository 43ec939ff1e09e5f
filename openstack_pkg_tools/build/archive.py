"""A folder of .deb files made a signed flat apt repository.

``publish(DIR)`` writes ``Packages`` (by ``dpkg-scanpackages``),
``Packages.gz``, ``Release`` with their sizes and hashes, and ``InRelease``
(``Release`` clear-signed), and returns the sources.list line:
``deb [signed-by=DIR/archive-key.pgp] file:DIR ./``. apt checks
InRelease's signature against that key alone, then every index against
Release's hashes, so a changed Packages file is refused.

The signing key is generated on first use (Ed25519, no passphrase: the
archive is signed by a program, and the key's safety is its file mode)
with gpg in a private home, mode 0700, whose secret key files gpg keeps
0600; gpg's agent for that home is stopped after each use. Nothing is
rewritten when the packages did not change: ``Release`` and ``InRelease``
keep their bytes and their date.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import time

from ..errors import InvalidValueError
from ..fileio import atomic_write
from ..run import run

PUBLIC_KEY = "archive-key.pgp"
KEY_NAME = "pkgos local archive signing key"
INDEXES = ("Packages", "Packages.gz")
GPG_HINT = "install gpg and dpkg-dev."


def default_key_dir(directory: str) -> str:
    """Where the key is kept by default: beside the archive, not in it (it may be served)."""
    parent = os.path.dirname(os.path.abspath(directory))
    return os.path.join(parent, ".pkgos-archive-key")


def _gpg(home: str, *argv: str, stdin: str | None = None) -> str:
    return run(["gpg", "--homedir", home, "--batch", "--quiet", *argv], stdin=stdin, hint=GPG_HINT).stdout


def _stop_agent(home: str) -> None:
    # The agent gpg started for this home only, found by its home.
    run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], hint=GPG_HINT)


def ensure_key(home: str) -> str:
    """The fingerprint of the archive key in ``home``, generated there on first use."""
    os.makedirs(home, mode=0o700, exist_ok=True)
    if os.stat(home).st_mode & 0o077:
        raise InvalidValueError(f"{home} is readable by others.", hint=f"chmod 700 {home}.")
    try:
        listing = _gpg(home, "--with-colons", "--list-secret-keys", KEY_NAME) if _has_keys(home) else ""
        if not listing:
            # The parameters go on stdin; %no-protection: no passphrase at all.
            _gpg(
                home,
                "--generate-key",
                stdin=(
                    "Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\n"
                    f"Name-Real: {KEY_NAME}\nExpire-Date: 0\n%no-protection\n%commit\n"
                ),
            )
            listing = _gpg(home, "--with-colons", "--list-secret-keys", KEY_NAME)
    finally:
        _stop_agent(home)
    fingerprints = re.findall(r"^fpr:(?:[^:]*:){8}([0-9A-F]{40}):", listing, flags=re.MULTILINE)
    if not fingerprints:
        raise InvalidValueError(f"no archive key in {home}.", hint=f"remove {home} to make a new one.")
    return str(fingerprints[0])


def _has_keys(home: str) -> bool:
    return os.path.isdir(os.path.join(home, "private-keys-v1.d")) and bool(
        os.listdir(os.path.join(home, "private-keys-v1.d"))
    )


def release_text(indexes: dict[str, bytes], date: str) -> str:
    """The Release file of a flat repository holding ``indexes`` (name -> content)."""
    lines = [
        "Origin: pkgos",
        "Label: pkgos local archive",
        "Suite: bookworm",
        "Codename: bookworm",
        f"Date: {date}",
        "Architectures: all amd64",
        "Description: Debian's OpenStack packages rewired by pkgos, and the toolkit's own",
    ]
    for field, algorithm in (("MD5Sum", "md5"), ("SHA256", "sha256")):
        lines.append(f"{field}:")
        for name, data in indexes.items():
            lines.append(f" {hashlib.new(algorithm, data).hexdigest()} {len(data):>16} {name}")
    return "\n".join(lines) + "\n"


def _hash_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(" ")]


def publish(directory: str, key_dir: str | None = None) -> str:
    """Index and sign ``directory``; return its sources.list line."""
    directory = os.path.abspath(directory)
    if not os.path.isdir(directory) or not any(name.endswith(".deb") for name in os.listdir(directory)):
        raise InvalidValueError(f"{directory} holds no .deb file.", hint="put the packages there first.")
    home = os.path.abspath(key_dir or default_key_dir(directory))
    fingerprint = ensure_key(home)
    packages = run(["dpkg-scanpackages", "--multiversion", "."], cwd=directory, hint=GPG_HINT).stdout.encode()
    indexes = {"Packages": packages, "Packages.gz": gzip.compress(packages, mtime=0)}
    for name, data in indexes.items():
        atomic_write(os.path.join(directory, name), data)
    release_path = os.path.join(directory, "Release")
    old = open(release_path).read() if os.path.exists(release_path) else ""  # noqa: SIM115
    date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
    release = release_text(indexes, date)
    inrelease = os.path.join(directory, "InRelease")
    try:
        public = _gpg(home, "--armor", "--export", fingerprint)
        atomic_write(os.path.join(directory, PUBLIC_KEY), _dearmor(public))
        if _hash_lines(old) != _hash_lines(release) or not os.path.exists(inrelease):
            atomic_write(release_path, release.encode())
            signed = _gpg(
                home,
                "--local-user",
                fingerprint,
                "--clearsign",
                "--digest-algo",
                "SHA512",
                "--output",
                "-",
                stdin=release,
            )
            atomic_write(inrelease, signed.encode())
    finally:
        _stop_agent(home)
    return f"deb [signed-by={os.path.join(directory, PUBLIC_KEY)}] file:{directory} ./"


def _dearmor(armored: str) -> bytes:
    """The binary form of an armored public key, the form apt's signed-by reads in any version."""
    import base64  # noqa: PLC0415

    body = armored.split("\n\n", 1)[1].split("-----END", 1)[0]
    lines = [line for line in body.strip().splitlines() if not line.startswith("=")]
    return base64.b64decode("".join(lines))
