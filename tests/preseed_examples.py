"""Shared by the preseed tests: the example site's preseeds and rendered template text."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from openstack_pkg_tools.preseed import generate as preseed
from openstack_pkg_tools.preseed.check import toolkit_templates

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "preseed"
DEBCONF_CONF = """\
Config: configdb
Templates: templatedb

Name: configdb
Driver: File
Filename: {dir}/config.dat

Name: templatedb
Driver: File
Filename: {dir}/templates.dat
"""


def generate_example(directory: Path) -> None:
    """Generate the example site's preseeds in ``directory``, from copies of its files.

    Git does not keep the store's 0600 mode, which the generator demands.
    """
    shutil.copy(EXAMPLES / "example-site.toml", directory)
    shutil.copy(EXAMPLES / "example-secrets.toml", directory)
    os.chmod(directory / "example-secrets.toml", 0o600)
    preseed.generate(str(directory / "example-site.toml"), str(directory))


def rendered_templates() -> dict[str, str]:
    """Template text per file name, as the toolkit renders it into each package."""
    return {f"{package}.templates": text for package, text in toolkit_templates().items()}


def private_debconf(directory: Path) -> dict[str, str]:
    """A debconf database in ``directory`` holding the questions' templates; the environment selecting it.

    The templates are also left there as ``*.templates`` files, for
    ``pkgos preseed check --templates``.
    """
    (directory / "debconf.conf").write_text(DEBCONF_CONF.format(dir=directory))
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "DEBCONF_SYSTEMRC": str(directory / "debconf.conf")}
    paths = []
    for name, text in rendered_templates().items():
        paths.append(directory / name)
        paths[-1].write_text(text)
    subprocess.run(["debconf-loadtemplate", "pkgos-test", *map(str, paths)], env=env, check=True)
    return env
