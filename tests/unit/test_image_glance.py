"""Glance upload at the HTTP seam: the exact requests, the checksum check, credentials."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from openstack_pkg_tools.errors import ConfigFileError
from openstack_pkg_tools.image import glance

DATA = b"qcow2 image bytes" * 1000


class Response:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def json(self) -> dict[str, Any]:
        return self.body


class FakeGlance:
    """Records each request; answers as Glance v2 does."""

    def __init__(self, checksum: str | None = None) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.uploaded = b""
        self.checksum = checksum

    def post(self, url: str, **kwargs: Any) -> Response:
        self.requests.append(("POST", url, kwargs))
        return Response({"id": "img-1", "status": "queued", **kwargs["json"]})

    def put(self, url: str, **kwargs: Any) -> Response:
        self.uploaded = kwargs["data"].read()
        self.requests.append(("PUT", url, {"headers": kwargs["headers"]}))
        return Response({})

    def patch(self, url: str, **kwargs: Any) -> Response:
        self.requests.append(("PATCH", url, kwargs))
        return Response({})

    def get(self, url: str, **kwargs: Any) -> Response:
        self.requests.append(("GET", url, kwargs))
        md5 = self.checksum or hashlib.md5(self.uploaded, usedforsecurity=False).hexdigest()
        return Response(
            {
                "id": "img-1",
                "name": "debian-12",
                "status": "active",
                "checksum": md5,
                "os_hash_value": hashlib.sha512(self.uploaded).hexdigest(),
            }
        )


@pytest.fixture
def image_file(tmp_path: object) -> str:
    path = os.path.join(str(tmp_path), "debian.qcow2")
    with open(path, "wb") as handle:
        handle.write(DATA)
    return path


def test_create_upload_set_properties_then_check(image_file: str) -> None:
    fake = FakeGlance()
    request = glance.UploadRequest(
        name="debian-12", disk_format="qcow2", properties={"os_distro": "debian", "hw_firmware_type": "uefi"}
    )
    image = glance.upload_with(fake, image_file, request)
    assert image.status == "active"
    assert image.checksum == hashlib.md5(DATA, usedforsecurity=False).hexdigest()
    assert fake.uploaded == DATA
    assert fake.requests == [
        (
            "POST",
            "/v2/images",
            {
                "json": {
                    "name": "debian-12",
                    "disk_format": "qcow2",
                    "container_format": "bare",
                    "visibility": "private",
                }
            },
        ),
        ("PUT", "/v2/images/img-1/file", {"headers": {"Content-Type": "application/octet-stream"}}),
        (
            "PATCH",
            "/v2/images/img-1",
            {
                "data": json.dumps(
                    [
                        {"op": "add", "path": "/hw_firmware_type", "value": "uefi"},
                        {"op": "add", "path": "/os_distro", "value": "debian"},
                    ]
                ),
                "headers": {"Content-Type": "application/openstack-images-v2.1-json-patch"},
            },
        ),
        ("GET", "/v2/images/img-1", {}),
    ]


def test_a_damaged_upload_is_an_error(image_file: str) -> None:
    with pytest.raises(glance.GlanceError, match=r"has checksum 0000, but .* the upload was damaged"):
        glance.upload_with(FakeGlance(checksum="0000"), image_file, glance.UploadRequest("x", "qcow2"))


def test_properties_from_manifest() -> None:
    uefi = glance.properties_from_manifest({"inputs": {"release": "trixie"}, "boot_type": "uefi"})
    assert uefi == {
        "os_distro": "debian",
        "os_type": "linux",
        "architecture": "x86_64",
        "os_version": "13",
        "hw_firmware_type": "uefi",
        "hw_machine_type": "q35",
    }
    bios = glance.properties_from_manifest({"inputs": {"release": "bookworm"}, "boot_type": "mbr"})
    assert "hw_firmware_type" not in bios and bios["os_version"] == "12"


def test_disk_format_from_extension() -> None:
    assert glance.disk_format("/x/a.qcow2") == "qcow2"
    assert glance.disk_format("a.raw") == "raw"
    with pytest.raises(glance.GlanceError, match="cannot tell the disk format"):
        glance.disk_format("a.img")


def test_credentials_from_os_variables() -> None:
    environ = {
        "OS_AUTH_URL": "http://k:5000/v3",
        "OS_USERNAME": "admin",
        "OS_PASSWORD": "pw",
        "OS_PROJECT_NAME": "admin",
        "OS_REGION_NAME": "regionOne",
        "HOME": "/root",
    }
    assert glance.credentials(environ, None) == {
        "auth_url": "http://k:5000/v3",
        "username": "admin",
        "password": "pw",
        "project_name": "admin",
        "region_name": "regionOne",
    }


def test_missing_credentials_are_named_not_shown() -> None:
    with pytest.raises(glance.GlanceError, match="OS_AUTH_URL, OS_PROJECT_NAME not set") as error:
        glance.credentials({"OS_USERNAME": "u", "OS_PASSWORD": "hunter2"}, None)
    assert "hunter2" not in str(error.value)


def test_credentials_from_a_clouds_yaml_entry() -> None:
    entry = {"auth": {"auth_url": "http://k/v3", "username": "u", "password": "p"}, "region_name": "r1"}
    assert glance.credentials({}, entry) == {
        "auth_url": "http://k/v3",
        "username": "u",
        "password": "p",
        "region_name": "r1",
    }


def test_a_broken_clouds_yaml_is_refused_without_quoting_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  c:\n    auth:\n      password: 'unterminated hunter2\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    with pytest.raises(ConfigFileError, match="is not valid YAML") as error:
        glance.upload(str(tmp_path / "x.raw"), glance.UploadRequest("x", "raw"), {"OS_CLOUD": "c"})
    assert "hunter2" not in str(error.value)
