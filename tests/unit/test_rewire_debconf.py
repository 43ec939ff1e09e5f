"""A rewired script under Debian's debconf frontend: debhelper's blocks still talk to debconf after pkgos.

Runs Debian's debconf frontend with a private configuration (its own
config and templates files), so the machine's debconf database is not
touched; Debian's debconf module is not on PyPI, so check-newest skips
this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from openstack_pkg_tools.build.maintscripts import GenerateRequest, Style, generate
from openstack_pkg_tools.build.rewire import parse_script, rewired_script
from openstack_pkg_tools.run import run
from tests.preseed_examples import DEBCONF_CONF

ORIGINAL_POSTRM = """\
#!/bin/sh
set -e
# Automatically added by dh_installdebconf/13.11.4
if [ "$1" = purge ] && [ -e /usr/share/debconf/confmodule ]; then
	. /usr/share/debconf/confmodule
	db_purge
	echo "debhelper's block ran" >&2
fi
# End automatically added section
"""


def test_debhelpers_debconf_block_after_the_toolkits_postrm_still_gets_its_answer(tmp_path: Path) -> None:
    """pkgos leaves the conversation open under a shell confmodule: a STOP would hang db_purge after it."""
    (tmp_path / "pkgostest-rw.toml").write_text('name = "pkgostest-rw"\npackage = "pkgostest-rw"\n')
    request = GenerateRequest(str(tmp_path / "pkgostest-rw.toml"), "pkgostest-rw", str(tmp_path), Style.SHELL)
    generate(request)
    script = tmp_path / "pkgostest-rw.postrm"
    script.write_text(rewired_script(parse_script("postrm", ORIGINAL_POSTRM), script.read_text()))
    (tmp_path / "debconf.conf").write_text(DEBCONF_CONF.format(dir=tmp_path))
    result = run(
        ["timeout", "30", "/usr/share/debconf/frontend", str(script), "purge"],
        env={
            "DEBCONF_SYSTEMRC": str(tmp_path / "debconf.conf"),
            "DEBIAN_FRONTEND": "noninteractive",
            "PATH": f"{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        },
        ok_codes=(0, 124),
    )
    assert result.exit_code == 0, "the script hung after the toolkit's postrm"
    assert "debhelper's block ran" in result.stderr
