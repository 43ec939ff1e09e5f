"""A service package's real generated postinst against a Keystone set up by the keystone profile.

The Keystone of the session is given what the keystone profile's postinst
makes once Keystone serves (its ``[keystone_bootstrap]``: the service
project and Debian's roles, through ``plans.bootstrap_plan``). Then
``pkgos gen-debian`` writes placement-common's maintainer scripts and
templates from the shipped placement profile (renamed ``pkgostest-*`` so
that its system user and directories are the test's own), po2debconf
makes the templates debconf loads, and the postinst runs under debconf's
frontend, non-interactively, with a private debconf database holding the
preseeded answers (the machine's own is untouched). It creates the
service user in Keystone: the test finds it in the ``service`` project
with exactly the roles the profile gives.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from openstack_pkg_tools.keystone import KeystoneClient
from openstack_pkg_tools.keystone_bootstrap import ensure_service_project
from openstack_pkg_tools.maintscript.plans import bootstrap_plan
from openstack_pkg_tools.profile import load
from openstack_pkg_tools.questions import Family, of_family
from tests.preseed_examples import DEBCONF_CONF
from tests.servers.keystone import KeystoneServer

ROOT = Path(__file__).resolve().parents[3]
NAME = "pkgostest-placement"
PACKAGE = f"{NAME}-common"
SERVICE_PASSWORD = "Pl@cement$ervice|pw&1"
# What the postinst makes on the machine, removed after the test by name.
MADE = (f"/etc/{NAME}", f"/var/lib/{NAME}", f"/var/log/{NAME}", f"/usr/share/{PACKAGE}")


def _run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture
def machine() -> Iterator[None]:
    """Removes, after the test, the user, group and directories the postinst made."""
    yield
    for path in MADE:
        shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["deluser", "--system", "--quiet", NAME], check=False, capture_output=True)
    subprocess.run(["delgroup", "--system", "--quiet", NAME], check=False, capture_output=True)


def _keystone_profiles_bootstrap(keystone: KeystoneServer) -> tuple[str, tuple[str, ...]]:
    """The keystone profile's project and roles, made as its postinst makes them once Keystone runs."""
    answers = {question.name: question.default for question in of_family(Family.KEYSTONE)}
    answers |= {
        "create-admin-tenant": "true",
        "admin-user": keystone.admin_username,
        "admin-tenant-name": keystone.admin_project,
        "admin-password": keystone.admin_password,
        "admin-password-confirm": keystone.admin_password,
    }
    plan = bootstrap_plan(load("keystone"), answers, "127.0.0.1")
    ensure_service_project(KeystoneClient(keystone.credentials()), plan.project, plan.roles)
    return plan.project, plan.roles


def _renamed_placement_profile(directory: Path) -> Path:
    """The shipped placement profile under the test's own names (questions keep placement/)."""
    text = (ROOT / "openstack_pkg_tools" / "profiles" / "placement.toml").read_text()
    assert '\nname = "placement"\n' in text
    text = text.replace('\nname = "placement"\n', f'\nname = "{NAME}"\nprefix = "placement"\n')
    path = directory / f"{NAME}.toml"
    path.write_text(text)
    return path


def _preseed(keystone: KeystoneServer) -> str:
    answers = {
        "configure_db": ("boolean", "false"),
        "configure_ksat": ("boolean", "true"),
        "ksat-public-url": ("string", keystone.auth_url.removesuffix("/v3")),
        "ksat-region": ("string", keystone.region),
        "ksat-create-service-user": ("boolean", "true"),
        "ksat-admin-username": ("string", keystone.admin_username),
        "ksat-admin-project-name": ("string", keystone.admin_project),
        "ksat-admin-password": ("password", keystone.admin_password),
        "ksat-service-username": ("string", NAME),
        "ksat-service-project-name": ("string", "service"),
        "ksat-service-password": ("password", SERVICE_PASSWORD),
    }
    return "".join(f"{PACKAGE} placement/{name} {kind} {value}\n" for name, (kind, value) in answers.items())


def test_the_generated_postinst_makes_the_service_user_with_the_profiles_roles(
    keystone: KeystoneServer, tmp_path: Path, machine: None
) -> None:
    project, roles = _keystone_profiles_bootstrap(keystone)
    assert project == "service" and {"service", "admin"} <= set(roles)

    env = {
        "PATH": f"{ROOT / '.venv' / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/root",
        "PYTHONPATH": str(ROOT),
        "DEBIAN_FRONTEND": "noninteractive",
        "DEBCONF_SYSTEMRC": str(tmp_path / "debconf.conf"),
    }
    (tmp_path / "debconf.conf").write_text(DEBCONF_CONF.format(dir=tmp_path))
    debian = tmp_path / "debian"
    debian.mkdir()
    profile = _renamed_placement_profile(tmp_path)
    _run(["pkgos", "gen-debian", str(profile), PACKAGE, "--debian-dir", str(debian)], env)
    # As dpkg has them: the localized templates beside the script.
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    templates = _run(["po2debconf", f"{PACKAGE}.templates"], env, cwd=debian)
    (scripts / f"{PACKAGE}.templates").write_text(templates)
    postinst = scripts / f"{PACKAGE}.postinst"
    shutil.copy(debian / f"{PACKAGE}.postinst", postinst)
    os.chmod(postinst, 0o755)
    # The package's default config file, where a package ships it.
    os.makedirs(f"/usr/share/{PACKAGE}")
    Path(f"/usr/share/{PACKAGE}/placement.conf").write_text("[DEFAULT]\n")

    _run(["debconf-loadtemplate", PACKAGE, str(scripts / f"{PACKAGE}.templates")], env)
    subprocess.run(["debconf-set-selections"], input=_preseed(keystone), env=env, text=True, check=True)
    output = _run([str(postinst), "configure", ""], env)
    assert SERVICE_PASSWORD not in output and keystone.admin_password not in output

    client = KeystoneClient(keystone.credentials())
    [user] = client.get("/users", {"name": NAME})["users"]
    [service] = client.get("/projects", {"name": "service"})["projects"]
    assignments = client.get("/role_assignments", {"user.id": user["id"], "include_names": "true"})
    given = {(a["scope"]["project"]["name"], a["role"]["name"]) for a in assignments["role_assignments"]}
    authtoken = load("placement").authtoken
    assert authtoken is not None
    assert given == {(service["name"], role) for role in authtoken.roles}
    assert given == {("service", "service"), ("service", "admin")}
    conf = Path(f"/etc/{NAME}/placement.conf").read_text()
    assert f"username = {NAME}\n" in conf and f"region_name = {keystone.region}\n" in conf

    # The postinst forgot the administrator's password and turned configure_ksat off:
    # configured again, it changes nothing.
    again = _run([str(postinst), "configure", "1.0"], env)
    assert "already set up: nothing changed." in again
