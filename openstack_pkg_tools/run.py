"""The one place that starts processes.

Every child process of the toolkit is started by ``run()``:

* the command is an argument list, never a shell string, so no value is
  ever re-parsed by a shell;
* it is logged as a pasteable line (``+ runuser -u glance -- glance-manage
  db_sync``); secrets are never on an argv, so the line is safe to log;
* the child's environment is built explicitly (``LANG=C.UTF-8``, ``PATH``,
  ``HOME`` and what the caller adds), so nothing of ours, and in particular
  no secret, leaks into it by inheritance;
* secrets go in through ``stdin=``;
* a failure raises ``CommandError`` with the command, the exit code and the
  last lines of the error output, every secret the caller names
  (``secrets=``) replaced by ``***`` in it, also percent-encoded (a child
  may print the URL it was given);
* ``output_log`` is appended to without following a link at its name, with
  the same secrets and every URL's password redacted.

``run()`` is built on the ``sh`` module, using only what sh 1.14 (Debian
12) and sh 2.x share. ``background()``, for a server the caller needs
while it does something else, is built on ``subprocess``: it hands the
child an open socket, which sh 1.14 cannot.
"""

from __future__ import annotations

import io
import os
import shlex
import stat
import subprocess
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from . import log
from .errors import CommandError, ConfigFileError, redact, redact_urls

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Completed:
    """What a finished command returned."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment a child gets: a fixed base plus ``extra``."""
    env = {
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PATH": os.environ.get("PATH") or DEFAULT_PATH,
    }
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    if extra:
        env.update(extra)
    return env


class _Tee(io.RawIOBase):
    """Keeps a child's output in memory and, optionally, appends it to a log.

    The log gets whole lines, each with the secrets the caller names and
    the password of any URL replaced by ``***``: a log outlives the run and
    its readers are not only root. The memory copy is raw; the errors made
    from it are redacted where they are made.
    """

    _LONGEST_LINE = 65536  # a longer run without a newline (a progress bar) is logged in pieces

    def __init__(self, log_file: IO[bytes] | None, secrets: Collection[str | None] = ()) -> None:
        super().__init__()
        self.buffer = bytearray()
        self.log_file = log_file
        self.secrets = tuple(secrets)
        self._unlogged = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.buffer.extend(data)
        if self.log_file is not None:
            self._unlogged.extend(data)
            end = self._unlogged.rfind(b"\n") + 1
            if end == 0 and len(self._unlogged) > self._LONGEST_LINE:
                end = len(self._unlogged)
            if end:
                self._log(bytes(self._unlogged[:end]))
                del self._unlogged[:end]
        return len(data)

    def finish(self) -> None:
        """Log what is left of an unfinished last line."""
        if self.log_file is not None and self._unlogged:
            self._log(bytes(self._unlogged))
            self._unlogged.clear()

    def _log(self, data: bytes) -> None:
        assert self.log_file is not None
        text = data.decode("utf-8", errors="surrogateescape")
        text = redact_urls(redact(text, *self.secrets))
        self.log_file.write(text.encode("utf-8", errors="surrogateescape"))
        self.log_file.flush()

    def text(self) -> str:
        return self.buffer.decode("utf-8", errors="replace")


def run(
    argv: Sequence[str],
    *,
    stdin: bytes | str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float | None = None,
    ok_codes: Collection[int] = (0,),
    output_log: str | None = None,
    hint: str | None = None,
    secrets: Collection[str | None] = (),
) -> Completed:
    """Run ``argv`` and wait for it.

    ``stdin`` is fed to the child (the way secrets reach it). ``env`` adds
    variables to the fixed base environment. ``output_log`` names a file
    that the child's stdout and stderr are appended to, line by line as
    they come, with ``secrets`` and the passwords of URLs redacted.
    ``ok_codes`` are the exit codes that count as success. ``hint`` goes into
    the error raised when the command fails. ``secrets`` (typically what
    goes in on ``stdin``) are redacted from that error.
    """
    argv = tuple(argv)
    if not argv:
        raise ValueError("run() needs a command")
    command = shlex.join(argv)
    log.info("+ " + command)
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    log_file = open_log(output_log) if output_log else None
    out, err = _Tee(log_file, secrets), _Tee(log_file, secrets)
    options: dict[str, object] = {
        "_in": stdin if stdin is not None else b"",
        "_out": out,
        "_err": err,
        "_env": child_environment(env),
        "_cwd": cwd,
        "_ok_code": list(ok_codes),
        "_tty_out": False,
        "_bg": True,
        "_bg_exc": False,
    }
    if timeout is not None:
        options["_timeout"] = timeout
    try:
        exit_code = _wait(argv, options, hint)
    except CommandError as error:
        if any(secrets):
            raise CommandError(
                error.command,
                exit_code=error.returncode,
                stderr=redact(error.stderr, *secrets),
                reason=error.reason,
                hint=error.hint,
            ) from None
        raise
    finally:
        if log_file is not None:
            out.finish()
            err.finish()
            log_file.close()
    return Completed(argv, exit_code, out.text(), err.text())


@contextmanager
def background(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    pass_fds: Sequence[int] = (),
    hint: str | None = None,
    secrets: Collection[str | None] = (),
    stop_timeout: float = 30.0,
) -> Iterator[None]:
    """Run ``argv`` while the body runs, then close its stdin and wait for it to exit.

    For a server the caller needs only for a while: the end of its stdin
    tells the child to stop, and comes also when this process dies, so no
    child outlives its caller. One still running ``stop_timeout`` seconds
    later is killed, with a warning. ``pass_fds`` are descriptors the child
    inherits. A child that exits with an error raises ``CommandError`` with
    the last lines of its output, ``secrets`` and URL passwords redacted;
    when the body failed too, that error is the likely cause and replaces
    the body's.
    """
    argv = tuple(argv)
    command = shlex.join(argv)
    log.info("+ " + command + " &")
    with tempfile.TemporaryFile() as output:
        try:
            child = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=child_environment(env),
                cwd=cwd,
                pass_fds=tuple(pass_fds),
            )
        except OSError as error:
            reason = f"cannot be started: {error.strerror or error}"
            raise CommandError(command, exit_code=None, reason=reason, hint=hint) from None
        try:
            yield
        finally:
            assert child.stdin is not None
            child.stdin.close()
            try:
                child.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                log.warning(f"{command} did not stop {stop_timeout:g} s after its input ended: killed.")
                child.kill()
                child.wait()
            else:
                if child.returncode != 0:
                    output.seek(0)
                    text = output.read().decode("utf-8", errors="replace")
                    raise CommandError(
                        command, exit_code=child.returncode, stderr=redact(text, *secrets), hint=hint
                    ) from None


def open_log(path: str) -> IO[bytes]:
    """``path`` opened for appending, created if missing (0640); a link or anything
    but a regular file refused (``ConfigFileError``)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o640)
    except OSError as error:
        raise ConfigFileError(path, f"cannot be opened to append the output: {error.strerror}.") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ConfigFileError(path, "is not a regular file: refusing to append the output to it.")
    return os.fdopen(fd, "ab")


def _wait(argv: tuple[str, ...], options: dict[str, object], hint: str | None) -> int:
    """Start the command with sh's ``options`` and turn sh's errors into ours."""
    # Imported here: sh takes longer to import than most commands take to
    # run, and most runs of the toolkit start no process at all.
    import sh  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415

    command = shlex.join(argv)
    err = options["_err"]
    assert isinstance(err, _Tee)
    try:
        program = sh.Command(argv[0])
    except sh.CommandNotFound:
        raise CommandError(
            command,
            exit_code=None,
            reason=f"{argv[0]}: command not found",
            hint=hint or f"install the package that provides {argv[0]}.",
        ) from None
    try:
        process = program(*argv[1:], **options)
        process.wait()
    except sh.TimeoutException:
        timeout = options["_timeout"]
        raise CommandError(
            command, exit_code=None, stderr=err.text(), reason=f"timed out after {timeout} s", hint=hint
        ) from None
    except sh.ErrorReturnCode as error:
        out = options["_out"]
        assert isinstance(out, _Tee)
        raise CommandError(
            command, exit_code=error.exit_code, stderr=err.text() or out.text(), hint=hint
        ) from None
    return int(process.exit_code)
