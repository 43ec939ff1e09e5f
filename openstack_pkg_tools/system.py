"""System users, groups, directories and default config files of a service.

Every function checks first and changes only what is missing, so a second
postinst run does nothing. A directory or file that already exists is left
as the administrator set it: its mode is changed only when the profile says
``enforce_mode``. Deletion (purge) goes through ``remove_tree``, which
refuses any path that is not strictly below /etc, /var/lib, /var/log or
/var/cache.
"""

from __future__ import annotations

import fnmatch
import grp
import os
import pwd
import shutil
import socket
import stat

from . import log
from .errors import ConfigFileError, PkgosError
from .fileio import MissingFileError, atomic_write, create_file, kind_of, open_directory, read_bytes
from .profile import ConfigFile, Directory, Leftover, LeftoverAction, StateFile, SystemUser, is_purgeable
from .run import run


class SystemSetupError(PkgosError):
    """A user, group, directory or file of the service cannot be set up."""


def _group_id(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def _user_id(name: str) -> int | None:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def ensure_group(name: str, gid: int | None = None) -> bool:
    """Create the system group ``name`` (with ``gid`` if reserved); True if created."""
    current = _group_id(name)
    if current is not None:
        if gid is not None and current != gid:
            log.warning(f"group {name} has id {current}, not the reserved {gid}; keeping it.")
        return False
    argv = ["addgroup", "--system", "--quiet"]
    if gid is not None:
        argv += ["--gid", str(gid)]
    run([*argv, name], hint=f"check /etc/group for a conflicting group or id {gid}.")
    return True


def ensure_user(user: SystemUser) -> bool:
    """Create the system user and its group; True if created."""
    ensure_group(user.name, user.gid)
    created = False
    current = _user_id(user.name)
    if current is None:
        argv = ["adduser", "--system", "--quiet", "--home", user.home, "--no-create-home"]
        argv += ["--shell", user.shell, "--ingroup", user.name, "--disabled-password"]
        if user.uid is not None:
            argv += ["--uid", str(user.uid)]
        run([*argv, user.name], hint=f"check /etc/passwd for a conflicting user or id {user.uid}.")
        created = True
    elif user.uid is not None and current != user.uid:
        log.warning(f"user {user.name} has id {current}, not the reserved {user.uid}; keeping it.")
    return created


def ensure_membership(user: str, group: str) -> bool:
    """Add ``user`` to ``group``; True if added.

    The group comes with a package the calling package depends on
    (libvirt-daemon-system brings ``libvirt``), so a missing one is an error.
    """
    try:
        members = grp.getgrnam(group).gr_mem
    except KeyError:
        raise SystemSetupError(
            f"Cannot add {user} to group {group}: the group does not exist.",
            hint=f"install the package that creates {group} (the package's dependencies should).",
        ) from None
    if user in members:
        return False
    run(["adduser", "--quiet", user, group])
    return True


def _ids(owner: str, group: str, path: str) -> tuple[int, int]:
    uid, gid = _user_id(owner), _group_id(group)
    if uid is None or gid is None:
        missing = owner if uid is None else group
        raise SystemSetupError(
            f"Cannot give {path} to {owner}:{group}: {missing} does not exist.",
            hint="create the service's user first (the profile's [user]).",
        )
    return uid, gid


def ensure_directory(directory: Directory) -> str | None:
    """Create the directory with its owner and mode; say what was done ("created", ...), or None.

    An existing directory keeps its owner and mode unless the profile sets
    ``enforce_mode``: the administrator may have changed them on purpose.
    The owner and mode are set through a descriptor of the directory
    itself: its parent may be the service user's (/var/lib/glance/images),
    who could otherwise swap it for a link to a file of root's between a
    check and a chown.
    """
    path = directory.path
    uid, gid = _ids(directory.owner, directory.group, path)
    created = False
    try:
        fd = _open_existing_directory(path)
    except MissingFileError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.mkdir(path, 0o700)
        created = True
        fd = _open_existing_directory(path)
    try:
        current = os.fstat(fd)
        if not (created or directory.enforce_mode) or (
            stat.S_IMODE(current.st_mode) == directory.mode and (current.st_uid, current.st_gid) == (uid, gid)
        ):
            return "created" if created else None
        os.fchown(fd, uid, gid)
        os.fchmod(fd, directory.mode)
    finally:
        os.close(fd)
    return "created" if created else "set the owner and mode of"


def _open_existing_directory(path: str) -> int:
    try:
        return open_directory(path)
    except MissingFileError:
        raise
    except ConfigFileError as error:
        raise SystemSetupError(
            f"{path} exists and is not a directory ({error.message})",
            hint=f"move it away; the service needs {path}/.",
        ) from None


def ensure_state_file(entry: StateFile) -> bool:
    """Make ``entry`` exist, empty if new, with its owner and mode; True if anything changed.

    Its directory may be the service user's (/var/log/nova): the file is
    created or opened relative to it without following a link, and an
    existing name must be a regular file.
    """
    uid, gid = _ids(entry.owner, entry.group, entry.path)
    directory, name = os.path.split(entry.path)
    directory_fd = open_directory(directory)
    try:
        try:
            os.close(create_file(directory_fd, name, entry.mode, (uid, gid), entry.path))
            return True
        except FileExistsError:
            pass
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(name, flags, dir_fd=directory_fd)
        except OSError as error:
            raise SystemSetupError(
                f"Cannot open {entry.path}: {error.strerror}.", hint="remove it; the package makes it again."
            ) from None
        try:
            current = os.fstat(fd)
            if not stat.S_ISREG(current.st_mode):
                raise SystemSetupError(
                    f"{entry.path} is {kind_of(current.st_mode)}, not a regular file.",
                    hint="remove it; the package makes it again.",
                )
            if (current.st_uid, current.st_gid, stat.S_IMODE(current.st_mode)) == (uid, gid, entry.mode):
                return False
            os.fchown(fd, uid, gid)
            os.fchmod(fd, entry.mode)
            return True
        finally:
            os.close(fd)
    finally:
        os.close(directory_fd)


def handle_leftover(entry: Leftover) -> bool:
    """Remove or rename a file an older version left, as the profile says; True if done."""
    if entry.action is LeftoverAction.KEEP or not os.path.lexists(entry.path):
        return False
    if entry.action is LeftoverAction.RENAME:
        return move_aside(entry.path, entry.rename_to)
    return remove_path(entry.path)


def remove_path(path: str) -> bool:
    """Delete ``path``, a directory with everything below it or one file (purge); True if it existed."""
    if os.path.isdir(path) and not os.path.islink(path):
        return remove_tree(path)
    return remove_file(path)


def install_config(config: ConfigFile, package: str, group: str) -> list[str]:
    """Install ``package``'s default config once from ``/usr/share/<package>/``; return the paths installed.

    The file gets the profile's mode and owner (0640 root:``group``, the
    service's group, unless the profile says otherwise). A file another
    package installs is left to it; an existing file is the
    administrator's and is never replaced. A pattern installs each shipped
    file it matches, in name order, the same way.
    """
    if config.package != package:
        return []
    uid, gid = _ids(config.owner, config.group or group, config.target)
    installed = []
    for source, target in _config_files(config):
        if os.path.lexists(target):
            continue
        # atomic_write creates the file in its directory without following a
        # link (the directory may be the service user's: /etc/glance/metadefs).
        if atomic_write(target, read_bytes(source), new_file_mode=config.mode, new_file_owner=(uid, gid)):
            installed.append(target)
    return installed


def _config_files(config: ConfigFile) -> list[tuple[str, str]]:
    """(shipped file, target) of each file ``config`` installs."""
    source = os.path.join(share_dir(config.package), config.source)
    if not config.is_pattern:
        return [(source, config.target)]
    folder = os.path.dirname(source)
    try:
        listed = os.listdir(folder)
    except OSError as error:
        raise SystemSetupError(
            f"Cannot install {config.source} into {config.target}: {folder}: {error.strerror}.",
            hint=f"reinstall {config.package}, or fix the profile's [[config]] source.",
        ) from None
    names = sorted(
        name
        for name in listed
        if fnmatch.fnmatchcase(name, config.pattern) and os.path.isfile(os.path.join(folder, name))
    )
    return [(os.path.join(folder, name), os.path.join(config.target, name)) for name in names]


def remove_config(config: ConfigFile) -> list[str]:
    """Delete what ``config`` installed (purge); return the paths removed.

    For a pattern, the shipped files are gone by then (postrm runs after
    dpkg removed them): every file of ``target`` whose name matches goes.
    """
    if not config.is_pattern:
        return [config.target] if remove_file(config.target) else []
    try:
        names = sorted(os.listdir(config.target))
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed = []
    for name in (name for name in names if fnmatch.fnmatchcase(name, config.pattern)):
        path = os.path.join(config.target, name)
        # unlink removes a link itself, never its target; a name gone meanwhile is
        # skipped, and a directory of that name stays (it is no file the pattern installed).
        try:
            if remove_file(path):
                removed.append(path)
        except IsADirectoryError:
            continue
    return removed


def share_dir(package: str) -> str:
    """Where a package ships its default config files."""
    return os.path.join("/usr/share", package)


def remove_tree(path: str) -> bool:
    """Delete ``path`` and everything below it (purge); True if it existed.

    Refuses an empty, relative, unnormalized or top-level path, and a
    symbolic link (which would delete outside the service's directory).
    """
    if not is_purgeable(path):
        raise SystemSetupError(
            f"Refusing to delete {path!r}: not strictly below /etc, /var/lib, /var/log or /var/cache.",
            hint="fix the profile's directory paths.",
        )
    if os.path.islink(path):
        raise SystemSetupError(
            f"Refusing to delete {path}: it is a symbolic link.", hint="remove it by hand."
        )
    if not os.path.lexists(path):
        return False
    shutil.rmtree(path)
    return True


def remove_file(path: str) -> bool:
    """Delete one config file (purge); True if it existed."""
    if not is_purgeable(path):
        raise SystemSetupError(
            f"Refusing to delete {path!r}: not below /etc or /var.", hint="fix the profile."
        )
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def move_aside(path: str, target: str) -> bool:
    """Rename the regular file ``path`` to ``target`` (replacing it); True if it was there.

    Anything else at ``path`` (a link, a directory) is left alone: the
    file of an older release is a plain file its package installed.
    """
    try:
        current = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(current.st_mode):
        log.warning(f"{path} is not a regular file: left where it is.")
        return False
    os.replace(path, target)
    return True


def remove_empty_directory(path: str) -> bool:
    """Delete ``path`` if it is an empty directory (what purge leaves of /etc/<svc>)."""
    try:
        os.rmdir(path)
    except OSError:
        return False
    return True


def default_route_address() -> str:
    """This machine's address on the default route (no packet is sent); empty without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing decision only
            return str(probe.getsockname()[0])
        except OSError:
            return ""
