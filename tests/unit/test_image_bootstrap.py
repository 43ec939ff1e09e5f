"""Bootstrap commands and the tree cache's key."""

from __future__ import annotations

from dataclasses import replace

from openstack_pkg_tools.image import bootstrap
from openstack_pkg_tools.image.options import Backend, ImageOptions


def test_minimal_spec_has_what_booting_and_cloud_init_need() -> None:
    spec = bootstrap.spec_for(ImageOptions(minimal=True, extra_packages=("htop",)))
    for package in ("linux-image-cloud-amd64", "cloud-init", "python3-cffi-backend", "shim-signed",
                    "grub-efi-amd64-signed", "grub-pc-bin", "isc-dhcp-client", "htop"):  # fmt: skip
        assert package in spec.packages
    assert "vim-tiny" not in spec.packages
    assert "vim-tiny" in bootstrap.spec_for(ImageOptions()).packages
    assert "dhcpcd-base" in bootstrap.spec_for(ImageOptions(release="trixie")).packages
    assert list(spec.packages) == sorted(spec.packages)


def test_argv_of_both_backends() -> None:
    spec = replace(bootstrap.spec_for(ImageOptions()), packages=("a", "b"))
    assert bootstrap.bootstrap_argv(spec, "/t") == [
        "mmdebstrap", "--variant=minbase", "--architectures=amd64", "--components=main",
        "--include=a,b", "bookworm", "/t", "http://deb.debian.org/debian",
    ]  # fmt: skip
    debootstrap = replace(spec, backend=Backend.DEBOOTSTRAP)
    assert bootstrap.bootstrap_argv(debootstrap, "/t") == [
        "debootstrap", "--variant=minbase", "--arch=amd64", "--components=main",
        "--include=a,b", "bookworm", "/t", "http://deb.debian.org/debian",
    ]  # fmt: skip


def test_cache_key_changes_with_every_input_and_only_with_them() -> None:
    spec = bootstrap.spec_for(ImageOptions())
    assert bootstrap.cache_key(spec) == bootstrap.cache_key(bootstrap.spec_for(ImageOptions(login="other")))
    changes = [
        {"backend": Backend.DEBOOTSTRAP},
        {"release": "trixie"},
        {"mirror": "http://other/debian"},
        {"components": ("main", "contrib")},
        {"packages": (*spec.packages, "htop")},
        {"prepared": "something else"},
    ]
    keys = {bootstrap.cache_key(replace(spec, **change)) for change in changes}  # type: ignore[arg-type]
    assert len(keys) == len(changes) and bootstrap.cache_key(spec) not in keys
    assert bootstrap.cache_file("/c", spec).startswith("/c/tree-bookworm-amd64-")
