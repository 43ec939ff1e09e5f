"""make demo as a test: the all-in-one cloud in a node, a VM on it, Tempest, and make demo-clean.

Root only; ``make check-cloud`` runs them (``make check`` does not): the
whole cloud takes about 20 minutes on 2 cores. ``-rP`` shows the demo's
summary (installed packages, console proof, phase times, memory).
"""

from __future__ import annotations

import os
import re

import pytest

from demo import cloud
from tests.nodes import config, state
from tests.nodes.fixtures import processes_in, project_things, require_nodes

pytestmark = [pytest.mark.cloud, pytest.mark.slow]


def _own_things(recorded: state.NodeState) -> dict[str, set[str]]:
    """What of ``recorded`` the host shows (compared with ``project_things()``'s keys)."""
    return {
        "netns": {recorded.netns},
        "links": {recorded.switch_port},
        "mounts": {recorded.root},
        "nodes": {recorded.name},
    }


def _clean_and_check(recorded: state.NodeState, before: dict[str, set[str]]) -> None:
    """demo-clean removes the node's namespace, veth, mount, state and processes, and nothing else."""
    assert recorded.leader_pid is not None
    namespace = os.readlink(f"/proc/{recorded.leader_pid}/ns/pid")
    assert processes_in(namespace)
    assert cloud.main(["clean"]) == 0
    after = project_things()
    for kind, names in _own_things(recorded).items():
        assert not names & after[kind], f"{kind} left: {names & after[kind]}"
        # What else of the project was there (another node, the switch) is still there.
        assert before[kind] - names <= after[kind] | _gone_with_last_node(kind)
    assert processes_in(namespace) == []
    assert not os.path.exists(recorded.directory)
    assert not (config.NSPAWN_PROPAGATE / recorded.name).exists()
    assert cloud.main(["clean"]) == 0  # nothing to do, no error


def _gone_with_last_node(kind: str) -> set[str]:
    """The switch goes with the last node; while other nodes run it stays."""
    if state.all_nodes():
        return set()
    return {"netns": {config.SWITCH_NETNS}, "links": {config.HOST_VETH}}.get(kind, set())


@pytest.fixture
def no_demo_node() -> None:
    require_nodes()
    if state.load_node(config.full_name(cloud.NODE)) is not None:
        pytest.fail(
            f"{config.full_name(cloud.NODE)} exists (a demo is up): make demo-clean first", pytrace=False
        )


@pytest.mark.usefixtures("no_demo_node")
def test_demo_clean_removes_the_node_and_nothing_else() -> None:
    before = project_things()
    run = cloud.Run()
    try:
        cloud.start_node(run)
        recorded = cloud.the_node()
        assert cloud.inside(["ip", "-br", "link", "show", cloud.PROVIDER_INTERFACE])
    except BaseException:
        cloud.clean()
        raise
    _clean_and_check(recorded, before)


@pytest.mark.usefixtures("no_demo_node")
def test_the_cloud_boots_a_vm_with_dhcp_and_metadata() -> None:
    before = project_things()
    try:
        status = cloud.up(set())
        summary = (cloud.BUILD / "summary.txt").read_text()
        print(summary)
        assert status == 0, summary
        assert f"{cloud.USER_DATA_MARKER} instance-id=" in summary
        # Tempest with no failure, or what failed passed when run once more (both reported).
        assert re.search(r"^tempest (\S+:|rerun of what failed:) ran [1-9]\d*, .* failed 0 ", summary, re.M)
        recorded = cloud.the_node()
    except BaseException:
        cloud.clean()
        raise
    _clean_and_check(recorded, before)
