"""Upload an image to Glance (v2 API) through keystoneauth1.

Credentials come from the ``OS_*`` environment variables or from a
clouds.yaml entry (``OS_CLOUD``), never from the command line. Three
steps, as Glance v2 wants them: create the image record, upload the data,
set the properties (``os_distro=debian``, ``hw_firmware_type=uefi`` for a
UEFI-only image, ...); then Glance's own checksum is compared with the
file's.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import PkgosError
from ..keystone.client import password_session
from ..keystone.credentials import cloud_entry
from ..keystone.model import DEFAULT_DOMAIN, AdminCredentials

OS_VERSIONS = {"bookworm": "12", "trixie": "13"}
JSON_PATCH = "application/openstack-images-v2.1-json-patch"
CHUNK = 1 << 20
# keystoneauth1's v3 password plugin options (OS_<NAME> in the environment).
PLUGIN_KEYS = ("auth_url", "username", "password", "project_name", "user_domain_name", "project_domain_name")


class GlanceError(PkgosError):
    """Glance refused the image, or reports something else than what was sent."""


class HttpAdapter(Protocol):
    """The part of keystoneauth1's Adapter this module uses (the HTTP seam)."""

    def post(self, url: str, **kwargs: Any) -> Any: ...
    def put(self, url: str, **kwargs: Any) -> Any: ...
    def patch(self, url: str, **kwargs: Any) -> Any: ...
    def get(self, url: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class UploadRequest:
    """What to create in Glance."""

    name: str
    disk_format: str
    visibility: str = "private"
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GlanceImage:
    """The image as Glance reports it after the upload."""

    id: str
    name: str
    status: str
    checksum: str
    os_hash_value: str


def disk_format(path: str) -> str:
    """Glance's disk_format for an image file, from its extension."""
    extension = os.path.splitext(path)[1].lstrip(".")
    if extension not in ("qcow2", "raw"):
        raise GlanceError(f"{path}: cannot tell the disk format.", hint="name the file .qcow2 or .raw.")
    return extension


def properties_from_manifest(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Glance properties that describe an image built by ``pkgos build-image``."""
    inputs = manifest.get("inputs", {})
    release = str(inputs.get("release", ""))
    props = {"os_distro": "debian", "os_type": "linux", "architecture": "x86_64"}
    if release in OS_VERSIONS:
        props["os_version"] = OS_VERSIONS[release]
    if manifest.get("boot_type") == "uefi":
        props["hw_firmware_type"] = "uefi"
    if manifest.get("boot_type") in ("uefi", "hybrid"):
        props["hw_machine_type"] = "q35"
    return props


def patch_document(properties: Mapping[str, str]) -> list[dict[str, str]]:
    """The JSON-patch that sets ``properties`` on an image."""
    return [{"op": "add", "path": f"/{key}", "value": value} for key, value in sorted(properties.items())]


def file_hashes(path: str) -> tuple[str, str]:
    """The MD5 (Glance's ``checksum``) and SHA-512 (its ``os_hash_value``) of ``path``."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha512 = hashlib.sha512()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            md5.update(chunk)
            sha512.update(chunk)
    return md5.hexdigest(), sha512.hexdigest()


def upload_with(adapter: HttpAdapter, path: str, request: UploadRequest) -> GlanceImage:
    """Create, upload and describe the image through ``adapter``; check Glance's checksum."""
    md5, sha512 = file_hashes(path)
    body = {
        "name": request.name,
        "disk_format": request.disk_format,
        "container_format": "bare",
        "visibility": request.visibility,
    }
    created = adapter.post("/v2/images", json=body).json()
    image_id = created["id"]
    with open(path, "rb") as data:
        adapter.put(
            f"/v2/images/{image_id}/file", data=data, headers={"Content-Type": "application/octet-stream"}
        )
    if request.properties:
        adapter.patch(
            f"/v2/images/{image_id}",
            data=json.dumps(patch_document(request.properties)),
            headers={"Content-Type": JSON_PATCH},
        )
    shown = adapter.get(f"/v2/images/{image_id}").json()
    image = GlanceImage(
        id=image_id,
        name=shown.get("name", ""),
        status=shown.get("status", ""),
        checksum=shown.get("checksum") or "",
        os_hash_value=shown.get("os_hash_value") or "",
    )
    if image.checksum != md5 or (image.os_hash_value and image.os_hash_value != sha512):
        raise GlanceError(
            f"Glance image {image_id} ({request.name}) has checksum {image.checksum}, "
            f"but {path} has {md5}: the upload was damaged.",
            hint=f"delete it (openstack image delete {image_id}) and upload again.",
        )
    return image


def credentials(environ: Mapping[str, str], clouds: Mapping[str, Any] | None) -> dict[str, str]:
    """keystoneauth1 password-plugin options and region/interface, from a clouds.yaml entry or OS_*."""
    if clouds is not None:
        auth = {key: str(value) for key, value in clouds.get("auth", {}).items()}
        for key in ("region_name", "interface"):
            if key in clouds:
                auth[key] = str(clouds[key])
        return auth
    names = (*PLUGIN_KEYS, "region_name", "interface")
    found = {name: environ[f"OS_{name.upper()}"] for name in names if environ.get(f"OS_{name.upper()}")}
    missing = [
        f"OS_{n.upper()}" for n in ("auth_url", "username", "password", "project_name") if n not in found
    ]
    if missing:
        raise GlanceError(
            "No OpenStack credentials: " + ", ".join(missing) + " not set and OS_CLOUD not given.",
            hint="source an openrc file, or set OS_CLOUD to an entry of clouds.yaml.",
        )
    return found


def adapter_for(creds: Mapping[str, str]) -> HttpAdapter:
    """A keystoneauth1 Adapter for the image service of the cloud ``creds`` describe."""
    from keystoneauth1 import adapter  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415

    login = AdminCredentials(
        auth_url=creds.get("auth_url", ""),
        username=creds.get("username", ""),
        password=creds.get("password", ""),
        project_name=creds.get("project_name", ""),
        user_domain_name=creds.get("user_domain_name", DEFAULT_DOMAIN),
        project_domain_name=creds.get("project_domain_name", DEFAULT_DOMAIN),
    )
    return adapter.Adapter(  # type: ignore[no-any-return]
        # No timeout: Glance answers the upload only once it has stored the image.
        session=password_session(login, timeout=None),
        service_type="image",
        interface=creds.get("interface", "public"),
        region_name=creds.get("region_name"),
    )


def upload(path: str, request: UploadRequest, environ: Mapping[str, str] | None = None) -> GlanceImage:
    """Upload ``path`` to the Glance of the cloud in the environment."""
    from keystoneauth1 import exceptions  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415

    environ = os.environ if environ is None else environ
    cloud = environ.get("OS_CLOUD")
    creds = credentials(environ, cloud_entry(cloud)[0] if cloud else None)
    try:
        return upload_with(adapter_for(creds), path, request)
    except exceptions.ClientException as error:
        # keystoneauth1's messages carry the URL and status, never the password.
        raise GlanceError(
            f"Uploading {path} to Glance at {creds.get('auth_url')} failed: {error}",
            hint="check the credentials, the region and that the image service is in the catalog.",
        ) from None
