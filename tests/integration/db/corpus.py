"""Adversarial passwords and user names: what the reference tools break on."""

from __future__ import annotations

import string

# Every ASCII punctuation character, alone inside a password.
_PUNCTUATION = [f"a{char}b" for char in string.punctuation]

PASSWORDS = [
    *_PUNCTUATION,
    string.punctuation,
    "x",  # 1 character
    "y" * 128,  # 128 characters
    string.printable.strip() * 1,
    " leading space",
    "trailing space ",
    "in side",
    "tab\there",
    "' OR '1'='1",
    "'; DROP DATABASE mysql; --",
    '"; DROP TABLE users; --',
    "/* comment */",
    "-- comment",
    "# comment",
    "`backtick`",
    "back\\slash",
    "\\'",
    "\\\\",
    "%41",
    "%2541",
    "%",
    "%%",
    "%zz",
    "a%20b",
    "100%",
    "$foo",
    "${bar}",
    "$$",
    "user:pass@host",
    "@:/?#[]",
    "rabbit://u:p@h:5672/",
    "a,b,c",
    "&amp;",
    "a=b&c=d",
    "é",
    "ñandú",
    "Straße",
    "µ¿¡ÿ",
]
# Beyond Latin-1: PostgreSQL takes them; pymysql cannot send them.
WIDE_PASSWORDS = ["€uro", "日本語のパスワード", "emoji 🔑", "Ⅸ\u00a0ﬁ", "שלום"]

# User names, combined with the passwords above.
USER_NAMES = [
    "plain",
    "dash-ed",
    "dot.ted",
    "quo'te",
    'dou"ble',
    "back`tick",
    "spa ce",
    "per%cent",
    "under_score",
    "at@sign",
    "co:lon",
    "sla/sh",
    "ünï",
    "semi;colon",
    "back\\slash",
]


def user_for(index: int) -> str:
    """A distinct adversarial user name for corpus entry ``index``."""
    return f"t{index}{USER_NAMES[index % len(USER_NAMES)]}"
