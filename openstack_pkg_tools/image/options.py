"""What to build: the typed inputs of an image build.

The command line (``pkgos build-image`` and the reference-compatible
``build-openstack-debian-image``) is turned into one frozen ``ImageOptions``
before anything is started, so bad input is refused before any work.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field
from enum import StrEnum

from ..errors import InvalidValueError


class BootType(StrEnum):
    """Which firmware the image boots with."""

    MBR = "mbr"  # BIOS (SeaBIOS, legacy)
    UEFI = "uefi"
    HYBRID = "hybrid"  # both, from the same disk


class Backend(StrEnum):
    """The program that bootstraps the root tree."""

    MMDEBSTRAP = "mmdebstrap"
    DEBOOTSTRAP = "debootstrap"


@dataclass(frozen=True)
class Release:
    """What differs between the Debian releases the builder supports."""

    name: str
    deb822_sources: bool
    dhcp_client: str


RELEASES = {
    "bookworm": Release("bookworm", deb822_sources=False, dhcp_client="isc-dhcp-client"),
    "trixie": Release("trixie", deb822_sources=True, dhcp_client="dhcpcd-base"),
}

ARCHITECTURES = ("amd64",)
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY_MIRROR = "http://security.debian.org/debian-security"
DEFAULT_COMPONENTS = ("main",)
MIB = 1024 * 1024
MIN_IMAGE_SIZE = 1024 * MIB

# Matched with fullmatch: "$" would also match before a trailing newline,
# and a name or URL with a newline would reach sources.list or a shell line.
_SIZE = re.compile(r"([0-9]{1,15})([KMGT]?)(i?B)?", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": MIB, "G": 1024 * MIB, "T": 1024 * 1024 * MIB}
_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
_MIRROR = re.compile(r"(https?|file)://[\x21-\x7e]+")
_LOGIN = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_COMPONENT = re.compile(r"[a-z0-9][a-z0-9_.-]*(/[a-z0-9_.-]+)?")
MAX_IMAGE_SIZE = (
    16 * 1024 * 1024 * MIB
)  # 16 TiB: qemu-img's and ext4's practical bounds are far above any image


@dataclass(frozen=True)
class ImageOptions:
    """Everything one image build needs; validated by ``validate()``."""

    release: str = "bookworm"
    architecture: str = "amd64"
    mirror: str = DEFAULT_MIRROR
    sources_mirror: str = DEFAULT_MIRROR
    security_mirror: str = DEFAULT_SECURITY_MIRROR
    components: tuple[str, ...] = DEFAULT_COMPONENTS
    extra_packages: tuple[str, ...] = ()
    minimal: bool = False
    boot_type: BootType = BootType.HYBRID
    image_size: int = 2048 * MIB
    # As the reference's -ar: shrink the image to its content plus
    # ``resize_space``; cloud-init grows it back to the instance's disk.
    automatic_resize: bool = False
    resize_space: int = 50 * MIB
    login: str = "debian"
    password_hash: str | None = field(default=None, repr=False)
    root_ssh_key: str | None = None
    hook_script: str | None = None
    output_dir: str = "."
    name: str | None = None  # file names without extension; default as the reference's
    backend: Backend = Backend.MMDEBSTRAP
    cache_dir: str | None = None
    raw: bool = True
    date: str = field(default_factory=lambda: datetime.date.today().strftime("%Y%m%d"))

    @property
    def release_info(self) -> Release:
        """The per-release facts for ``release``."""
        return RELEASES[self.release]

    def image_name(self, extension: str) -> str:
        """``<name>.<ext>``, by default named as the reference does: ``debian-<release>-<date>-<arch>``."""
        name = self.name or f"debian-{self.release}-{self.date}-{self.architecture}"
        return f"{name}.{extension}"


def parse_size(text: str) -> int:
    """Bytes from a size such as ``2G``, ``2048M``, ``3GiB`` or a plain byte count."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise InvalidValueError(
            f"Image size {text!r} is not a size.", hint="write it like 2G, 2048M or 3GiB."
        )
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def split_list(text: str) -> tuple[str, ...]:
    """Items of a comma- or space-separated list (``-e vim,curl``), empty items dropped."""
    return tuple(item for item in re.split(r"[\s,]+", text) if item)


def validate(options: ImageOptions) -> ImageOptions:
    """Return ``options`` unchanged, or raise InvalidValueError naming what is wrong."""
    if options.release not in RELEASES:
        raise InvalidValueError(
            f"Release {options.release!r} is not supported.",
            hint="use one of: " + ", ".join(RELEASES) + ".",
        )
    if options.architecture not in ARCHITECTURES:
        raise InvalidValueError(
            f"Architecture {options.architecture!r} is not supported.",
            hint="use one of: " + ", ".join(ARCHITECTURES) + ".",
        )
    if not MIN_IMAGE_SIZE <= options.image_size <= MAX_IMAGE_SIZE or options.image_size % MIB:
        raise InvalidValueError(
            f"Image size {options.image_size} bytes is too small or not a whole number of MiB.",
            hint="use 1G to 16T, in whole MiB (e.g. 2G).",
        )
    for package in options.extra_packages:
        if not _PACKAGE.fullmatch(package):
            raise InvalidValueError(
                f"Extra package {package!r} is not a Debian package name.",
                hint="separate packages with commas: -e vim,curl.",
            )
    for url in (options.mirror, options.sources_mirror, options.security_mirror):
        if not _MIRROR.fullmatch(url):
            raise InvalidValueError(
                f"Mirror {url!r} is not an http(s):// or file:// URL.",
                hint="e.g. http://deb.debian.org/debian.",
            )
    for component in options.components:
        if not _COMPONENT.fullmatch(component):
            raise InvalidValueError(
                f"Archive component {component!r} is not a component name.", hint="e.g. main,contrib."
            )
    if not _LOGIN.fullmatch(options.login):
        raise InvalidValueError(
            f"Login {options.login!r} is not a valid user name.", hint="use lower-case letters and digits."
        )
    _check_file("Hook script", options.hook_script, executable=True)
    _check_file("Root ssh key", options.root_ssh_key, executable=False)
    if options.name is not None and (
        not options.name
        or "/" in options.name
        or options.name.startswith(".")
        or not options.name.isprintable()
        or len(options.name.encode()) > 200
    ):
        raise InvalidValueError(
            f"Output name {options.name!r} is not a file name.", hint="e.g. -o debian-12."
        )
    if not os.path.isdir(options.output_dir):
        raise InvalidValueError(
            f"Output directory {options.output_dir} does not exist.", hint="create it first."
        )
    return options


def _check_file(what: str, path: str | None, *, executable: bool) -> None:
    if path is None:
        return
    if not os.path.isfile(path):
        raise InvalidValueError(f"{what} {path} does not exist.", hint="check the path.")
    if executable and not os.access(path, os.X_OK):
        raise InvalidValueError(f"{what} {path} is not executable.", hint=f"chmod +x {path}.")
