"""Keystone and Glance as consumer packages of the toolkit, built from Debian's code.

Each folder of ``demo/packages/`` holds what a packager writes for one
service: the binary package's ``control`` stanza, its service ``profile.toml``,
the files it installs in ``/usr/share/<package>/`` (default configuration,
uwsgi settings). Everything else of its debian/ side (merged templates,
translations, the config, postinst and postrm scripts, which carry the
profile) comes from ``pkgos gen-debian``: Keystone's bootstrap too, from its
profile's ``[keystone_bootstrap]`` and Debian's ``keystone/*`` questions.

``@PACKAGE@`` and ``@VERSION@`` in those files are the package's name and
version, so that ``make demo-short`` and the tests can install the same package
under different names; ``@TOOLKIT@`` is the dependency on the toolkit's own
package (the tests run the toolkit from the source tree instead).

The package is assembled with ``dpkg-deb`` from a file tree, with no
compiler or debhelper involved, so a build takes about a second.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGES = Path(__file__).resolve().parent / "packages"
PHASES = ("config", "postinst", "postrm")
# The files of a package's folder that are not installed in /usr/share/<package>/.
RECIPE_FILES = frozenset({"control", "profile.toml"})
TOOLKIT_DEPENDENCY = "openstack-pkg-tools, "

# run(argv) -> stdout; raises when the command fails.
Runner = Callable[[Sequence[str]], str]


@dataclass(frozen=True)
class Consumer:
    """One consumer package to build: which service, under which name and version."""

    service: str  # a folder of demo/packages: keystone, glance
    package: str
    version: str
    depends_on_toolkit: bool = True

    def fill(self, text: str) -> str:
        """``text`` with the package's name, version and toolkit dependency filled in."""
        toolkit = TOOLKIT_DEPENDENCY if self.depends_on_toolkit else ""
        return (
            text.replace("@PACKAGE@", self.package)
            .replace("@VERSION@", self.version)
            .replace("@TOOLKIT@", toolkit)
        )

    def recipe(self, name: str) -> str:
        """A file of the service's folder, filled in; empty if the folder has none."""
        path = PACKAGES / self.service / name
        return self.fill(path.read_text()) if path.exists() else ""


def build(consumer: Consumer, workdir: Path, pkgos: Sequence[str], run: Runner) -> Path:
    """Build ``consumer``'s .deb in ``workdir`` with the ``pkgos`` command given; return its path."""
    package = consumer.package
    source = workdir / f"{package}-{consumer.version}"
    debian = source / "debian"
    debian.mkdir(parents=True)
    (source / "profile.toml").write_text(consumer.recipe("profile.toml"))
    control = consumer.recipe("control")
    (debian / "control").write_text(f"Source: {package}\n\n{control}")
    run(
        [
            *pkgos,
            "gen-debian",
            str(source / "profile.toml"),
            package,
            "--debian-dir",
            str(debian),
            "--shell",
        ]
    )

    tree = workdir / f"tree-{package}-{consumer.version}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(control)
    (tree / "DEBIAN" / "templates").write_text(run(["po2debconf", str(debian / f"{package}.templates")]))
    for phase in PHASES:
        # No debhelper snippets in this package: the marker goes.
        script = (debian / f"{package}.{phase}").read_text().replace("#DEBHELPER#", "")
        path = tree / "DEBIAN" / phase
        path.write_text(script)
        path.chmod(0o755)
    share = tree / "usr" / "share" / package
    share.mkdir(parents=True)
    for path in sorted((PACKAGES / consumer.service).iterdir()):
        if path.name not in RECIPE_FILES:
            (share / path.name).write_text(consumer.fill(path.read_text()))
    deb = workdir / f"{package}_{consumer.version}_all.deb"
    run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)])
    return deb
