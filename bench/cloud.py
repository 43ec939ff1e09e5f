#!/usr/bin/python3
"""The all-in-one cloud twice, rewired then stock: apt-get install to the VM's metadata line, memory.

Runs ``make demo``'s phases (demo/cloud.py) up to the VM's metadata line,
from one site file (``preseed/cloud-site.toml``) and so one preseed, in
two fresh nodes, one after the other (the first removed before the second
starts, so both have the machine's memory and CPU to themselves):

- **rewired**, node ``pkgos-crew``: ``build/archive`` of ``make archive``
  (Debian's packages rewired to the toolkit, the toolkit's packages, the
  meta-packages);
- **stock**, node ``pkgos-cstock``: ``build/archive-stock``, the same
  archive without its rewired packages (made here by demo/stock.py, signed
  with the same key), so apt takes Debian's own packages and scripts. The
  demo gives them dbconfig-common's names of the preseed's database
  answers, ``dbconfig-mysql`` and the toolkit's ``pkgos`` command, which
  the operator's steps after the install use; its ``rabbit-account`` and
  ``settings`` phases then make what Debian's scripts left out (each
  reported in the summary).

For each: the time from the start of ``apt-get install`` to the VM's
metadata line, the node's memory (PSS of its processes) with the cloud
up, each phase's time, what debconf would have asked an interactive user
(``DEBCONF_DEBUG=developer``; the log, which holds the answers, stays in
the run's 0700 site directory), the install's error lines, and the phases
that failed. A failed phase does not end the run: the phases after it run
too (they show what else works), except the VM, which waits for minutes
on a cloud that is known broken. The last line is
``ratio=<stock minutes / rewired minutes>`` when both reached the
metadata line, else ``ratio=none stopped-at=<phase>: <reason>``.

As root, from the repository's top directory: ``make bench-cloud`` (runs
``make archive`` first), or ``.venv/bin/python bench/cloud.py [--only
stock|rewired] [--keep]``.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo import cloud, stock
from tests.nodes import config, node, state

TARGET_MINUTES = 15.0
TARGET_GIB = 6.0
STOCK_ARCHIVE = cloud.REPO / "build" / "archive-stock"
KEY_DIR = cloud.REPO / ".cache" / "archive-key"
BUILD = cloud.REPO / "build"
TARGETS = {
    "rewired": cloud.Target("crew", cloud.ARCHIVE, BUILD / "bench-cloud-rewired", debconf_log=True),
    "stock": cloud.Target("cstock", STOCK_ARCHIVE, BUILD / "bench-cloud-stock", debconf_log=True),
}
# Without these the rest has nothing to work on.
FIRST_PHASES = {"node", "archive", "preseed"}
# The measure ends with the VM's metadata line.
LAST_PHASE = "vm"


@dataclass
class Outcome:
    """What one run measured."""

    label: str
    run: cloud.Run
    failures: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    memory_gib: float | None = None
    asked: list[str] = field(default_factory=list)
    asked_lower: list[str] = field(default_factory=list)
    troubles: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> stock.Verdict:
        marks = self.run.marks
        if self.failures or "metadata" not in marks:
            phase, reason = self.failures[0] if self.failures else (LAST_PHASE, "no metadata line")
            return stock.Verdict(None, f"{phase}: {reason}")
        return stock.Verdict((marks["metadata"] - marks["install"]) / 60)


def measure(label: str, target: cloud.Target, *, keep: bool) -> Outcome:
    """The demo's phases in a fresh node up to the metadata line; what they showed; the node removed."""
    if state.load_node(config.full_name(target.node)) is not None:
        raise SystemExit(f"cloud: error: {config.full_name(target.node)} exists: remove it first")
    target.build.mkdir(parents=True, exist_ok=True)
    outcome = Outcome(label, cloud.Run(target=target))
    run = outcome.run
    cloud.say(f"=== {label}: node {config.full_name(target.node)}, archive {target.archive}")
    with cloud.active(run):
        try:
            for name, function in cloud.PHASES:
                if outcome.failures and (name == LAST_PHASE or outcome.failures[0][0] in FIRST_PHASES):
                    outcome.skipped.append(name)
                elif not run_phase(outcome, name, function):
                    run.note(f"FAILED in {name}: {outcome.failures[-1][1]}")
                if name == LAST_PHASE:
                    break
            gather(outcome)
            (target.build / "summary.txt").write_text(cloud.summary(run))
            print(cloud.summary(run), flush=True)
        finally:
            if not keep:
                cloud.clean(target)
    return outcome


def run_phase(outcome: Outcome, name: str, function: Callable[[cloud.Run], None]) -> bool:
    """One phase; whether it passed. Any error is recorded, not raised: the bench reports it."""
    try:
        with cloud.phase(outcome.run, name):
            function(outcome.run)
    # Debian's scripts and the services may fail in any way: each is reported, none ends the bench.
    except Exception as error:
        outcome.failures.append((name, stock.one_line(f"{type(error).__name__}: {error}", 400)))
        return False
    return True


def gather(outcome: Outcome) -> None:
    """The node's memory, what debconf asked and the install's error lines (passwords masked)."""
    target = outcome.run.target
    if state.load_node(config.full_name(target.node)) is None:
        return
    current = node.get(target.node)
    if not node.running(current):
        return
    outcome.memory_gib = node.memory(current) / 2**30
    site = cloud.site_dir()
    preseed_file = site / "all-in-one.preseed"
    if not preseed_file.exists():
        return
    preseed = preseed_file.read_text()
    preseed += "\n".join(cloud.stock_answers(preseed, cloud.rewired())) + "\n"
    debconf_log = site / "debconf.log"
    if debconf_log.exists():
        config_dat = Path(current.root + "/var/cache/debconf/config.dat").read_text(errors="replace")
        outcome.asked, outcome.asked_lower = stock.asked(
            debconf_log.read_text(errors="replace"), preseed, stock.debconf_priority(config_dat)
        )
    install_log = target.build / "install.log"
    if install_log.exists():
        with open(site / "secrets.toml", "rb") as store:
            secrets = {str(value) for value in tomllib.load(store).values()}
        outcome.troubles = stock.troubles(install_log.read_text(errors="replace"), secrets)


def report(outcome: Outcome) -> None:
    """The run's figures, one per line, prefixed by its label."""
    label, run = outcome.label, outcome.run
    verdict = outcome.verdict
    print(f"--- {label} ({config.full_name(run.target.node)}, {run.target.archive})")
    print(f"{label}: phases: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in run.phases))
    if outcome.skipped:
        print(f"{label}: not run after the failure: {', '.join(outcome.skipped)}")
    if verdict.minutes is not None:
        print(
            f"{label}: apt-get install -> VM metadata line: {verdict.minutes:.1f} min "
            f"(target < {TARGET_MINUTES:.0f})"
        )
    else:
        print(f"{label}: stopped at {verdict.stopped}")
    for phase, reason in outcome.failures:
        print(f"{label}: failed: {phase}: {reason}")
    if outcome.memory_gib is not None:
        print(f"{label}: node memory at the end: {outcome.memory_gib:.2f} GiB (target < {TARGET_GIB:.0f})")
    print(f"{label}: asked (shown at debconf's priority): " + (", ".join(outcome.asked) or "nothing"))
    print(f"{label}: unseen below the priority: " + (", ".join(outcome.asked_lower) or "nothing"))
    print(f"{label}: install's error lines ({len(outcome.troubles)}): " + " | ".join(outcome.troubles[:15]))
    print(f"{label}: total {(time.monotonic() - run.started) / 60:.1f} min", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", choices=sorted(TARGETS), help="one of the two runs")
    parser.add_argument("--keep", action="store_true", help="keep the nodes (python3 -m tests.nodes rm NAME)")
    options = parser.parse_args(argv)
    labels = [options.only] if options.only else ["rewired", "stock"]
    if "stock" in labels:
        stock.stock_archive(cloud.ARCHIVE, STOCK_ARCHIVE, KEY_DIR)
        cloud.say(f"stock archive: {STOCK_ARCHIVE} ({len(list(STOCK_ARCHIVE.glob('*.deb')))} packages)")
    outcomes = {label: measure(label, TARGETS[label], keep=options.keep) for label in labels}
    print()
    for outcome in outcomes.values():
        report(outcome)
    rewired = outcomes.get("rewired")
    if "stock" in outcomes:
        print(stock.last_line(outcomes["stock"].verdict, rewired.verdict if rewired else None))
    elif rewired is not None:
        verdict = rewired.verdict
        minutes = verdict.minutes
        print(f"rewired-minutes={minutes:.1f}" if minutes is not None else f"stopped-at={verdict.stopped}")
    return 0 if rewired is None or rewired.verdict.minutes is not None else 1


if __name__ == "__main__":
    sys.exit(main())
