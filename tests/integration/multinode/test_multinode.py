"""make demo NODES=3 as a test: two compute nodes join a controller, run a server each, one rejoins.

Root only; ``make check-multinode`` runs it (``make check`` does not):
about 25 minutes on 2 cores. ``-rP`` shows the demo's summary (the
service and agent lists, the consoles' proof, times, memory).
"""

from __future__ import annotations

import re

import pytest

from demo import multinode
from tests.nodes import config, state
from tests.nodes.fixtures import project_things, require_nodes

pytestmark = [pytest.mark.multinode, pytest.mark.slow]
NAMES = (multinode.CONTROLLER, *multinode.COMPUTES)


@pytest.fixture
def no_multinode() -> None:
    require_nodes()
    up = [config.full_name(name) for name in NAMES if state.load_node(config.full_name(name)) is not None]
    if up:
        pytest.fail(f"{', '.join(up)} exist (a demo is up): make demo-clean NODES=3 first", pytrace=False)


@pytest.mark.usefixtures("no_multinode")
def test_compute_nodes_join_boot_a_server_each_reach_each_other_leave_and_rejoin() -> None:
    before = project_things()
    try:
        status = multinode.up()
        summary = (multinode.BUILD / "summary.txt").read_text()
        print(summary)
        assert status == 0, summary
        for name in multinode.COMPUTES:
            host = config.full_name(name)
            # Both lists on the controller show the host up (after the rejoin too).
            assert re.search(rf"^  nova-compute {host} up$", summary, re.M), host
            assert re.search(rf"^  Linux bridge agent {host} (True|:-\))$", summary, re.M), host
        for name, (server, _) in multinode.SERVERS.items():
            peer = multinode.peer_of(name)
            assert re.search(rf"{server} console\| .*{multinode.PEER_MARKER} {peer} SSH-2\.0", summary), (
                server
            )
            assert re.search(
                rf"{server} console\| .*{multinode.cloud.USER_DATA_MARKER} instance-id=", summary
            )
        assert "nobody ran discover_hosts" in summary
        assert re.search(r"purge said\| .*on the controller run openstack compute service", summary)
        assert re.search(r"purge said\| .*on the controller run openstack network agent", summary)
        assert re.search(
            rf"^{multinode.LEAVER}: apt-get install to up, alone, warm: [\d.]+ min", summary, re.M
        )
        assert re.search(rf"^{multinode.CONTROLLER}: memory [\d.]+ GiB$", summary, re.M)
    finally:
        multinode.clean()
    # demo-clean removed the three nodes' namespaces and records, and no other node.
    after = project_things()
    ours = {config.full_name(name) for name in NAMES}
    assert not ours & after["nodes"]
    assert not {config.netns(name) for name in ours} & after["netns"]
    assert before["nodes"] - ours <= after["nodes"]
