"""Why the keystone profile says ``percent_in_url = false``.

Debian 12's ``keystone-manage db_sync`` hands ``[database] connection`` to
a ConfigParser that interpolates ``%``, so a URL whose password is
percent-encoded stops it before it connects. The toolkit therefore refuses
such database answers for Keystone before it changes anything. If a
Keystone release reads these URLs, the first test fails: the flag can then
go from the profile.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from openstack_pkg_tools.urls import DatabaseUrl, Engine


def _db_sync(tmp_path: Path, password: str) -> str:
    """keystone-manage db_sync's output, against a MySQL port where nothing listens."""
    # Port 9 (discard) is closed here; no retries, so a failed connection ends at once.
    url = DatabaseUrl.for_engine(
        Engine.MYSQL, "keystone", user="keystone", password=password, host="127.0.0.1", port=9
    )
    config = tmp_path / "keystone.conf"
    config.write_text(f"[database]\nconnection = {url.render()}\nmax_retries = 0\n")
    result = subprocess.run(
        ["keystone-manage", "--config-file", str(config), "db_sync"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    return result.stdout + result.stderr


def test_debian_keystone_db_sync_cannot_read_a_percent_encoded_password(tmp_path: Path) -> None:
    output = _db_sync(tmp_path, "p@ss")
    assert "invalid interpolation syntax" in output
    assert "Can't connect" not in output  # it never got as far as the server


def test_the_same_url_without_encoding_gets_as_far_as_the_server(tmp_path: Path) -> None:
    output = _db_sync(tmp_path, "pass")
    assert "invalid interpolation syntax" not in output
    assert "Can't connect to MySQL server on '127.0.0.1'" in output
