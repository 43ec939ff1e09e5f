"""python3 -m tests.nodes: start, enter, copy into, stop and remove nodes; run check-fresh."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import config, fresh, node, state
from .system import NodeError

DESCRIPTION = f"""\
Debian 12 nodes as containers, for tests and demos: systemd as PID 1
(systemd-nspawn --boot), each in its own network namespace on a private
bridge ({config.NETWORK}.0/{config.PREFIXLEN}; the host is {config.HOST_ADDRESS}).
Nodes install Debian and PyPI packages through a proxy on the host that
reaches only deb.debian.org and PyPI. Names get the prefix '{config.PREFIX}'.
Needs root. See docs/nodes.md.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m tests.nodes",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    start = commands.add_parser(
        "start", help="create and boot a node (or boot a stopped one); prints its address"
    )
    start.add_argument("name")
    start.add_argument(
        "--timeout", type=float, default=node.BOOT_TIMEOUT, help="seconds to wait for the boot"
    )
    execute = commands.add_parser(
        "exec", help="run a command as root in a node (stdin passed through); exits with its code"
    )
    execute.add_argument("name")
    execute.add_argument("argv", nargs=argparse.REMAINDER, help="the command (after --)")
    copy = commands.add_parser("cp", help="copy a host file or directory into a directory of a node")
    copy.add_argument("name")
    copy.add_argument("source")
    copy.add_argument("destination")
    stop = commands.add_parser("stop", help="power a node off (killed by PID after the timeout)")
    stop.add_argument("name")
    stop.add_argument("--timeout", type=float, default=node.STOP_TIMEOUT)
    remove = commands.add_parser("rm", help="stop and remove nodes: namespaces, links, mount, files")
    remove.add_argument("names", nargs="+")
    commands.add_parser("list", help="the recorded nodes: name, address, status, PID 1, directory")
    check = commands.add_parser(
        "check-fresh", help="make check of a fresh clone of HEAD in a fresh node (make check-fresh)"
    )
    check.add_argument("--log", type=Path, default=fresh.default_log(), help="also write the output here")
    check.add_argument("--target", default="check", help="the make target to run (default: check)")
    check.add_argument(
        "--clone-dir", default=fresh.CLONE, help=f"where the node's clone goes (default: {fresh.CLONE})"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command line; errors are one line on stderr and exit code 2."""
    options = _parser().parse_args(argv)
    try:
        if options.command == "start":
            started = node.start(options.name, options.timeout)
            print(f"{started.name} {started.address} booted in {started.boot_seconds} s")
        elif options.command == "exec":
            command = options.argv[1:] if options.argv[:1] == ["--"] else options.argv
            if not command:
                raise NodeError("exec needs a command: python3 -m tests.nodes exec NAME -- COMMAND...")
            return node.execute(node.get(options.name), command).returncode
        elif options.command == "cp":
            node.copy_in(node.get(options.name), options.source, options.destination)
        elif options.command == "stop":
            node.stop(options.name, options.timeout)
        elif options.command == "rm":
            for name in options.names:
                node.remove(name)
        elif options.command == "list":
            for recorded in state.all_nodes():
                print(node.describe(recorded))
        elif options.command == "check-fresh":
            return fresh.check_fresh(config.REPO, options.log, options.target, options.clone_dir)
    except (NodeError, ValueError) as error:
        print(f"nodes: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
