"""pkgos image-upload against a real Glance and a real Keystone, credentials from OS_*."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from tests.servers.glance import GlanceServer, admin_session, glance_server
from tests.servers.keystone import KeystoneServer, keystone_server

from .conftest import PKGOS


@pytest.fixture(scope="module")
def cloud() -> Iterator[tuple[KeystoneServer, GlanceServer]]:
    keystone_dir = tempfile.mkdtemp(prefix="pkgos-image-keystone-")
    glance_dir = tempfile.mkdtemp(prefix="pkgos-image-glance-")
    try:
        with keystone_server(keystone_dir) as keystone, glance_server(glance_dir, keystone) as glance:
            yield keystone, glance
    finally:
        shutil.rmtree(keystone_dir, ignore_errors=True)
        shutil.rmtree(glance_dir, ignore_errors=True)


@pytest.fixture
def uefi_image() -> Iterator[str]:
    work = tempfile.mkdtemp(prefix="pkgos-image-upload-")
    image = os.path.join(work, "debian-up.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image, "64M"], check=True)
    with open(os.path.join(work, "debian-up.manifest.json"), "w") as handle:
        json.dump({"inputs": {"release": "bookworm"}, "boot_type": "uefi"}, handle)
    yield image
    shutil.rmtree(work, ignore_errors=True)


def test_upload_sets_properties_and_glance_checksum_matches(
    cloud: tuple[KeystoneServer, GlanceServer], uefi_image: str
) -> None:
    keystone, glance = cloud
    env = {key: value for key, value in os.environ.items() if not key.startswith("OS_")}
    env.update(keystone.os_environ())
    result = subprocess.run(
        [
            PKGOS,
            "image-upload",
            uefi_image,
            "--name",
            "pkgos-test-debian",
            "--property",
            "hw_disk_bus=virtio",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert keystone.admin_password not in result.stdout + result.stderr
    image_id = result.stdout.split()[0]

    from keystoneauth1 import adapter

    images = adapter.Adapter(session=admin_session(keystone), service_type="image", interface="public")
    shown = images.get(f"/v2/images/{image_id}").json()
    with open(uefi_image, "rb") as handle:
        data = handle.read()
    assert shown["status"] == "active"
    assert shown["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert shown["disk_format"] == "qcow2" and shown["container_format"] == "bare"
    assert shown["os_distro"] == "debian" and shown["os_version"] == "12"
    assert shown["hw_firmware_type"] == "uefi"
    assert shown["hw_disk_bus"] == "virtio"
    assert os.path.getsize(os.path.join(glance.store_dir, image_id)) == len(data)


def test_upload_without_credentials_names_what_is_missing(uefi_image: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OS_")}
    result = subprocess.run(
        [PKGOS, "image-upload", uefi_image, "--name", "x"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME not set" in result.stderr
