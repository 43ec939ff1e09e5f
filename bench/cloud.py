#!/usr/bin/python3
"""The all-in-one cloud in a node: time from apt-get install to the VM's metadata line, and memory.

Runs ``make demo``'s phases (demo/cloud.py) in a fresh node ``pkgos-aio``,
prints its summary and the two numbers the issue sets targets for (under
15 minutes with the apt and image caches warm; under 6 GiB), and removes
the node. As root, from the repository's top directory, after ``make
archive``: ``python3 bench/cloud.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo import cloud
from tests.nodes import node

TARGET_MINUTES = 15.0
TARGET_GIB = 6.0


def main() -> int:
    run = cloud.Run()
    status = 1
    memory = 0.0
    try:
        for name, function in cloud.PHASES:
            with cloud.phase(run, name):
                function(run)
        memory = node.memory(cloud.the_node()) / 2**30
        status = 0
    except (cloud.CloudError, OSError) as error:
        run.note(f"FAILED: {error}")
    finally:
        print(cloud.summary(run), flush=True)
        cloud.clean()
    if status == 0:
        minutes = (run.marks["metadata"] - run.marks["install"]) / 60
        print(f"apt-get install -> VM metadata line: {minutes:.1f} min (target < {TARGET_MINUTES:.0f})")
        print(f"node memory with the cloud up: {memory:.2f} GiB (target < {TARGET_GIB:.0f})")
        print(f"total: {(time.monotonic() - run.started) / 60:.1f} min")
    return status


if __name__ == "__main__":
    sys.exit(main())
