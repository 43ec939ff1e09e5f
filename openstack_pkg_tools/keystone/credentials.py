"""Where the admin credentials come from: OS_* variables, clouds.yaml, a 0600 file.

The password is never taken from the command line. A credentials file must
not be readable by group or others (it would leak the admin password to
every local user), and its format is the one of an openrc file: ``OS_*``
assignments, one per line, ``export`` and shell quotes allowed.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigFileError, InvalidValueError
from ..fileio import read_bytes
from ..secretfile import read_secret_file
from .model import DEFAULT_DOMAIN, AdminCredentials

CLOUDS_YAML_PATHS = (
    "clouds.yaml",
    os.path.expanduser("~/.config/openstack/clouds.yaml"),
    "/etc/openstack/clouds.yaml",
)


def from_variables(variables: Mapping[str, str], origin: str) -> AdminCredentials:
    """Credentials from ``OS_*`` variables (the environment or a file's lines)."""
    missing = [name for name in ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD") if not variables.get(name)]
    if missing:
        raise InvalidValueError(
            f"No Keystone admin credentials in {origin}: {', '.join(missing)} not set.",
            hint="set the OS_* variables (source an openrc), name a cloud with --os-cloud, "
            "or give --admin-file with a 0600 file.",
        )
    return AdminCredentials(
        auth_url=variables["OS_AUTH_URL"],
        username=variables["OS_USERNAME"],
        password=variables["OS_PASSWORD"],
        project_name=variables.get("OS_PROJECT_NAME") or variables.get("OS_TENANT_NAME") or "admin",
        user_domain_name=variables.get("OS_USER_DOMAIN_NAME") or DEFAULT_DOMAIN,
        project_domain_name=variables.get("OS_PROJECT_DOMAIN_NAME") or DEFAULT_DOMAIN,
        cacert=variables.get("OS_CACERT") or None,
    )


def parse_openrc(text: str, path: str) -> dict[str, str]:
    """``OS_*`` assignments of an openrc-style file (``export`` and quotes allowed)."""
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        body = line.strip()
        if not body or body.startswith("#"):
            continue
        try:
            words = shlex.split(body.removeprefix("export "))
        except ValueError:
            words = []
        if len(words) != 1 or "=" not in words[0]:
            # The line is not echoed: it may hold the password.
            raise ConfigFileError(
                path,
                "not an OS_NAME=value assignment.",
                line=number,
                hint="write one OS_NAME=value per line.",
            )
        name, value = words[0].split("=", 1)
        variables[name] = value
    return variables


def from_file(path: str) -> AdminCredentials:
    """Credentials from an openrc-style file that only its owner can read."""
    return from_variables(parse_openrc(read_secret_file(path, whole=True), path), path)


def from_clouds_yaml(cloud: str, paths: Sequence[str] = CLOUDS_YAML_PATHS) -> AdminCredentials:
    """Credentials of ``cloud`` in the first clouds.yaml that defines it."""
    return _cloud_credentials(*cloud_entry(cloud, paths))


def cloud_entry(cloud: str, paths: Sequence[str] = CLOUDS_YAML_PATHS) -> tuple[dict[str, Any], str]:
    """The entry of ``cloud`` in the first clouds.yaml that defines it, and where it is (for messages)."""
    import yaml  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415 (only this needs it)

    candidates = (
        [os.environ["OS_CLIENT_CONFIG_FILE"]] if os.environ.get("OS_CLIENT_CONFIG_FILE") else list(paths)
    )
    for path in candidates:
        if not os.path.lexists(path):
            continue
        try:
            data = yaml.safe_load(read_bytes(path, limit=1024 * 1024)) or {}
        except yaml.YAMLError as error:
            # PyYAML's message quotes the offending line, which may hold a password.
            mark = getattr(error, "problem_mark", None)
            line = None if mark is None else mark.line + 1
            raise ConfigFileError(path, "is not valid YAML.", line=line, hint="fix the file.") from None
        clouds = data.get("clouds") if isinstance(data, dict) else None
        if clouds is not None and not isinstance(clouds, dict):
            raise ConfigFileError(
                path,
                "'clouds' is not a mapping of cloud names.",
                hint="see the clouds.yaml example in the docs.",
            )
        entry = (clouds or {}).get(cloud)
        if entry is not None and not isinstance(entry, dict):
            raise ConfigFileError(path, f"cloud {cloud!r} is not a mapping.", hint="fix the file.")
        if isinstance(entry, dict):
            return entry, f"cloud {cloud!r} of {path}"
    raise InvalidValueError(
        f"No cloud named {cloud!r} in {', '.join(candidates)}.",
        hint="check the name under 'clouds:' in clouds.yaml, or set OS_CLIENT_CONFIG_FILE.",
    )


def _cloud_credentials(entry: dict[str, Any], origin: str) -> AdminCredentials:
    auth = entry.get("auth") or {}
    if not isinstance(auth, dict) or not all(isinstance(value, str | int) for value in auth.values()):
        raise InvalidValueError(
            f"The 'auth' of {origin} is not a mapping of names to values.",
            hint="write auth_url, username, password... under auth:.",
        )
    variables = {
        "OS_AUTH_URL": auth.get("auth_url", ""),
        "OS_USERNAME": auth.get("username", ""),
        "OS_PASSWORD": auth.get("password", ""),
        "OS_PROJECT_NAME": auth.get("project_name", ""),
        "OS_USER_DOMAIN_NAME": auth.get("user_domain_name", ""),
        "OS_PROJECT_DOMAIN_NAME": auth.get("project_domain_name", ""),
        "OS_CACERT": entry.get("cacert", ""),
    }
    return from_variables({key: str(value) for key, value in variables.items()}, origin)


def load(admin_file: str | None, cloud: str | None, environ: Mapping[str, str]) -> AdminCredentials:
    """The admin credentials from the file, else the cloud, else the environment."""
    if admin_file:
        return from_file(admin_file)
    cloud = cloud or environ.get("OS_CLOUD")
    if cloud:
        return from_clouds_yaml(cloud)
    return from_variables(environ, "the environment")
