"""Links and FIFOs an unprivileged user plants where root writes: root is never taken over."""

from __future__ import annotations

from pathlib import Path

from tests.cli import pkgos

from .conftest import Attacker, untouched

NAME = "pkgoshostile"


def refused(result: object, *words: str) -> None:
    """Exit code 2, no traceback, and a last line ``pkgos: error: ...`` holding ``words``.

    (Progress lines may come before it.)
    """
    returncode, stderr = result.returncode, result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr, stderr
    assert returncode == 2, stderr
    last = stderr.rstrip("\n").rpartition("\n")[2]
    assert last.startswith("pkgos: error: "), stderr
    for word in words:
        assert word in last, stderr


def sqlite_ensure(attacker: Attacker) -> object:
    return pkgos(
        "db",
        "ensure",
        "--engine",
        "sqlite",
        "--name",
        NAME,
        "--user",
        attacker.name,
        "--sqlite-dir",
        str(attacker.home),
    )


def test_sqlite_ensure_never_gives_away_a_linked_file(attacker: Attacker, victim: Path) -> None:
    before = untouched(victim)
    attacker.plant_link(f"{NAME}.sqlite", victim)
    refused(sqlite_ensure(attacker), "symbolic link", "not a SQLite file")
    assert untouched(victim) == before


def test_sqlite_ensure_refuses_a_fifo_without_hanging(attacker: Attacker) -> None:
    attacker.plant_fifo(f"{NAME}.sqlite")
    refused(sqlite_ensure(attacker), "FIFO")


def test_sqlite_ensure_makes_the_file_the_service_users(attacker: Attacker) -> None:
    result = sqlite_ensure(attacker)
    assert result.returncode == 0, result.stderr
    info = (attacker.home / f"{NAME}.sqlite").stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (attacker.uid, attacker.gid, 0o640)
    assert sorted(path.name for path in attacker.home.iterdir()) == [f"{NAME}.sqlite"]
    # Swapped for a link after creation: the next run refuses, the target keeps its owner.
    (attacker.home / f"{NAME}.sqlite").unlink()
    victim = attacker.safe / "other.sqlite"
    victim.write_bytes(b"")
    attacker.plant_link(f"{NAME}.sqlite", victim)
    refused(sqlite_ensure(attacker), "symbolic link")
    assert victim.stat().st_uid == 0


def dbsync(attacker: Attacker) -> object:
    return pkgos("dbsync", NAME, "--user", attacker.name, "--log-dir", str(attacker.home), "--", "true")


def test_dbsync_log_never_follows_a_planted_link(attacker: Attacker, victim: Path) -> None:
    before = untouched(victim)
    attacker.plant_link("dbsync.log", victim)
    refused(dbsync(attacker), "dbsync.log", "symbolic link")
    assert untouched(victim) == before


def test_dbsync_log_never_creates_a_file_through_a_dangling_link(attacker: Attacker) -> None:
    target = attacker.safe / "created-by-root"
    attacker.plant_link("dbsync.log", target)
    refused(dbsync(attacker), "symbolic link")
    assert not target.exists()


def test_dbsync_log_refuses_a_fifo(attacker: Attacker) -> None:
    attacker.plant_fifo("dbsync.log")
    refused(dbsync(attacker), "FIFO")


def test_dbsync_log_is_created_for_the_service_user(attacker: Attacker) -> None:
    result = dbsync(attacker)
    assert result.returncode == 0, result.stderr
    info = (attacker.home / "dbsync.log").stat()
    assert (info.st_uid, info.st_mode & 0o7777) == (attacker.uid, 0o640)


def test_ini_set_never_writes_through_a_planted_link(attacker: Attacker, victim: Path) -> None:
    before = untouched(victim)
    link = attacker.plant_link("glance.conf", victim)
    refused(pkgos("ini", "set", str(link), "DEFAULT", "debug", "true"), "symbolic link", "refusing to follow")
    refused(pkgos("ini", "get", str(link), "DEFAULT", "debug"), "symbolic link")
    refused(pkgos("ini", "set", "--create", str(link), "DEFAULT", "debug", "true"), "symbolic link")
    assert untouched(victim) == before


def test_a_root_link_leading_to_a_planted_link_is_not_followed(attacker: Attacker, victim: Path) -> None:
    # /etc/glance/glance.conf -> /var/lib/glance/glance.conf (root's own link),
    # where the service user has put a link to a root file.
    before = untouched(victim)
    planted = attacker.plant_link("glance.conf", victim)
    config = attacker.safe / "glance.conf"
    config.symlink_to(planted)
    refused(pkgos("ini", "set", str(config), "DEFAULT", "debug", "true"), "refusing to follow")
    assert untouched(victim) == before


def test_ini_set_replaces_a_planted_file_but_keeps_root_out_of_it(attacker: Attacker) -> None:
    # A regular file of the attacker's in its own directory: edited, and
    # still the attacker's (it was already), nothing else touched.
    path = attacker.home / "glance.conf"
    attacker.run("sh", "-c", f"printf '[DEFAULT]\\n' > {path}")
    result = pkgos("ini", "set", str(path), "DEFAULT", "debug", "true")
    assert result.returncode == 0, result.stderr
    assert path.stat().st_uid == attacker.uid
    assert path.read_text() == "[DEFAULT]\ndebug = true\n"


def test_ini_set_refuses_a_fifo_and_a_device(attacker: Attacker) -> None:
    fifo = attacker.plant_fifo("nova.conf")
    refused(pkgos("ini", "get", str(fifo), "DEFAULT", "debug"), "FIFO")
    refused(pkgos("ini", "set", str(fifo), "DEFAULT", "debug", "x"), "FIFO")
    refused(pkgos("ini", "set", "/dev/null", "DEFAULT", "debug", "x"), "character device")
    assert Path("/dev/null").is_char_device()


def test_preseed_style_output_through_a_link_is_refused(attacker: Attacker, victim: Path) -> None:
    # Any writer using fileio.atomic_write (preseed generate, system files)
    # gets the same rule.
    from openstack_pkg_tools.errors import ConfigFileError
    from openstack_pkg_tools.fileio import atomic_write

    before = untouched(victim)
    link = attacker.plant_link("site.preseed", victim)
    try:
        atomic_write(str(link), b"d-i x string y\n", new_file_mode=0o600)
    except ConfigFileError as error:
        assert "refusing to follow" in str(error)
    else:
        raise AssertionError("the write went through the planted link")
    assert untouched(victim) == before


def test_set_create_on_a_file_the_caller_cannot_read_is_refused(attacker: Attacker) -> None:
    path = attacker.safe.parent / "secret.conf"
    path.write_text("[database]\nconnection = mysql+pymysql://u:p@h/d\n")
    path.chmod(0o600)
    before = untouched(path)
    result = pkgos_as(attacker, "ini", "set", "--create", str(path), "DEFAULT", "debug", "true")
    refused(result, "permission denied")
    assert untouched(path) == before


def pkgos_as(attacker: Attacker, *args: str) -> object:
    """``pkgos`` run as the attacker, from a copy of this tree it can read, with Debian's Python."""
    import subprocess

    from tests.cli import toolkit_for_anyone

    with toolkit_for_anyone() as readable:
        return subprocess.run(
            ["runuser", "-u", attacker.name, "--", "/usr/bin/python3", "-m", "openstack_pkg_tools", *args],
            capture_output=True,
            text=True,
            cwd="/",
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": str(readable)},
            check=False,
            timeout=60,
        )
