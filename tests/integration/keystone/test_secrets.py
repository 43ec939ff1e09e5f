"""No password on any argv, in any child's environment or in any output line."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from keystoneauth1 import exceptions, session
from keystoneauth1.identity import v3

from openstack_pkg_tools.keystone_bootstrap import bootstrap_admin
from tests.cli import ROOT
from tests.integration.keystone.procscan import ProcessWatch
from tests.servers.keystone import KeystoneServer, bootstrap_spec


def run_watched(
    args: list[str], stdin: str, env: dict[str, str]
) -> tuple[ProcessWatch, subprocess.CompletedProcess[str]]:
    """Run ``pkgos ARGS`` with PKGOS_VERBOSE=1 while watching its processes."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PKGOS_VERBOSE": "1",
        **env,
    }
    argv = [sys.executable, "-m", "openstack_pkg_tools", *args]
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=ROOT,
    )
    with ProcessWatch(process.pid) as watch:
        stdout, stderr = process.communicate(stdin, timeout=600)
    return watch, subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def admin_file(keystone: KeystoneServer, directory: Path) -> str:
    path = str(directory / "admin-openrc")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{key}={value}\n" for key, value in keystone.os_environ().items())
    return path


def test_registration_starts_no_process_and_leaks_no_password(
    keystone: KeystoneServer, tmp_path: Path
) -> None:
    service_password = "Svc-Secret-4c1d"
    credentials = ["--admin-file", admin_file(keystone, tmp_path)]
    register = ["keystone", "register", "pkgostest-secret", "--type", "pkgostest-secret"]
    register += ["--public-url", "http://192.0.2.60:9010", *credentials]
    user = ["keystone", "service-user", "pkgostest-secret", "--password-stdin", *credentials]
    for args, stdin in ((register, ""), (user, service_password + "\n")):
        watch, result = run_watched(args, stdin, {})
        assert result.returncode == 0, result.stderr
        assert watch.root in watch.seen
        assert watch.children() == [], "the reconcile starts no child process"
        for secret in (service_password, keystone.admin_password):
            assert watch.holding(secret) == []
            assert secret not in result.stdout + result.stderr
    assert "create user pkgostest-secret" in result.stdout


def admin_login(keystone: KeystoneServer, password: str) -> str:
    auth = v3.Password(
        auth_url=keystone.auth_url,
        username=keystone.admin_username,
        password=password,
        project_name=keystone.admin_project,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    return str(session.Session(auth=auth).get_token())


def database_dump(keystone: KeystoneServer) -> list[str]:
    with contextlib.closing(sqlite3.connect(os.path.join(keystone.workdir, "keystone.db"))) as database:
        return list(database.iterdump())


def key_files(keystone: KeystoneServer) -> dict[str, bytes]:
    return {str(path): path.read_bytes() for path in Path(keystone.workdir).glob("*-keys/*")}


def test_bootstrap_again_changes_nothing_and_keeps_secrets_out(keystone: KeystoneServer) -> None:
    args = ["keystone", "bootstrap", "--config-file", keystone.config_file, "--keystone-user", "root"]
    args += ["--keystone-group", "root", "--public-url", keystone.auth_url, "--region", keystone.region]
    dump, keys = database_dump(keystone), key_files(keystone)

    watch, result = run_watched([*args, "--password-stdin"], keystone.admin_password, {})
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # nothing created
    assert database_dump(keystone) == dump
    assert key_files(keystone) == keys
    assert any(seen.ran(b"keystone-manage", b"bootstrap") for seen in watch.children())
    # The one allowed place: keystone-manage reads the password from OS_BOOTSTRAP_PASSWORD.
    places = watch.holding(keystone.admin_password)
    assert places, "the watch saw keystone-manage bootstrap"
    assert {(where, item.split(b"=")[0]) for _, where, item in places} == {("env", b"OS_BOOTSTRAP_PASSWORD")}
    assert keystone.admin_password not in result.stderr

    # Without a password the admin is kept as it is.
    watch, result = run_watched([*args, "--no-service-project"], "", {})
    assert result.returncode == 0, result.stderr
    assert "keeping Keystone's admin user as it is" in result.stderr
    assert any(seen.ran(b"keystone-manage", b"db_sync") for seen in watch.children())
    assert not any(seen.ran(b"keystone-manage", b"bootstrap") for seen in watch.children())
    assert admin_login(keystone, keystone.admin_password)

    # A new password replaces the old one; then the old one is put back.
    new_password = "New-Admin-" + keystone.admin_password[::-1]
    spec = bootstrap_spec(keystone.config_file, keystone.auth_url, keystone.region)
    for password in (new_password, keystone.admin_password):
        assert bootstrap_admin(spec, password) is True
        assert admin_login(keystone, password)
        other = keystone.admin_password if password == new_password else new_password
        try:
            admin_login(keystone, other)
            raise AssertionError("the replaced admin password still works")
        except exceptions.Unauthorized:
            pass
