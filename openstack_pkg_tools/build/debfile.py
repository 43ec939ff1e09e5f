"""Reading a binary package's control part, and writing a package that keeps another's data.

A ``.deb`` is an ``ar`` archive of three members: ``debian-binary``, the
control archive and the data archive. ``pkgos rewire`` changes only the
control archive, so the package it writes carries the original data
member byte for byte: the ``ar`` framing is read and written here (it is
a 60-byte header per member), the control archive is unpacked and packed
by ``dpkg-deb`` through ``run()``, so dpkg itself says what a control
archive is.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

from .. import fileio
from ..errors import InvalidValueError
from ..fileio import atomic_write
from ..run import run

AR_MAGIC = b"!<arch>\n"
HEADER_SIZE = 60
DEPENDENCY_HINT = "install dpkg (dpkg-deb)."


class DebFileError(InvalidValueError):
    """A file is not a binary package this module can read."""


@dataclass(frozen=True)
class Member:
    """One member of an ``ar`` archive: its header fields and its bytes."""

    name: str
    mtime: int
    uid: int
    gid: int
    mode: int
    data: bytes


@dataclass(frozen=True)
class ControlFile:
    """A file of a package's control archive (``control``, ``postinst``, ...)."""

    name: str
    data: bytes
    mode: int


def read_members(path: str) -> tuple[Member, ...]:
    """The members of the ``ar`` archive ``path``, in order (a FIFO or device is refused unread)."""
    blob = fileio.read_bytes(path)
    if not blob.startswith(AR_MAGIC):
        raise DebFileError(f"{path} is not a Debian binary package (no ar header).", hint="give a .deb file.")
    members = []
    offset = len(AR_MAGIC)
    while offset < len(blob):
        header = blob[offset : offset + HEADER_SIZE]
        if len(header) < HEADER_SIZE or header[58:60] != b"`\n":
            raise DebFileError(
                f"{path}: broken ar member header at byte {offset}.", hint="download it again."
            )
        size = int(header[48:58])
        start = offset + HEADER_SIZE
        members.append(
            Member(
                name=header[0:16].decode("ascii").rstrip().removesuffix("/"),
                mtime=int(header[16:28] or b"0"),
                uid=int(header[28:34] or b"0"),
                gid=int(header[34:40] or b"0"),
                mode=int(header[40:48] or b"644", 8),
                data=blob[start : start + size],
            )
        )
        offset = start + size + (size % 2)
    names = [member.name for member in members]
    if len(names) < 3 or names[0] != "debian-binary" or not names[1].startswith("control.tar"):
        raise DebFileError(f"{path}: unexpected members {names}.", hint="give a Debian binary package.")
    return tuple(members)


def ar_bytes(members: tuple[Member, ...]) -> list[bytes | memoryview]:
    """An ``ar`` archive of ``members``, as pieces to write in order."""
    pieces: list[bytes | memoryview] = [AR_MAGIC]
    for member in members:
        size = len(member.data)
        header = (
            f"{member.name:<16}{member.mtime:<12}{member.uid:<6}{member.gid:<6}{member.mode:<8o}{size:<10}`\n"
        ).encode("ascii")
        if len(header) != HEADER_SIZE:
            raise DebFileError(f"ar member {member.name!r} does not fit an ar header.", hint="")
        pieces += [header, member.data, b"\n" if size % 2 else b""]
    return pieces


def data_member(members: tuple[Member, ...]) -> Member:
    """The data archive member (``data.tar.xz`` or another compression)."""
    for member in members:
        if member.name.startswith("data.tar"):
            return member
    raise DebFileError("no data.tar member in the package.", hint="give a Debian binary package.")


def control_files(deb: str) -> dict[str, ControlFile]:
    """The files of ``deb``'s control archive by name, as ``dpkg-deb --control`` unpacks them.

    ``deb`` is checked to be a Debian binary package first, so that what
    is not one gets one line saying so, not dpkg-deb's error.
    """
    read_members(deb)
    with tempfile.TemporaryDirectory(prefix="pkgos-control.") as scratch:
        target = os.path.join(scratch, "DEBIAN")
        run(["dpkg-deb", "--control", deb, target], hint=DEPENDENCY_HINT)
        files = {}
        for name in sorted(os.listdir(target)):
            path = os.path.join(target, name)
            with open(path, "rb") as handle:
                files[name] = ControlFile(name, handle.read(), os.stat(path).st_mode & 0o7777)
        return files


def control_member(files: Mapping[str, ControlFile], mtime: int) -> Member:
    """A control archive holding ``files``, packed by ``dpkg-deb`` (root-owned, files dated ``mtime``).

    dpkg-deb packs it with an empty data tree: ``--nocheck`` because the
    conffiles it would look for live in the original data archive, which is
    kept as it is.
    """
    with tempfile.TemporaryDirectory(prefix="pkgos-control.") as scratch:
        tree = os.path.join(scratch, "tree")
        control = os.path.join(tree, "DEBIAN")
        os.makedirs(control)
        # dpkg-deb wants DEBIAN between 0755 and 0775, whatever the umask.
        os.chmod(tree, 0o755)  # noqa: S103
        os.chmod(control, 0o755)  # noqa: S103
        for item in files.values():
            path = os.path.join(control, item.name)
            with open(path, "wb") as handle:
                handle.write(item.data)
            os.chmod(path, item.mode)
            os.utime(path, (mtime, mtime))
        for path in (control, tree):
            os.utime(path, (mtime, mtime))
        built = os.path.join(scratch, "built.deb")
        run(
            ["dpkg-deb", "--root-owner-group", "--nocheck", "-Zxz", "--build", tree, built],
            env={"SOURCE_DATE_EPOCH": str(mtime)},
            hint=DEPENDENCY_HINT,
        )
        return read_members(built)[1]


def write_with_control(original: str, files: Mapping[str, ControlFile], output: str) -> bool:
    """Write ``output``: ``original`` with its control archive made of ``files``.

    ``debian-binary`` and the data member (and any member after it) are the
    original's bytes and headers. Returns True when ``output`` was written
    (an identical file is left alone).
    """
    members = read_members(original)
    control = control_member(files, members[1].mtime)
    control = Member(control.name, members[1].mtime, 0, 0, 0o100644, control.data)
    pieces = ar_bytes((members[0], control, *members[2:]))
    written = atomic_write(output, pieces, new_file_mode=0o644)
    # dpkg reads the result back: a package it cannot parse is never left behind.
    try:
        run(["dpkg-deb", "--info", output], hint=DEPENDENCY_HINT)
    except Exception:
        os.unlink(output)
        raise
    return written


def shipped_modes(deb: str) -> dict[str, int]:
    """Each path the package's data archive ships (``/etc/sudoers.d/nova-common``) and its mode.

    The mode carries the file type bits (``stat.S_ISDIR`` works on it).
    Read in Python from the data member, which is never unpacked to disk.
    """
    import io  # noqa: PLC0415 (only rewiring reads a data archive)
    import stat  # noqa: PLC0415
    import tarfile  # noqa: PLC0415

    member = data_member(read_members(deb))
    try:
        with tarfile.open(fileobj=io.BytesIO(member.data)) as archive:
            entries = archive.getmembers()
    except tarfile.TarError as error:
        raise DebFileError(
            f"{deb}: cannot read {member.name}: {error}.", hint="give a Debian binary package."
        ) from None
    modes = {}
    for entry in entries:
        kind = stat.S_IFDIR if entry.isdir() else stat.S_IFLNK if entry.issym() else stat.S_IFREG
        modes["/" + entry.name.removeprefix("./").rstrip("/")] = kind | entry.mode
    return modes
