"""Debian 12 nodes as containers: test and demo machinery, not part of the library.

A node is a bookworm root tree (bootstrapped once with mmdebstrap, cached
in .cache/nodes) under an overlay of its own, booted with
``systemd-nspawn --boot`` so that systemd is PID 1 and packages start their
units, in its own network namespace on a private bridge::

    from tests.nodes import node

    web = node.start("web")                       # pkgos-web, 172.29.84.10
    node.execute(web, ["apt-get", "install", "-y", "hello"])
    node.copy_in(web, "/tmp/site.toml", "/root")
    node.remove("web")                            # nothing of it is left

Tests take one from the fixtures in tests/nodes/fixtures.py; people use
``python3 -m tests.nodes`` (start, exec, cp, stop, rm, list, check-fresh).
See docs/nodes.md.
"""
