"""Run a service's schema migration (``glance-manage db_sync``) the safe way.

The migration commands come as data (a service profile supplies them):
each runs as the service's system user (``runuser -u glance --``) under a
time limit (``timeout``), with its output appended to
``/var/log/<svc>/dbsync.log``. When the database server is not reachable
yet (a database on another host still starting), the command is tried
again a bounded number of times. A failure names the command, its exit
code and the last lines of its output.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import stat
import time
from dataclasses import dataclass

from . import log
from .errors import ConfigFileError, InvalidValueError, PkgosError, last_lines, redact_urls
from .fileio import create_file, kind_of, open_directory
from .run import run

TIMEOUT_EXIT = 124
SERVICE_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
KILL_AFTER = 10
TAIL_LINES = 20
# What a migration prints when the database server does not answer (yet).
UNREACHABLE = (
    "Can't connect to MySQL server",
    "Can't connect to local MySQL server",
    "Lost connection to MySQL server",
    "Connection refused",
    "could not connect to server",
    "connection to server at",
    "the database system is starting up",
)


class DbSyncError(PkgosError):
    """A service's migration command failed or timed out."""


@dataclass(frozen=True)
class SyncPlan:
    """How to migrate one service's database.

    ``commands`` run in order (``nova-manage api_db sync`` then ``nova-manage
    db sync``); ``user`` defaults to the service's name; ``attempts`` counts
    the tries of each command while the server is unreachable.
    """

    service: str
    commands: tuple[tuple[str, ...], ...]
    user: str | None = None
    log_dir: str | None = None
    timeout: float = 900.0
    attempts: int = 5
    retry_delay: float = 5.0

    def __post_init__(self) -> None:
        for what, name in (("service", self.service), ("user", self.user or self.service)):
            if not SERVICE_NAME.fullmatch(name):
                # The service names the log directory, /var/log/<service>: no "..", no "/".
                raise InvalidValueError(
                    f"Invalid {what} name {name!r} for a database migration.",
                    hint="use the service's name, e.g. glance (lower-case letters, digits, '-', '_').",
                )
        if self.log_dir is not None and (not self.log_dir.startswith("/") or not self.log_dir.isprintable()):
            raise InvalidValueError(
                f"Invalid log directory {self.log_dir!r}: "
                "it must be an absolute path without control characters.",
                hint="e.g. /var/log/glance.",
            )
        if not self.commands or not all(self.commands):
            raise InvalidValueError(
                f"No migration command given for {self.service!r}.",
                hint="give the command after --, e.g. pkgos dbsync glance -- glance-manage db_sync.",
            )
        if self.attempts < 1 or self.timeout <= 0:
            raise InvalidValueError(
                f"Invalid attempts ({self.attempts}) or time limit ({self.timeout}) for {self.service!r}.",
                hint="give at least one attempt and a positive time limit.",
            )

    @property
    def run_as(self) -> str:
        """The system user the commands run as."""
        return self.user or self.service

    @property
    def log_path(self) -> str:
        """The file the commands' output is appended to."""
        return os.path.join(self.log_dir or f"/var/log/{self.service}", "dbsync.log")


def argv_for(plan: SyncPlan, command: tuple[str, ...]) -> list[str]:
    """The full argv: the time limit, and runuser unless we already are the user."""
    limited = ["timeout", f"--kill-after={KILL_AFTER}", f"{plan.timeout:g}", *command]
    if pwd.getpwuid(os.geteuid()).pw_name == plan.run_as:
        return limited
    return ["runuser", "-u", plan.run_as, "--", *limited]


def sync(plan: SyncPlan) -> None:
    """Run every migration command of ``plan``; raise DbSyncError on failure."""
    _check_user(plan)
    _prepare_log(plan)
    for command in plan.commands:
        with log.step(f"Migrating the {plan.service} database: {shlex.join(command)}"):
            _run_with_retries(plan, command)


def _check_user(plan: SyncPlan) -> None:
    try:
        pwd.getpwnam(plan.run_as)
    except KeyError:
        raise InvalidValueError(
            f"The system user {plan.run_as!r} that runs the {plan.service} migration does not exist.",
            hint="create the service's user first, or name another with --user.",
        ) from None


def _prepare_log(plan: SyncPlan) -> None:
    """Make the log file exist, the service user's, without following what that user planted.

    The directory belongs to the service user, who may have put a link or
    a FIFO at the log's name: the file is created relative to the
    directory with ``O_EXCL``/``O_NOFOLLOW`` and given away through its
    descriptor, an existing name must be a regular file, and ``run()``
    appends to it with ``O_NOFOLLOW``.
    """
    entry = pwd.getpwnam(plan.run_as)
    directory, name = os.path.split(plan.log_path)
    if not os.path.lexists(directory):
        os.makedirs(directory, mode=0o750)
        os.chown(directory, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    directory_fd = open_directory(directory)
    try:
        try:
            os.close(create_file(directory_fd, name, 0o640, (entry.pw_uid, entry.pw_gid), plan.log_path))
        except FileExistsError:
            status = os.stat(name, dir_fd=directory_fd, follow_symlinks=False)
            if not stat.S_ISREG(status.st_mode):
                raise ConfigFileError(
                    plan.log_path,
                    f"is {kind_of(status.st_mode)}, not a regular file: refusing to write the log there.",
                    hint="remove it (someone who can write the directory put it there), then run again.",
                ) from None
        except OSError as error:
            raise ConfigFileError(plan.log_path, f"cannot be created: {error.strerror}.") from None
    finally:
        os.close(directory_fd)


# Where a command run as the service user starts: a directory every user may
# enter. The caller's may be root's (/root, a clone there): Python libraries
# the services load (stevedore) stat the working directory and fail on it.
SERVICE_CWD = "/"


def _run_with_retries(plan: SyncPlan, command: tuple[str, ...]) -> None:
    argv = argv_for(plan, command)
    for attempt in range(1, plan.attempts + 1):
        result = run(
            argv,
            ok_codes=range(256),
            timeout=plan.timeout + 2 * KILL_AFTER,
            output_log=plan.log_path,
            cwd=SERVICE_CWD,
        )
        if result.exit_code == 0:
            return
        output = result.stdout + "\n" + result.stderr
        if attempt < plan.attempts and any(sign in output for sign in UNREACHABLE):
            log.warning(
                f"the database server is not reachable yet; trying again in {plan.retry_delay:g} s "
                f"(attempt {attempt} of {plan.attempts})"
            )
            time.sleep(plan.retry_delay)
            continue
        raise _failure(plan, command, result.exit_code, output)


def _failure(plan: SyncPlan, command: tuple[str, ...], exit_code: int, output: str) -> DbSyncError:
    if exit_code == TIMEOUT_EXIT:
        reason = f"did not finish within {plan.timeout:g} s"
    else:
        reason = f"exited with code {exit_code}"
    tail = redact_urls(last_lines(output, TAIL_LINES))
    return DbSyncError(
        f"The {plan.service} database migration failed: {shlex.join(command)} (as {plan.run_as}) {reason}."
        + (f"\n{tail}" if tail else ""),
        hint=f"the whole output is in {plan.log_path}; check [database] connection and that the server runs.",
    )
