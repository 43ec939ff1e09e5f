"""run(): real child processes, their environment, and how failures read."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from openstack_pkg_tools.errors import CommandError
from openstack_pkg_tools.run import background, child_environment, run


def test_output_exit_code_and_stdin() -> None:
    result = run(["sh", "-c", "cat; echo oops >&2"], stdin="secret on stdin")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "secret on stdin", "oops\n")


def test_the_command_is_logged_pasteable(capsys: pytest.CaptureFixture[str]) -> None:
    run(["echo", "two words", "it's"])
    assert "+ echo 'two words' 'it'\"'\"'s'\n" in capsys.readouterr().err


def test_the_child_environment_is_explicit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_PASSWORD", "must-not-leak")
    monkeypatch.setenv("HOME", "/root")
    environ = run(["env"], env={"EXTRA": "1"}).stdout.splitlines()
    names = sorted(line.split("=", 1)[0] for line in environ)
    assert names == ["EXTRA", "HOME", "LANG", "LC_ALL", "PATH"]
    assert "must-not-leak" not in "\n".join(environ)
    assert child_environment()["LANG"] == "C.UTF-8"


def test_failure_names_command_exit_code_and_stderr_tail() -> None:
    with pytest.raises(CommandError) as caught:
        run(["sh", "-c", "for i in $(seq 30); do echo line$i >&2; done; exit 3"], hint="check the thing.")
    error = caught.value
    assert error.returncode == 3
    text = str(error)
    assert text.startswith(
        "Command failed: sh -c 'for i in $(seq 30); do echo line$i >&2; done; exit 3': exited"
    )
    assert "line30" in text and "line11" in text and "line10\n" not in text
    assert text.endswith("Hint: check the thing.")


def test_accepted_exit_codes() -> None:
    assert run(["sh", "-c", "exit 70"], ok_codes=(0, 70)).exit_code == 70


def test_missing_command() -> None:
    with pytest.raises(
        CommandError, match=r"no-such-command-x: command not found.*Hint: install the package"
    ):
        run(["no-such-command-x", "--flag"])


def test_timeout() -> None:
    with pytest.raises(CommandError, match=r"timed out after 0.2 s"):
        run(["sleep", "5"], timeout=0.2)


def test_output_log_gets_both_streams(tmp_path: Path) -> None:
    log = tmp_path / "sync.log"
    run(["sh", "-c", "echo out; echo err >&2"], output_log=str(log))
    run(["sh", "-c", "echo again"], output_log=str(log))
    assert sorted(log.read_text().splitlines()) == ["again", "err", "out"]


def test_output_log_holds_no_secret_and_no_url_password(tmp_path: Path) -> None:
    log = tmp_path / "dbsync.log"
    script = (
        "echo 'connecting to mysql+pymysql://glance:Url%40Pass@db/glance'; "
        "echo 'the password is s3cret!' >&2; printf 'unfinished s3cret!'"
    )
    result = run(["sh", "-c", script], output_log=str(log), secrets=["s3cret!"])
    assert sorted(log.read_text().splitlines()) == [
        "connecting to mysql+pymysql://glance:***@db/glance",
        "the password is ***",
        "unfinished ***",
    ]
    assert "s3cret!" in result.stderr  # the caller's own copy is raw; its errors redact


def test_working_directory(tmp_path: Path) -> None:
    assert run(["pwd"], cwd=str(tmp_path)).stdout.strip() == os.path.realpath(tmp_path)


def test_a_background_child_stops_at_the_end_of_its_input(tmp_path: Path) -> None:
    done = tmp_path / "done"
    with background(["sh", "-c", 'cat >/dev/null; echo stopped >"$0"', str(done)]):
        assert not done.exists()
    assert done.read_text() == "stopped\n"


def test_a_background_child_that_ignores_its_input_is_killed(capsys: pytest.CaptureFixture[str]) -> None:
    with background(["sleep", "60"], stop_timeout=0.2):
        pass
    err = capsys.readouterr().err
    assert "+ sleep 60 &" in err
    assert "sleep 60 did not stop 0.2 s after its input ended: killed." in err


def test_a_background_child_that_fails_raises_with_its_output_redacted() -> None:
    script = 'echo loading; echo "password $SECRET in mysql://u:$SECRET@db/x"; exit 4'
    secret = {"SECRET": "hunter2"}
    with (
        pytest.raises(CommandError) as caught,
        background(["sh", "-c", script], env=secret, secrets=["hunter2"]),
    ):
        pass
    text = str(caught.value)
    assert caught.value.returncode == 4 and "loading" in text
    assert "hunter2" not in text and "mysql://u:***@db/x" in text


def test_a_background_childs_failure_replaces_the_error_it_caused() -> None:
    with pytest.raises(CommandError) as caught, background(["sh", "-c", "echo no app; exit 1"]):
        raise ConnectionRefusedError
    assert "no app" in str(caught.value)


def test_a_background_child_inherits_the_descriptors_it_is_given() -> None:
    read_end, write_end = os.pipe()
    try:
        write = "import os, sys; os.write(int(sys.argv[1]), b'through')"
        with background([sys.executable, "-c", write, str(write_end)], pass_fds=(write_end,)):
            pass
        os.close(write_end)
        assert os.read(read_end, 100) == b"through"
    finally:
        os.close(read_end)
