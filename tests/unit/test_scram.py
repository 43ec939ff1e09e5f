"""SCRAM-SHA-256 verifiers and SASLprep, as PostgreSQL computes them."""

from __future__ import annotations

import pytest

from openstack_pkg_tools.db import scram


def test_verifier_matches_its_password_only() -> None:
    stored = scram.verifier("pencil")
    assert stored.startswith("SCRAM-SHA-256$4096:")
    assert scram.matches(stored, "pencil")
    assert not scram.matches(stored, "pencil ")
    assert not scram.matches("md5abc", "pencil") and not scram.matches(None, "pencil")
    assert not scram.matches("SCRAM-SHA-256$garbage", "pencil")


@pytest.mark.parametrize(
    ("password", "prepared"),
    [
        ("I\u00adX", b"IX"),  # soft hyphen maps to nothing
        ("user", b"user"),
        ("USER", b"USER"),
        ("\u00aa", b"a"),  # NFKC
        ("\u2168", b"IX"),
        ("a\u00a0b", b"a b"),  # non-ASCII space maps to space
        ("\u0007", b"\x07"),  # prohibited: the raw bytes are used
        ("\u0627\u0031", "\u0627\u0031".encode()),  # bidi rule broken: raw bytes
    ],
)
def test_saslprep(password: str, prepared: bytes) -> None:
    assert scram.saslprep(password) == prepared
