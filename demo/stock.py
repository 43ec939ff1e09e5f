"""Debian's stock packages against the rewired ones: the stock archive, what debconf asked, the verdict.

Shared by the benches that install the same thing twice from one preseed
(bench/cloud.py, bench/stock_vs_rewired.py):

- ``stock_archive()``: the archive of ``make archive`` without its rewired
  packages (the toolkit's own packages and the meta-packages only), signed
  with the same key by ``pkgos archive``, so that apt takes Debian's
  packages and their own maintainer scripts;
- ``asked()``: from debconf's ``DEBCONF_DEBUG=developer`` log, the
  questions an interactive install would have shown; ``troubles()``: the
  lines of its output that say something went wrong;
- ``last_line()``: the bench's machine-readable verdict.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRIORITIES = ("low", "medium", "high", "critical")
# debconf's developer log: "<-- INPUT high q", "<-- FSET q seen true", "<-- RESET q".
CONVERSATION = re.compile(r"^debconf \(developer\): <-- (INPUT|FSET|RESET) (\S+) ?(.*)$", re.MULTILINE)
TROUBLE = re.compile(r"error|fail|traceback|denied|refused|cannot|unable", re.IGNORECASE)
# systemctl's colours, which invoke-rc.d passes on into apt's output.
COLOUR = re.compile(r"\x1b\[[0-9;]*m")
STANZA_FIELD = re.compile(r"^(Package|Version|Filename): (\S+)$", re.MULTILINE)


def archive_index(packages: str) -> list[tuple[str, str, str]]:
    """(package, version, file name) of each stanza of an archive's ``Packages`` index."""
    entries = []
    for stanza in packages.split("\n\n"):
        fields = dict(STANZA_FIELD.findall(stanza))
        if {"Package", "Version", "Filename"} <= fields.keys():
            entries.append((fields["Package"], fields["Version"], Path(fields["Filename"]).name))
    return entries


def is_rewired(version: str) -> bool:
    """Whether a version is one of ``pkgos rewire``'s (Debian's version with ``pkgos`` in it)."""
    return "pkgos" in version


def stock_selection(packages: str) -> list[str]:
    """The files of the archive's packages that are not rewired: the toolkit's own and the meta-packages."""
    return sorted(name for _, version, name in archive_index(packages) if not is_rewired(version))


def stock_archive(source: Path, destination: Path, key_dir: Path) -> Path:
    """``source`` (make archive's) without its rewired packages in ``destination``, signed; ``destination``.

    Signed with the same key, kept in ``key_dir``. Files already there and
    equal are left alone, so ``pkgos archive`` rewrites nothing when nothing
    changed.
    """
    index = source / "Packages"
    if not index.is_file():
        raise FileNotFoundError(f"{index} missing: run make archive first")
    wanted = stock_selection(index.read_text())
    destination.mkdir(parents=True, exist_ok=True)
    for old in destination.glob("*.deb"):
        if old.name not in wanted:
            old.unlink()
    for name in wanted:
        copy = destination / name
        if not (copy.exists() and filecmp.cmp(source / name, copy, shallow=False)):
            shutil.copy2(source / name, copy)
    subprocess.run(
        [sys.executable, "-m", "openstack_pkg_tools", "archive", str(destination), "--key-dir", str(key_dir)],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    return destination


def debconf_priority(config_dat: str) -> str:
    """debconf's priority from its ``config.dat`` (``high`` when not set there)."""
    match = re.search(r"^Name: debconf/priority\n(?:.+\n)*?Value: (\S+)", config_dat, re.MULTILINE)
    return match.group(1) if match and match.group(1) in PRIORITIES else "high"


def asked(log: str, preseed: str, priority: str) -> tuple[list[str], list[str]]:
    """Questions an interactive install would have shown: at ``priority`` and above, and below it.

    From debconf's developer log, in order: every INPUT of a question not
    seen at that moment. A question starts seen when ``preseed`` answers it
    (without a ``seen false`` line); FSET and RESET in the log change that
    (noninteractive never marks a question seen itself). The debconf
    database at the end cannot tell: packages unregister questions, and
    passwords live in another file. Each entry: ``question (priority)``.
    """
    seen: set[str] = set()
    for line in preseed.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2:] == ["seen", "false"]:
            seen.discard(parts[1])
        elif len(parts) == 4 and not line.startswith("#"):
            seen.add(parts[1])
    threshold = PRIORITIES.index(priority)
    shown: list[str] = []
    lower: list[str] = []
    for command, first, second in CONVERSATION.findall(log):
        if command == "FSET" and second == "seen true":
            seen.add(first)
        elif command == "RESET" or (command == "FSET" and second == "seen false"):
            seen.discard(first)
        elif command == "INPUT" and first in PRIORITIES and second not in seen:
            chosen = shown if PRIORITIES.index(first) >= threshold else lower
            entry = f"{second} ({first})"
            if entry not in chosen:
                chosen.append(entry)
    return shown, lower


def troubles(output: str, secrets: set[str]) -> list[str]:
    """Distinct lines of an install's output that say something went wrong, ``secrets`` masked.

    debconf's debug lines are left out: they hold the answers. Colours are taken out.
    """
    found: list[str] = []
    for raw in output.splitlines():
        line = COLOUR.sub("", raw).strip()
        if line.startswith("debconf ("):
            continue
        for secret in secrets:
            line = line.replace(secret, "***")
        if TROUBLE.search(line) and line[:160] not in found:
            found.append(line[:160])
    return found


@dataclass(frozen=True)
class Verdict:
    """How far one run got: minutes from apt-get install to the VM's metadata line, or where it stopped."""

    minutes: float | None
    # "phase: reason" of the first failure; empty when the run got there.
    stopped: str = ""


def one_line(text: str, limit: int = 240) -> str:
    """``text`` on one line of at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def last_line(stock: Verdict, rewired: Verdict | None) -> str:
    """The bench's last line: ``ratio=<stock/rewired>``, or ``ratio=none`` and where it stopped."""
    if stock.minutes is None:
        return f"ratio=none stopped-at={one_line(stock.stopped or 'unknown')}"
    if rewired is None:
        return f"ratio=none rewired=not-run stock-minutes={stock.minutes:.1f}"
    if rewired.minutes is None or rewired.minutes <= 0:
        return f"ratio=none rewired-stopped-at={one_line(rewired.stopped or 'unknown')}"
    return f"ratio={stock.minutes / rewired.minutes:.2f}"
