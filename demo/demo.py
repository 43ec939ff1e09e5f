#!/usr/bin/python3
"""A small real demonstration: configure Debian's nova.conf from answers.

Downloads Debian's nova-common package into .cache/demo, takes its sample
nova.conf (10,000 lines), and applies demo/answers.txt to it with ``pkgos
ini set`` (secrets through stdin), as a postinst applies debconf answers.
Then it shows the change, checks every value with oslo.config's own parser,
and runs again to show that nothing changes the second time.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".cache" / "demo"
sys.path.insert(0, str(ROOT / "tools"))
import debcache  # noqa: E402 (found through the path set just above)


def answers() -> list[tuple[str, str, str, bool]]:
    """(section, key, value, secret) from answers.txt, secrets generated."""
    result = []
    for line in (ROOT / "demo" / "answers.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        section, key, value = line.split(" ", 2)
        secret = "@random" in value
        result.append((section, key, value.replace("@random", secrets.token_urlsafe(18)), secret))
    return result


def apply(conf: Path, edits: list[tuple[str, str, str, bool]]) -> None:
    """One ``pkgos ini set`` per answer; values on stdin, never on the command line."""
    for section, key, value, _secret in edits:
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "pkgos"), "ini", "set", str(conf), section, key, "--stdin"],
            input=value + "\n",
            text=True,
            check=True,
        )


def check(conf: Path, edits: list[tuple[str, str, str, bool]]) -> None:
    """Read every value back with oslo.config's parser; stop at the first mismatch."""
    from oslo_config import cfg

    sections: dict[str, dict[str, list[str]]] = {}
    cfg.ConfigParser(str(conf), sections).parse()
    for section, key, value, secret in edits:
        if sections[section][key][-1] != value:
            sys.exit(f"demo: [{section}] {key} reads back wrong")
        shown = "(secret, not shown)" if secret else value
        print(f"  ok  [{section}] {key} = {shown}")


def main() -> None:
    """Run the demonstration."""
    print("==> Fetching Debian's nova-common into .cache/demo")
    sample = debcache.unpack(WORK, "nova-common") / "usr/share/nova-common/nova.conf"
    conf = WORK / "nova.conf"
    shutil.copy(sample, conf)
    os.chmod(conf, 0o640)
    edits = answers()
    print(f"==> Applying {len(edits)} answers from demo/answers.txt to {conf.relative_to(ROOT)}")
    apply(conf, edits)
    print("==> What changed (secret values hidden):")
    diff = subprocess.run(["diff", "-u", str(sample), str(conf)], capture_output=True, text=True, check=False)
    for line in diff.stdout.splitlines()[2:]:
        hidden = line.startswith("+") and any(value in line for _, _, value, secret in edits if secret)
        print("   ", line.split("=", 1)[0] + "= ***" if hidden else line)
    print("==> Reading every value back with oslo.config's own parser:")
    check(conf, edits)
    before = conf.stat().st_mtime_ns
    apply(conf, edits)
    print(
        "==> Applied again: the file was",
        "left untouched." if conf.stat().st_mtime_ns == before else "REWRITTEN!",
    )
    print(f"\nThe demonstration created only {WORK.relative_to(ROOT)}/; `make demo-clean` removes it.")


if __name__ == "__main__":
    main()
