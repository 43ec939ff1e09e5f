"""The pkgos db, dbsync and rabbit commands, run as processes."""

from __future__ import annotations

import os
import subprocess

from openstack_pkg_tools.inifile import IniFile
from openstack_pkg_tools.urls import DatabaseUrl
from tests.cli import pkgos
from tests.servers import free_port
from tests.servers.mariadb import MariaDB
from tests.servers.rabbitmq import RabbitMQ

from .helpers import login

PASSWORD = "cli p@ss:/%41#$x'\""


def dbsync(user: str, log_dir: str, *command: str) -> subprocess.CompletedProcess[str]:
    return pkgos("dbsync", "glance", "--user", user, "--log-dir", log_dir, "--", *command)


def conf_file(workdir: str) -> str:
    path = os.path.join(workdir, "glance-api.conf")
    with open(path, "w") as handle:
        handle.write("[DEFAULT]\n# keep me\n\n[database]\n#connection = <None>\n")
    return path


def test_db_ensure_writes_a_url_that_logs_in_and_is_idempotent(mariadb: MariaDB, workdir: str) -> None:
    conf = conf_file(workdir)
    args = ("db", "ensure", "--engine", "mysql", "--name", "pkgostest_cli", "--password-stdin")
    args += ("--port", str(mariadb.port), "--admin-socket", mariadb.socket, "--config", conf)
    first = pkgos(*args, stdin=PASSWORD + "\n")
    assert first.returncode == 0, first.stderr
    assert "created database, created user, granted privileges" in first.stderr
    text = IniFile(conf).get("database", "connection")
    assert text is not None
    url = DatabaseUrl.parse(text)
    assert (url.user, url.password) == ("pkgostest_cli", PASSWORD)
    assert login(url, "SELECT DATABASE()") == [("pkgostest_cli",)]
    mtime = os.stat(conf).st_mtime_ns
    second = pkgos(*args, stdin=PASSWORD + "\n")
    assert second.returncode == 0 and "nothing to change" in second.stderr
    assert os.stat(conf).st_mtime_ns == mtime
    assert PASSWORD not in first.stderr + second.stderr + first.stdout + second.stdout

    shown = pkgos("db", "url", "--from-config", conf)
    assert (
        shown.stdout
        == f"engine=mysql\nuser=pkgostest_cli\nhost=127.0.0.1\nport={mariadb.port}\ndatabase=pkgostest_cli\n"
    )
    assert pkgos("db", "url", "--from-config", conf, "--field", "password").stdout == PASSWORD + "\n"
    drop = pkgos(
        "db", "drop", "--engine", "mysql", "--name", "pkgostest_cli", "--admin-socket", mariadb.socket
    )
    assert drop.returncode == 0 and "dropped database, dropped user" in drop.stderr


def test_server_down_exits_2_naming_host_and_port_and_leaves_the_file(workdir: str) -> None:
    conf = conf_file(workdir)
    with open(conf, "rb") as handle:
        before = handle.read()
    port = free_port()
    result = pkgos(
        "db",
        "ensure",
        "--engine",
        "mysql",
        "--name",
        "glance",
        "--password-stdin",
        "--config",
        conf,
        "--admin-host",
        "127.0.0.1",
        "--admin-port",
        str(port),
        stdin="secret-pw",
    )
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr and "Hint: start the database server" in result.stderr
    assert "secret-pw" not in result.stderr
    with open(conf, "rb") as handle:
        assert handle.read() == before


def test_a_password_file_others_can_read_is_refused(workdir: str) -> None:
    secret = os.path.join(workdir, "pw")
    with open(secret, "w") as handle:
        handle.write("pw\n")
    os.chmod(secret, 0o644)
    result = pkgos("db", "check", "--engine", "mysql", "--name", "glance", "--password-file", secret)
    assert result.returncode == 2 and f"Hint: chmod 600 {secret}" in result.stderr


def test_db_url_builds_percent_encoded_and_redacted_urls() -> None:
    built = pkgos(
        "db",
        "url",
        "--engine",
        "pgsql",
        "--name",
        "nova",
        "--host",
        "fd00::5",
        "--password-stdin",
        stdin="a@b\n",
    )
    assert built.stdout == "postgresql+psycopg2://nova:a%40b@[fd00::5]/nova\n"
    redacted = pkgos(
        "db", "url", "--engine", "mysql", "--name", "nova", "--password-stdin", "--redacted", stdin="x"
    )
    assert redacted.stdout == "mysql+pymysql://nova:***@127.0.0.1/nova?charset=utf8\n"


def test_dbsync_runs_the_commands_after_the_separator(glance_user: str, workdir: str) -> None:
    shared = os.path.join(workdir, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o777)  # written by the service user
    marker = os.path.join(shared, "ran")
    result = dbsync(
        glance_user, workdir, "sh", "-c", "echo one", ";;", "sh", "-c", f"id -un > {marker}; echo two"
    )
    assert result.returncode == 0, result.stderr
    with open(marker) as handle:
        assert handle.read().strip() == glance_user
    with open(os.path.join(workdir, "dbsync.log")) as handle:
        assert handle.read() == "one\ntwo\n"
    failed = dbsync(glance_user, workdir, "sh", "-c", "echo boom >&2; exit 3")
    assert failed.returncode == 2
    assert "exited with code 3" in failed.stderr and "boom" in failed.stderr


def test_rabbit_ensure_writes_transport_url_and_creates_the_account(rabbitmq: RabbitMQ, workdir: str) -> None:
    conf = conf_file(workdir)
    try:
        result = pkgos(
            "rabbit",
            "ensure",
            "--config",
            conf,
            "--host",
            "127.0.0.1",
            "--user",
            "pkgostest-cli",
            "--password-stdin",
            "--vhost",
            "pkgostest-cli",
            "--create-user",
            stdin="r@bbit:pw\n",
        )
        assert result.returncode == 0, result.stderr
        assert IniFile(conf).get("DEFAULT", "transport_url") == (
            "rabbit://pkgostest-cli:r%40bbit%3Apw@127.0.0.1:5672/pkgostest-cli"
        )
        assert "r@bbit:pw" not in result.stderr
        assert rabbitmq.ctl("authenticate_user", "pkgostest-cli", stdin="r@bbit:pw\n").returncode == 0
    finally:
        rabbitmq.ctl("delete_user", "pkgostest-cli")
        rabbitmq.ctl("delete_vhost", "pkgostest-cli")
