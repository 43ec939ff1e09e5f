"""cloud-init's configuration in the image.

The fixed part (datasources, growpart, ssh keys) is a data file,
``image-builder/cloud-init.cfg``. The part that depends on the options
(default user, password hash, root access) is generated here as JSON, which
cloud-init reads as YAML, so no YAML library is needed to write it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import InvalidValueError
from .options import ImageOptions

# In the image: the fixed file, and the generated one (mode 0600: it may
# hold a password hash).
DEFAULTS_PATH = "etc/cloud/cloud.cfg.d/01_pkgos.cfg"
USER_PATH = "etc/cloud/cloud.cfg.d/90_pkgos_user.cfg"

# A source checkout, then the Debian package's data directory.
_DATA_DIRS = (
    Path(__file__).resolve().parents[2] / "image-builder",
    Path("/usr/share/openstack-pkg-tools/image-builder"),
)


def data_dir() -> Path:
    """The directory of the image builder's data files (``PKGOS_IMAGE_BUILDER_DIR`` overrides)."""
    override = os.environ.get("PKGOS_IMAGE_BUILDER_DIR")
    candidates = (Path(override),) if override else _DATA_DIRS
    for candidate in candidates:
        if (candidate / "cloud-init.cfg").is_file():
            return candidate
    raise InvalidValueError(
        "The image builder's data files (cloud-init.cfg) were not found in "
        + ", ".join(str(c) for c in candidates)
        + ".",
        hint="reinstall openstack-pkg-tools, or set PKGOS_IMAGE_BUILDER_DIR to the image-builder directory.",
    )


def default_config() -> bytes:
    """The fixed cloud-init configuration shipped with the builder."""
    return (data_dir() / "cloud-init.cfg").read_bytes()


def user_config(options: ImageOptions) -> bytes:
    """The generated cloud-init configuration: default user, password, root access."""
    default_user: dict[str, object] = {
        "name": options.login,
        "lock_passwd": options.password_hash is None,
        "gecos": "Debian",
        "groups": ["adm", "sudo"],
        "sudo": ["ALL=(ALL) NOPASSWD:ALL"],
        "shell": "/bin/bash",
    }
    config: dict[str, object] = {"system_info": {"default_user": default_user}}
    if options.password_hash is not None:
        default_user["passwd"] = options.password_hash
        config["ssh_pwauth"] = True
    if options.root_ssh_key is not None:
        # Root logs in with the key given at build time, not cloud-init's
        # "please log in as debian" stub.
        config["disable_root"] = False
    return (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()
