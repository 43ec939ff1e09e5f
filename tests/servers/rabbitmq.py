"""The machine's RabbitMQ server, started for tests on loopback only.

RabbitMQ is a system-wide server (one per machine): ``RabbitMQ.start()``
first makes ``/etc/rabbitmq/rabbitmq-env.conf`` bind it to 127.0.0.1 (node
``rabbit@localhost``, epmd on loopback too), then starts it and waits until
it answers. ``stop()`` stops the broker and the epmd it started, by PID.
Users and virtual hosts that tests create should carry a test prefix.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from types import TracebackType

from . import port_open, run_quiet, stop_pid, wait_until

ENV_FILE = "/etc/rabbitmq/rabbitmq-env.conf"
LOOPBACK_SETTINGS = (
    "NODE_IP_ADDRESS=127.0.0.1",
    "NODENAME=rabbit@localhost",
    "export ERL_EPMD_ADDRESS=127.0.0.1",
)
PORT = 5672


def _epmd_pids() -> set[int]:
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() == "epmd":
                        pids.add(int(entry))
            except OSError:
                continue
    return pids


def configure_loopback(path: str = ENV_FILE) -> None:
    """Add the loopback settings to rabbitmq-env.conf unless they are there."""
    with open(path) as handle:
        lines = handle.read().splitlines()
    missing = [setting for setting in LOOPBACK_SETTINGS if setting not in lines]
    if missing:
        with open(path, "a") as handle:
            handle.write("\n# Loopback only (openstack-pkg-tools test suite).\n" + "\n".join(missing) + "\n")


class RabbitMQ:
    """The local RabbitMQ broker on 127.0.0.1:5672."""

    host = "127.0.0.1"
    port = PORT

    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="pkgostest-rabbitmq-")
        os.chmod(self.directory, 0o777)
        self.pid_file = os.path.join(self.directory, "rabbitmq.pid")
        self.pid: int | None = None
        self.epmd_before: set[int] = set()
        self.started = False

    def start(self) -> RabbitMQ:
        """Start the broker (unless it already runs) and wait until it answers."""
        if port_open(PORT):
            return self  # someone else's broker: use it, leave it running
        configure_loopback()
        self.epmd_before = _epmd_pids()
        env = {**os.environ, "RABBITMQ_PID_FILE": self.pid_file}
        log = open(os.path.join(self.directory, "server.log"), "wb")  # noqa: SIM115
        subprocess.Popen(["rabbitmq-server"], stdout=log, stderr=log, env=env, start_new_session=True)
        log.close()
        self.started = True
        wait_until(lambda: os.path.exists(self.pid_file), 60, "RabbitMQ's pid file")
        run_quiet(["rabbitmqctl", "wait", "--timeout", "120", self.pid_file])
        with open(self.pid_file) as handle:
            self.pid = int(handle.read().strip())
        return self

    def ctl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``rabbitmqctl ARGS`` (for test assertions)."""
        return subprocess.run(
            ["rabbitmqctl", *args], input=stdin, capture_output=True, text=True, check=False
        )

    def stop(self) -> None:
        """Stop the broker and the epmd it started, by PID."""
        if self.pid is not None:
            stop_pid(self.pid, timeout=60)
            self.pid = None
        if self.started:
            for pid in _epmd_pids() - self.epmd_before:
                stop_pid(pid)
            self.started = False
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> RabbitMQ:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
