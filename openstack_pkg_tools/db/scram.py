"""PostgreSQL's SCRAM-SHA-256 password verifiers, computed in-process.

Sending ``PASSWORD 'SCRAM-SHA-256$...'`` instead of the password keeps the
password out of the server's statement log, and comparing a verifier with
a password tells whether ``ALTER ROLE`` is needed at all (idempotency).
The password is normalised with SASLprep as PostgreSQL does, falling back
to the raw bytes when SASLprep refuses it, as PostgreSQL does too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stringprep
import unicodedata

ITERATIONS = 4096
PREFIX = "SCRAM-SHA-256"


def verifier(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The verifier PostgreSQL stores in ``pg_authid.rolpassword``."""
    salt = os.urandom(16) if salt is None else salt
    stored_key, server_key = _keys(password, salt, iterations)
    return f"{PREFIX}${iterations}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


def matches(stored: str | None, password: str) -> bool:
    """True when ``stored`` (a rolpassword) is a verifier of ``password``."""
    if not stored or not stored.startswith(PREFIX + "$"):
        return False
    try:
        head, keys = stored[len(PREFIX) + 1 :].split("$")
        iterations_text, salt_text = head.split(":")
        stored_key_text, server_key_text = keys.split(":")
        salt = base64.b64decode(salt_text)
        iterations = int(iterations_text)
    except ValueError:
        return False
    stored_key, server_key = _keys(password, salt, iterations)
    return hmac.compare_digest(_b64(stored_key), stored_key_text) and hmac.compare_digest(
        _b64(server_key), server_key_text
    )


def _keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    salted = hashlib.pbkdf2_hmac("sha256", saslprep(password), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest(), server_key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_PROHIBITED = (
    stringprep.in_table_c12,
    stringprep.in_table_c21_c22,
    stringprep.in_table_c3,
    stringprep.in_table_c4,
    stringprep.in_table_c5,
    stringprep.in_table_c6,
    stringprep.in_table_c7,
    stringprep.in_table_c8,
    stringprep.in_table_c9,
)


def saslprep(password: str) -> bytes:
    """SASLprep (RFC 4013) as PostgreSQL applies it, or the raw bytes when it refuses.

    Unassigned code points are allowed, as in PostgreSQL.
    """
    raw = password.encode("utf-8", errors="surrogateescape")
    if password.isascii() and all(32 <= ord(char) < 127 for char in password):
        return raw
    mapped = "".join(
        " " if stringprep.in_table_c12(char) else char
        for char in password
        if not stringprep.in_table_b1(char)
    )
    normalized = unicodedata.normalize("NFKC", mapped)
    if not normalized or any(test(char) for char in normalized for test in _PROHIBITED):
        return raw
    if any(stringprep.in_table_d1(char) for char in normalized):
        if any(stringprep.in_table_d2(char) for char in normalized):
            return raw
        if not (stringprep.in_table_d1(normalized[0]) and stringprep.in_table_d1(normalized[-1])):
            return raw
    return normalized.encode("utf-8")
