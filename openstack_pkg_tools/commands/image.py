"""``pkgos build-image``, ``pkgos image-test``, ``pkgos image-upload``, and
``build-openstack-debian-image``, the reference builder's name and options."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import PkgosError
from ..image.options import (
    DEFAULT_MIRROR,
    DEFAULT_SECURITY_MIRROR,
    RELEASES,
    Backend,
    BootType,
    ImageOptions,
    parse_size,
    split_list,
    validate,
)

if TYPE_CHECKING:
    from ..image.qemu import Firmware

DEFAULT_CACHE = "/var/cache/openstack-pkg-tools/image"

BUILD_HELP = """\
Build a bootable Debian cloud image (qcow2 v3, compressed, and raw) for
Glance, with cloud-init, GRUB for BIOS and UEFI (Secure Boot through shim)
and a serial console. Needs root (the tree is bootstrapped and configured
in a chroot) but no loop device, device-mapper or mount: the disk is
assembled from plain files. Writes <name>.qcow2, <name>.raw,
<name>.manifest.json (inputs, packages, sizes, SHA-256) and SHA256SUMS.

The bootstrapped tree is cached by its inputs (release, mirror,
components, packages, backend): a second build with the same inputs skips
the bootstrap.
"""

BUILD_EPILOG = """\
The password of the default user is never taken from the command line:
'-p -' reads it from stdin, '-p FILE' from a file only its owner can read.
It is stored hashed (SHA-512 crypt).

example:
  pkgos build-image --release bookworm --minimal -o /srv/images/debian-12
"""

TEST_HELP = """\
Boot IMAGE under qemu-system-x86_64 (TCG, -cpu max) with SeaBIOS, OVMF,
and OVMF with Secure Boot on (when the image has shim), each from a
throw-away overlay one GiB larger than the image, with a NoCloud seed.
Checks that cloud-init finished without errors, that the root file system
grew to the disk, and that the machine powered off; prints the boot times.
Each boot takes 2-3 minutes without KVM.
"""


UPLOAD_HELP = """\
Upload IMAGE to Glance (v2 API): create the image, upload the data, set
its properties (os_distro=debian, os_version, hw_firmware_type=uefi for a
UEFI-only image, taken from the manifest beside the image), then compare
Glance's checksum with the file's. Credentials come from the OS_*
variables (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, ...)
or from clouds.yaml with OS_CLOUD, never from the command line.
"""


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """The build options, named as the reference builder names them."""
    parser.add_argument(
        "-r", "--release", default="bookworm", choices=sorted(RELEASES), help="Debian release"
    )
    parser.add_argument("-a", "--architecture", default="amd64", help="architecture (amd64)")
    parser.add_argument(
        "-u", "--debootstrap-url", default=DEFAULT_MIRROR, metavar="URL", help="mirror to bootstrap from"
    )
    parser.add_argument(
        "-s",
        "--sources.list-mirror",
        dest="sources_mirror",
        metavar="URL",
        help="mirror in the image's sources",
    )
    parser.add_argument("--security-mirror", default=DEFAULT_SECURITY_MIRROR, metavar="URL")
    parser.add_argument("--components", default="main", help="archive components, comma separated")
    parser.add_argument(
        "-e", "--extra-packages", default="", metavar="PKG,PKG", help="more packages to install"
    )
    parser.add_argument("-m", "--minimal", action="store_true", help="only what booting and cloud-init need")
    parser.add_argument(
        "-bt",
        "--boot-type",
        default=BootType.HYBRID,
        choices=[b.value for b in BootType],
        help="default: hybrid",
    )
    parser.add_argument("-is", "--image-size", default="2G", metavar="SIZE", help="disk size (default: 2G)")
    parser.add_argument(
        "-ar", "--automatic-resize", action="store_true", help="shrink the image to its content plus -ars"
    )
    parser.add_argument(
        "-ars", "--automatic-resize-space", default="50M", metavar="SIZE", help="free space kept by -ar"
    )
    parser.add_argument("-l", "--login", default="debian", help="default user (default: debian)")
    parser.add_argument(
        "-p", "--password", metavar="-|FILE", help="default user's password: '-' for stdin, or a 0600 file"
    )
    parser.add_argument("--root-ssh-key", metavar="FILE", help="public key allowed to log in as root")
    parser.add_argument(
        "-hs",
        "--hook-script",
        metavar="FILE",
        help="run with BODI_CHROOT_PATH set to the tree; its failure fails the build",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="output path without extension (default: ./debian-RELEASE-DATE-ARCH)",
    )
    parser.add_argument(
        "--backend",
        default=Backend.MMDEBSTRAP,
        choices=[b.value for b in Backend],
        help="default: mmdebstrap",
    )
    parser.add_argument("--cache-dir", default=DEFAULT_CACHE, metavar="DIR", help=f"default: {DEFAULT_CACHE}")
    parser.add_argument("--no-cache", action="store_true", help="bootstrap afresh, store nothing")
    parser.add_argument("--no-raw", action="store_true", help="keep only the qcow2 image")


def options_from_args(args: argparse.Namespace) -> ImageOptions:
    """Validated ImageOptions from parsed arguments (reads and hashes the password)."""
    from ..image.password import hash_password, read_password  # noqa: PLC0415 (kept out of `pkgos --help`)

    output_dir, name = ".", None
    if args.output:
        output_dir, name = os.path.split(args.output)
        output_dir = output_dir or "."
    options = ImageOptions(
        release=args.release,
        architecture=args.architecture,
        mirror=args.debootstrap_url,
        sources_mirror=args.sources_mirror or args.debootstrap_url,
        security_mirror=args.security_mirror,
        components=split_list(args.components),
        extra_packages=split_list(args.extra_packages),
        minimal=args.minimal,
        boot_type=BootType(args.boot_type),
        image_size=parse_size(args.image_size),
        automatic_resize=args.automatic_resize,
        resize_space=parse_size(args.automatic_resize_space),
        login=args.login,
        root_ssh_key=args.root_ssh_key,
        hook_script=args.hook_script,
        output_dir=output_dir,
        name=name,
        backend=Backend(args.backend),
        cache_dir=None if args.no_cache else args.cache_dir,
        raw=not args.no_raw,
    )
    validate(options)
    if args.password is not None:
        options = replace(options, password_hash=hash_password(read_password(args.password)))
    return options


def _build(args: argparse.Namespace) -> int:
    from ..image import builder  # noqa: PLC0415 (kept out of `pkgos --help`)

    options = options_from_args(args)
    if os.geteuid() != 0:
        raise PkgosError(
            "Building an image needs root (the tree is bootstrapped and configured in a chroot).",
            hint="run it as root, e.g. with sudo.",
        )
    result = builder.build(options)
    print(builder.summary(result), end="")
    return 0


def _test(args: argparse.Namespace) -> int:
    from ..image import qemu  # noqa: PLC0415 (kept out of `pkgos --help`)

    if args.firmware:
        firmwares = [_firmware(name) for name in split_list(args.firmware)]
    else:
        firmwares = qemu.firmwares_for(manifest_beside(args.image))
    reports = qemu.boot_test(args.image, firmwares, keep_logs=not args.no_logs)
    for report in reports:
        print(
            f"{report.firmware}: booted, cloud-init finished without errors, root grew to "
            f"{report.root_bytes // (1024 * 1024)} MiB, powered off; boot time {report.seconds:.0f} s"
        )
    return 0


def _firmware(name: str) -> Firmware:
    from ..image import qemu  # noqa: PLC0415 (kept out of `pkgos --help`)

    try:
        return qemu.Firmware(name)
    except ValueError:
        raise PkgosError(
            f"Unknown firmware {name!r}.", hint="use bios, uefi or secureboot, comma separated."
        ) from None


def _upload(args: argparse.Namespace) -> int:
    from ..image import glance  # noqa: PLC0415 (kept out of `pkgos --help`)

    properties = {}
    manifest = manifest_beside(args.image)
    if manifest is not None:
        properties.update(glance.properties_from_manifest(manifest))
    for item in args.property:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise PkgosError(f"Property {item!r} is not KEY=VALUE.", hint="e.g. --property os_version=12.")
        properties[key] = value
    request = glance.UploadRequest(
        name=args.name,
        disk_format=args.disk_format or glance.disk_format(args.image),
        visibility=args.visibility,
        properties=properties,
    )
    image = glance.upload(args.image, request)
    print(f"{image.id} {image.name}: {image.status}, checksum {image.checksum}")
    return 0


def manifest_beside(image: str) -> dict[str, object] | None:
    """The manifest ``pkgos build-image`` wrote beside ``image``, if there is one."""
    path = os.path.splitext(image)[0] + ".manifest.json"
    if not os.path.isfile(path):
        return None
    with open(path) as handle:
        data = json.load(handle)
    return data if isinstance(data, dict) else None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pkgos build-image``, ``pkgos image-test`` and ``pkgos image-upload``."""
    build = _add(subparsers, "build-image", "build a bootable Debian cloud image for Glance", BUILD_HELP)
    build.epilog = BUILD_EPILOG
    add_build_arguments(build)
    build.set_defaults(handler=_build)

    test = _add(subparsers, "image-test", "boot an image under QEMU and check what it did", TEST_HELP)
    test.add_argument(
        "--firmware",
        metavar="LIST",
        help="comma-separated: bios, uefi, secureboot (default: what the image's manifest says)",
    )
    test.add_argument("--no-logs", action="store_true", help="do not keep the serial logs beside the image")
    test.set_defaults(handler=_test)

    upload = _add(subparsers, "image-upload", "upload an image to Glance (OS_* or clouds.yaml)", UPLOAD_HELP)
    upload.add_argument("--name", required=True, help="the image's name in Glance")
    upload.add_argument("--disk-format", choices=["qcow2", "raw"], help="default: from the file's extension")
    upload.add_argument(
        "--visibility", default="private", choices=["private", "shared", "community", "public"]
    )
    upload.add_argument(
        "--property", action="append", default=[], metavar="KEY=VALUE", help="extra property (repeatable)"
    )
    upload.set_defaults(handler=_upload)


def _add(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    description: str,
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name,
        help=help_text,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    if name != "build-image":
        parser.add_argument("image", metavar="IMAGE", help="qcow2 or raw image")
    return parser


def compat_main(argv: Sequence[str] | None = None) -> int:
    """``build-openstack-debian-image``: the reference builder's command, same options."""
    from ..cli import run_handler  # noqa: PLC0415 (cli imports this module)

    parser = argparse.ArgumentParser(
        prog="build-openstack-debian-image",
        description=BUILD_HELP,
        epilog=BUILD_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    add_build_arguments(parser)
    parser.set_defaults(handler=_build)
    return run_handler(parser.parse_args(argv))
