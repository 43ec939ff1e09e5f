"""A private PostgreSQL cluster for tests.

Local connections use peer authentication (so ``runuser -u postgres psql
-h SOCKET_DIR`` works as on a Debian host) and TCP connections need a
SCRAM password (so a wrong password really fails); the superuser
``postgres`` has the password ``admin_password``.
"""

from __future__ import annotations

import os
import secrets
import shutil
from types import TracebackType
from typing import Any

from . import free_port, make_tempdir, run_quiet, stop_pid


class PostgreSQL:
    """A throwaway PostgreSQL on 127.0.0.1:``port``, sockets in ``socket_dir``."""

    def __init__(self) -> None:
        self.directory = make_tempdir("pkgostest-pgsql-", owner="postgres")
        self.datadir = os.path.join(self.directory, "data")
        self.socket_dir = self.directory
        self.host = "127.0.0.1"
        self.port = 0
        self.admin_password = secrets.token_urlsafe(16)
        self.pid: int | None = None

    def _bin(self, name: str) -> str:
        versions = sorted(os.listdir("/usr/lib/postgresql"), key=int)
        return f"/usr/lib/postgresql/{versions[-1]}/bin/{name}"

    def start(self) -> PostgreSQL:
        """Create the cluster and start it; wait until it accepts connections."""
        password_file = os.path.join(self.directory, "pw")
        with open(password_file, "w") as handle:
            handle.write(self.admin_password)
        shutil.chown(password_file, "postgres")
        run_quiet(
            [
                *(
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    self._bin("initdb"),
                    "-D",
                    self.datadir,
                    "-U",
                    "postgres",
                ),
                *("--auth-local=peer", "--auth-host=scram-sha-256", f"--pwfile={password_file}"),
                *("-E", "UTF8", "--locale=C.UTF-8"),
            ]
        )
        os.unlink(password_file)
        self.port = free_port()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.socket_dir} -c max_connections=200"
        # A throwaway cluster: durability only costs time here.
        options += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        run_quiet(
            [
                *("runuser", "-u", "postgres", "--", self._bin("pg_ctl"), "-w", "-D", self.datadir),
                *("-l", os.path.join(self.directory, "server.log"), "-o", options, "start"),
            ]
        )
        with open(os.path.join(self.datadir, "postmaster.pid")) as handle:
            self.pid = int(handle.readline())
        return self

    def admin_connect(self, database: str = "postgres") -> Any:
        """A psycopg2 connection as ``postgres`` over TCP (autocommit)."""
        import psycopg2

        connection = psycopg2.connect(
            host=self.host, port=self.port, user="postgres", password=self.admin_password, dbname=database
        )
        connection.autocommit = True
        return connection

    def stop(self) -> None:
        """Stop the postmaster by its PID and remove the cluster."""
        if self.pid is not None:
            stop_pid(self.pid, timeout=30)
            self.pid = None
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PostgreSQL:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
