"""What one package of a service sets up on the system, from its profile.

A service is several packages (nova-common, nova-api, nova-scheduler,
nova-compute-qemu, ...); each one's postinst sets up its own part of the
profile: the service user (every package, as Debian's scripts do), the
group memberships, directories and default config files that package
brings, and the settings the profile fixes in its config files. Its purge
removes the config files and directories it created. Every step checks
first, so a second run changes nothing and rewrites no file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from . import system
from .errors import PkgosError
from .inifile import IniFile, oslo_literal
from .profile import ServiceProfile, Setting


class SettingError(PkgosError):
    """A setting the profile fixes cannot be written."""


def install_files(profile: ServiceProfile, package: str) -> list[str]:
    """Set up ``package``'s part of the profile; return what was done.

    The user, the package's memberships, directories, default configs, the
    files older versions left (kept, removed or renamed), state files and
    settings.
    """
    done = []
    user = profile.user.name
    if system.ensure_user(profile.user):
        done.append(f"created system user {user}")
    for membership in profile.memberships_for(package):
        if system.ensure_membership(user, membership.group):
            done.append(f"added {user} to group {membership.group}")
    for directory in profile.directories_for(package):
        did = system.ensure_directory(directory)
        if did:
            done.append(f"{did} {directory.path} ({directory.mode:04o} {directory.owner}:{directory.group})")
    for config in profile.configs_for(package):
        installed = system.install_config(config, package, user)
        if config.is_pattern and installed:
            done.append(f"installed {len(installed)} files in {config.target} ({config.source})")
        else:
            done.extend(f"installed {target}" for target in installed)
    for leftover in profile.leftovers_for(package):
        if system.handle_leftover(leftover):
            moved = f" to {leftover.rename_to}" if leftover.rename_to else ""
            done.append(f"{leftover.action}d {leftover.path}{moved} (left by an older version)")
    for entry in profile.files_for(package):
        if system.ensure_state_file(entry):
            done.append(f"made {entry.path} {entry.owner}:{entry.group} {entry.mode:04o}")
    return done + write_settings(profile.settings_for(package))


def write_settings(settings: Iterable[Setting]) -> list[str]:
    """Write ``settings`` (fixed by a profile, or asked), each config file opened and written once."""
    by_file: dict[str, list[Setting]] = {}
    for setting in settings:
        by_file.setdefault(setting.config, []).append(setting)
    done = []
    for path, in_file in by_file.items():
        if not os.path.exists(path):
            first = in_file[0]
            raise SettingError(
                f"Cannot set [{first.section}] {first.key} in {path}: the file does not exist.",
                hint=f"reinstall the package that ships {path}, or fix the profile's setting.",
            )
        with IniFile(path) as conf:
            for setting in in_file:
                value = setting.value if setting.raw else oslo_literal(setting.value)
                # Without enforce, a value already there is the administrator's.
                if setting.enforce or conf.get(setting.section, setting.key) is None:
                    conf.set(setting.section, setting.key, value)
            if conf.changed:
                done.append(f"wrote {', '.join(f'[{s.section}] {s.key}' for s in in_file)} in {path}")
    return done


def purged_paths(profile: ServiceProfile, package: str) -> list[str]:
    """What ``purge_files`` removes for ``package``, as paths (a pattern as its directory and pattern)."""
    configs = [
        os.path.join(config.target, config.pattern) if config.is_pattern else config.target
        for config in profile.configs_for(package)
    ]
    made = [entry.path for entry in profile.files_for(package)]
    leftovers = [p for entry in profile.leftovers_for(package) for p in (entry.path, entry.rename_to) if p]
    return [*configs, *made, *leftovers, *(directory.path for directory in profile.purged_by(package))]


def purge_files(profile: ServiceProfile, package: str) -> list[str]:
    """Remove the config files and directories ``package`` created (the system user stays)."""
    done = []
    for config in profile.configs_for(package):
        paths = system.remove_config(config)
        if config.is_pattern and paths:
            done.append(f"removed {len(paths)} files in {config.target} ({config.source})")
        else:
            done.extend(f"removed {path}" for path in paths)
    leftovers = profile.leftovers_for(package)
    made = [entry.path for entry in profile.files_for(package)]
    for path in [*made, *(p for entry in leftovers for p in (entry.path, entry.rename_to) if p)]:
        if system.remove_path(path):
            done.append(f"removed {path}")
    # Deepest first: a directory below /etc/<svc> goes before /etc/<svc> is
    # found empty or not.
    for directory in sorted(profile.purged_by(package), key=lambda d: d.path.count("/"), reverse=True):
        # A directory that is not purged whole (/etc/<svc>) goes only once empty.
        if directory.purge:
            removed = system.remove_tree(directory.path)
        else:
            removed = system.remove_empty_directory(directory.path)
        if removed:
            done.append(f"removed {directory.path}")
    return done
