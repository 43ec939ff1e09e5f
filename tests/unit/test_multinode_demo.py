"""make demo NODES=3's own logic (demo/multinode.py): the compute preseed's check, the servers' user-data."""

from __future__ import annotations

import subprocess
from pathlib import Path

from demo import multinode

PRESEEDS = Path(__file__).resolve().parents[2] / "preseed"


def test_the_compute_preseed_holds_nothing_only_a_controller_may_hold() -> None:
    assert multinode.controller_secrets((PRESEEDS / "compute.preseed").read_text()) == []
    # The same check finds them in the controller's preseed.
    found = multinode.controller_secrets((PRESEEDS / "controller.preseed").read_text())
    assert {"nova/db-password", "keystone/admin-password", "glance/ksat-admin-password"} <= set(found)
    # A service user's password under Debian's name is not the administrator's.
    assert "nova/placement_admin_password" not in found


def test_each_servers_user_data_is_a_valid_script_naming_the_other() -> None:
    names = list(multinode.SERVERS)
    for name in names:
        _, address = multinode.SERVERS[name]
        peer = multinode.peer_of(name)
        assert peer != address and peer in {other for _, other in multinode.SERVERS.values()}
        script = multinode.user_data(peer)
        assert address not in script and f"/dev/tcp/{peer}/22" in script
        assert f"{multinode.PEER_MARKER} {peer} $greeting" in script
        assert subprocess.run(["bash", "-n"], input=script, text=True, check=False).returncode == 0
