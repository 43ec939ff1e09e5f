"""Faults: Keystone stopped, wrong admin password, bad region, bad address."""

from __future__ import annotations

import os
from pathlib import Path

from openstack_pkg_tools.keystone import Endpoints, KeystoneClient, ServiceSpec, register_service
from tests.cli import pkgos
from tests.servers import free_port
from tests.servers.keystone import KeystoneServer, start_uwsgi, stop, wait_ready

REGISTER = ("keystone", "register", "pkgostest-fault", "--type", "pkgostest-fault")


def test_stopped_keystone_is_a_clear_error_and_a_rerun_repairs(keystone: KeystoneServer) -> None:
    # A second uwsgi on the same Keystone, stopped, then started again.
    port = free_port()
    url = f"http://127.0.0.1:{port}/v3"
    workdir = keystone.workdir
    env = {**keystone.os_environ(), "OS_AUTH_URL": url}
    args = (*REGISTER, "--public-url", "http://192.0.2.50:9004")
    result = pkgos(*args, env=env)
    assert result.returncode == 2
    assert (
        f"Cannot GET /regions/regionOne on Keystone at {url}: connection refused (tried 4 times)"
        in result.stderr
    )
    assert "Hint: start Keystone" in result.stderr
    assert keystone.admin_password not in result.stderr + result.stdout

    process = start_uwsgi(workdir, port)
    try:
        wait_ready(url, process, workdir)
        result = pkgos(*args, env=env, check=True)
        assert result.stdout.splitlines()[0] == "create service pkgostest-fault (type pkgostest-fault)"
        assert pkgos(*args, env=env, check=True).stdout == "nothing to change\n"
    finally:
        stop(process)


def test_wrong_admin_password(keystone: KeystoneServer) -> None:
    wrong = "Wrong-" + keystone.admin_password[::-1]
    env = {**keystone.os_environ(), "OS_PASSWORD": wrong}
    result = pkgos(*REGISTER, "--public-url", "http://192.0.2.50:9004", env=env)
    assert result.returncode == 2
    who = 'user "admin" (domain "Default", project "admin")'
    assert f"Keystone refused the credentials of {who} at {keystone.auth_url}" in result.stderr
    assert wrong not in result.stderr + result.stdout


def test_admin_file_must_be_private(keystone: KeystoneServer, tmp_path: Path) -> None:
    path = str(tmp_path / "admin-openrc")
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(f"export {key}='{value}'\n" for key, value in keystone.os_environ().items())
    os.chmod(path, 0o644)
    args = ("keystone", "register", "pkgostest-file", "--type", "pkgostest-file")
    args += ("--public-url", "http://192.0.2.50:9004", "--dry-run", "--admin-file", path)
    result = pkgos(*args)
    assert result.returncode == 2 and f"chmod 600 {path}" in result.stderr
    os.chmod(path, 0o600)
    assert pkgos(*args, check=True).stdout.startswith("would ")


def test_bad_region_and_address_are_refused_before_any_request(keystone: KeystoneServer) -> None:
    # The auth URL points nowhere: a request would fail differently and late.
    env = {**keystone.os_environ(), "OS_AUTH_URL": f"http://127.0.0.1:{free_port()}/v3"}
    region = pkgos(*REGISTER, "--public-url", "http://192.0.2.50:9004", "--region", "Region One", env=env)
    assert region.returncode == 2
    assert "Invalid region name 'Region One'" in region.stderr
    address = pkgos(*REGISTER, "--public-url", "http://2001:db8::1:9004", env=env)
    assert address.returncode == 2
    assert "an IPv6 address must be in brackets" in address.stderr
    assert "Keystone" not in region.stderr + address.stderr


def test_nothing_half_registered_after_a_refused_run(
    keystone: KeystoneServer, client: KeystoneClient
) -> None:
    bad = pkgos(
        *REGISTER,
        "--public-url",
        "http://192.0.2.50:9004",
        "--admin-url",
        "http://bad host",
        env=keystone.os_environ(),
    )
    assert bad.returncode == 2
    assert client.get("/services", {"type": "pkgostest-fault-half"})["services"] == []
    spec = ServiceSpec(
        "pkgostest-fault-half", "pkgostest-fault-half", Endpoints.same("http://192.0.2.50:9005")
    )
    assert len(register_service(client, spec).changes) == 4
