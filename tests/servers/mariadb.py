"""A private MariaDB server for tests (root over its unix socket only)."""

from __future__ import annotations

import os
import shutil
import subprocess
from types import TracebackType
from typing import Any

from . import free_port, make_tempdir, port_open, run_quiet, stop_pid, wait_until


class MariaDB:
    """A throwaway MariaDB on 127.0.0.1:``port`` with data in a temp dir.

    Root authenticates with unix_socket over ``socket`` (as Debian's
    default server does); ``admin_connect()`` returns such a connection.
    With ``general_log=True`` every statement the server receives is logged
    in ``general_log_file`` (to prove that no password reaches it).
    ``socket`` and ``port`` place the server where Debian's own would be
    (``/run/mysqld/mysqld.sock``, 3306), for maintainer scripts that use a
    local server's defaults; by default both are private.
    """

    def __init__(self, *, general_log: bool = False, socket: str | None = None, port: int = 0) -> None:
        self.general_log = general_log
        self.directory = make_tempdir("pkgostest-mariadb-", owner="mysql")
        self.datadir = os.path.join(self.directory, "data")
        self.socket = socket or os.path.join(self.directory, "mysqld.sock")
        if socket is not None:
            os.makedirs(os.path.dirname(socket), exist_ok=True)
            shutil.chown(os.path.dirname(socket), "mysql", "mysql")
        self.pid_file = os.path.join(self.directory, "mysqld.pid")
        self.host = "127.0.0.1"
        self.general_log_file = os.path.join(self.directory, "general.log")
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MariaDB:
        """Initialise the data directory and start the server; wait until it answers."""
        run_quiet(
            [
                "mariadb-install-db",
                "--user=mysql",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ]
        )
        self.port = self.port or free_port()
        log = open(os.path.join(self.directory, "mysqld.log"), "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                "--user=mysql",
                f"--datadir={self.datadir}",
                f"--socket={self.socket}",
                f"--pid-file={self.pid_file}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--max-connections=500",
                *(
                    [f"--general-log-file={self.general_log_file}", "--general-log=1"]
                    if self.general_log
                    else []
                ),
            ],
            stdout=log,
            stderr=log,
        )
        log.close()
        wait_until(lambda: port_open(self.port) and os.path.exists(self.socket), 30, "MariaDB")
        return self

    def admin_connect(self, database: str | None = None) -> Any:
        """A pymysql connection as root over the unix socket (autocommit)."""
        import pymysql

        return pymysql.connect(unix_socket=self.socket, user="root", database=database, autocommit=True)

    def stop(self) -> None:
        """Stop the server by its PID and remove its files."""
        if self.process is not None:
            stop_pid(self.process.pid, timeout=30)
            self.process.wait()
            self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> MariaDB:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
