"""Option parsing: pkgos build-image and the reference-compatible build-openstack-debian-image."""

from __future__ import annotations

import argparse
import os

import pytest

from openstack_pkg_tools.commands import image as command
from openstack_pkg_tools.errors import InvalidValueError
from openstack_pkg_tools.image.options import MIB, Backend, BootType, ImageOptions, parse_size, validate


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    command.add_build_arguments(parser)
    return parser.parse_args(argv)


def test_reference_short_options(tmp_path: object) -> None:
    out = str(tmp_path)
    args = parse(
        "-r", "trixie", "-u", "http://mirror.example/debian", "-s", "http://apt.example/debian",
        "-a", "amd64", "-bt", "uefi", "-is", "3G", "-ar", "-ars", "100M", "-e", "vim,curl htop",
        "-l", "admin", "-o", os.path.join(out, "my-image"), "-m",
    )  # fmt: skip
    options = command.options_from_args(args)
    assert options.release == "trixie"
    assert options.mirror == "http://mirror.example/debian"
    assert options.sources_mirror == "http://apt.example/debian"
    assert options.boot_type is BootType.UEFI
    assert options.image_size == 3072 * MIB
    assert options.automatic_resize is True
    assert options.resize_space == 100 * MIB
    assert options.extra_packages == ("vim", "curl", "htop")
    assert options.login == "admin"
    assert options.minimal is True
    assert options.output_dir == out
    assert options.image_name("qcow2") == "my-image.qcow2"


def test_long_options_and_defaults() -> None:
    options = command.options_from_args(parse("--release", "bookworm", "--hook-script", "/bin/true"))
    assert options.boot_type is BootType.HYBRID
    assert options.backend is Backend.MMDEBSTRAP
    assert options.image_size == 2048 * MIB
    assert options.sources_mirror == options.mirror == "http://deb.debian.org/debian"
    assert options.cache_dir == command.DEFAULT_CACHE
    assert options.hook_script == "/bin/true"
    assert options.image_name("raw") == f"debian-bookworm-{options.date}-amd64.raw"


def test_unknown_option_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    # The reference silently drops every option after an unknown one.
    with pytest.raises(SystemExit) as exit_info:
        command.compat_main(["-r", "bookworm", "--no-such-option", "-l", "x"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_abbreviations_are_refused() -> None:
    with pytest.raises(SystemExit):
        parse("--rel", "bookworm")


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2G", 2048 * MIB),
        ("2048M", 2048 * MIB),
        ("3GiB", 3072 * MIB),
        ("1T", 1024 * 1024 * MIB),
        ("512", 512),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_parse_size_refuses_garbage() -> None:
    with pytest.raises(InvalidValueError, match="'2 gigs' is not a size"):
        parse_size("2 gigs")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"release": "buster"}, "Release 'buster' is not supported"),
        ({"architecture": "ppc64el"}, "Architecture 'ppc64el'"),
        ({"image_size": 512 * MIB}, "too small"),
        ({"extra_packages": ("vim;rm",)}, "'vim;rm' is not a Debian package name"),
        ({"mirror": "ftp://x"}, "'ftp://x' is not an http"),
        ({"login": "Root Admin"}, "not a valid user name"),
        ({"hook_script": "/nonexistent/hook"}, "Hook script /nonexistent/hook does not exist"),
        ({"output_dir": "/nonexistent/dir"}, "Output directory /nonexistent/dir does not exist"),
        ({"name": ".hidden"}, "is not a file name"),
    ],
)
def test_validate_refuses(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        validate(ImageOptions(**change))  # type: ignore[arg-type]


def test_hook_must_be_executable(tmp_path: object) -> None:
    hook = os.path.join(str(tmp_path), "hook")
    with open(hook, "w") as handle:
        handle.write("#!/bin/sh\n")
    with pytest.raises(InvalidValueError, match="is not executable"):
        validate(ImageOptions(hook_script=hook))


def test_build_needs_root_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert command.compat_main(["-r", "bookworm", "--no-cache"]) == 2
    assert "needs root" in capsys.readouterr().err
