"""The maintainer script phases of a service, driven by its profile.

A package's scripts are one call each (see docs/packaging.md)::

    #!/usr/bin/python3
    from openstack_pkg_tools.maintscript import main
    main("glance")

``config`` asks the debconf questions of the families the running package
needs (db, rabbit, ksat for the ``-common`` package, endpoint for the
``*-api`` one, the asked settings the profile's ``[[asks]]`` give a
package), seeded from the current config files so that
``dpkg-reconfigure`` shows what is in effect. ``postinst configure`` checks
every answer first (``plans``), then creates the user, directories and
default config files and hands the plans whose ``configure_*`` answer is
yes to ``apply_plans``; once it all succeeded, the passwords are forgotten.
``postrm purge`` asks whether to drop the database, and removes config
files and the service's state and log directories.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Sequence
from enum import StrEnum

from .. import log, steps, system
from ..debconf import Debconf, ensure_frontend
from ..errors import InvalidValueError, PkgosError
from ..profile import PACKAGE_RE, ServiceProfile, load, parse
from ..questions import (
    Condition,
    Family,
    Question,
    by_name,
    details_of,
    families,
    holds,
    needs_address,
    of_family,
    prefix_of,
    switch_of,
)
from .plans import database_plan, plans
from .seeding import Reader, config_reader, database_seeds, seeds


class Phase(StrEnum):
    """The maintainer scripts a profile drives."""

    CONFIG = "config"
    POSTINST = "postinst"
    PRERM = "prerm"
    POSTRM = "postrm"


# -- config --------------------------------------------------------------------


def config(conf: Debconf, profile: ServiceProfile, package: str, read: Reader | None = None) -> None:
    """Ask the questions; safe to run twice (apt-utils preconfigures, then postinst runs it again)."""
    prefix = prefix_of(profile, package)
    secret = {q.name for family in families(profile, package) for q in of_family(family) if q.secret}
    pending = _pending(conf, profile, package)
    for name, value in seeds(profile, package, read).items():
        current = conf.get(f"{prefix}/{name}")
        # A password postinst forgot is seeded from the config file; one
        # that is there was given since (preseeded for a rotation, or kept
        # by a failed run) and is the one to apply. So is every answer given
        # (seen) of a family whose switch is still on: a run that failed or
        # was killed left the files half-written (Debian's shipped
        # placeholders, such as region_name = regionOne), not chosen.
        kept = name in pending and conf.seen(f"{prefix}/{name}")
        if current != value and not (name in secret and current) and not kept:
            conf.set(f"{prefix}/{name}", value)
    for family in families(profile, package):
        switch = switch_of(family)
        if switch is not None:
            conf.ask(switch.full_name(prefix), switch.priority)
            conf.go()
        if switch is None or conf.get_bool(switch.full_name(prefix)):
            _ask_details(conf, prefix, details_of(family))
            if family is Family.KEYSTONE:
                _confirm_admin_password(conf, prefix)


def _pending(conf: Debconf, profile: ServiceProfile, package: str) -> set[str]:
    """The non-secret questions of the families whose switch is on: answers postinst has not applied yet.

    postinst turns each switch off once everything succeeded
    (``forget_secrets``); a switch still on was preseeded, or kept by a run
    that failed or was killed.
    """
    pending = set()
    for family in families(profile, package):
        switch = switch_of(family)
        if switch is not None and conf.get_bool(switch.full_name(prefix_of(profile, package))):
            pending |= {question.name for question in details_of(family) if not question.secret}
    return pending


def _ask_details(conf: Debconf, prefix: str, questions: Sequence[Question]) -> None:
    """Ask a family's questions; one that depends on earlier answers waits for them."""
    for question in questions:
        if question.only_if is not None:
            conf.go()
            if not holds(question.only_if, lambda name: conf.get(f"{prefix}/{name}")):
                continue
        conf.ask(question.full_name(prefix), question.priority)
    conf.go()


def _confirm_admin_password(conf: Debconf, prefix: str) -> None:
    """While the administrator's password and its confirmation differ, show Debian's error note and
    ask both again, as Debian's keystone does.

    When the note is not shown (noninteractive, or a priority above it) the
    answers stay as they are and postinst refuses them, naming both
    questions: a password nobody typed twice is never made up.
    """
    first, again = (by_name(Family.KEYSTONE, name) for name in ("admin-password", "admin-password-confirm"))
    note = by_name(Family.KEYSTONE, "passwords-do-not-match")
    while conf.get(first.full_name(prefix)) != conf.get(again.full_name(prefix)):
        conf.mark_unseen(note.full_name(prefix))
        if not conf.ask(note.full_name(prefix), note.priority):
            return
        for question in (first, again):
            conf.forget(question.full_name(prefix))
            conf.ask(question.full_name(prefix), question.priority)
        conf.go()


def answers(conf: Debconf, profile: ServiceProfile, package: str) -> dict[str, str]:
    """The current answers of ``package``'s families, by question name without prefix."""
    prefix = prefix_of(profile, package)
    questions = [question for family in families(profile, package) for question in of_family(family)]
    return {question.name: conf.get(question.full_name(prefix)) for question in questions}


# -- postinst: apply ---------------------------------------------------------------


def forget_secrets(conf: Debconf, profile: ServiceProfile, package: str) -> None:
    """Wipe the passwords and turn the one-shot switches off, of the families ``package`` asks.

    The service's own passwords are in its config files, from which
    ``config`` seeds them again.

    Only those: a package with the db family alone has no ksat questions.
    """
    prefix = prefix_of(profile, package)
    for family in families(profile, package):
        for question in of_family(family):
            if question.secret:
                conf.forget(question.full_name(prefix))
        switch = switch_of(family)
        if switch is not None:
            conf.set_bool(switch.full_name(prefix), False)


def _configured_database(profile: ServiceProfile, package: str) -> bool:
    """Whether ``package`` owns the service's databases and a connection URL is in the config."""
    return Family.DB in families(profile, package) and bool(database_seeds(profile, config_reader()))


def postinst(conf: Debconf, profile: ServiceProfile, package: str, upgrade: bool = False) -> list[str]:
    """Configure the service; return the summary of what was done.

    On an upgrade the new version may bring schema migrations: they run
    even though configure_db was turned off after the first install, as
    long as a connection URL this toolkit wrote is in the config file.
    """
    from . import apply, regions  # noqa: PLC0415 (database and Keystone layers: only postinst needs them)

    try:
        asks_address = any(needs_address(family) for family in families(profile, package))
        address = system.default_route_address() if asks_address else ""
        planned = plans(profile, package, answers(conf, profile, package), address)
        # Still before any change: a region answer Keystone lacks is refused.
        regions.refuse_unknown_regions(planned)
        done = steps.install_files(profile, package)
        done += apply.apply_plans(profile, planned)
        if upgrade and planned.database is None and _configured_database(profile, package):
            done += apply.sync_databases(profile, profile.databases)
    except PkgosError as error:
        first = error.hint.rstrip(". ") or "fix the cause above"
        error.hint = (
            f"{first}; then run: dpkg --configure -a (or dpkg-reconfigure {package}), the answers are kept."
        )
        raise
    # Only once everything is done: after a failure (a server down, a
    # killed run) the answers stay, in debconf's root-only password
    # database, so that `dpkg --configure -a` finishes the work without
    # asking anything again.
    forget_secrets(conf, profile, package)
    return done


# -- postrm ------------------------------------------------------------------------


def purge(conf: Debconf | None, profile: ServiceProfile, package: str) -> list[str]:
    """Remove what postinst created (the system user stays, as Debian's policy asks).

    Last, what the controller keeps of this host and its operator removes
    (the profile's [[leaving]]).
    """
    done = []
    if conf is not None and Family.DB in families(profile, package):
        purge_db = by_name(Family.DB, "purge-db")
        question = purge_db.full_name(profile.prefix)
        conf.ask(question, purge_db.priority)
        conf.go()
        if conf.get_bool(question):
            done += _drop_databases(conf, profile, package)
    done += steps.purge_files(profile, package)
    host = socket.gethostname()
    return done + [entry.text.format(host=host) for entry in profile.leavings_for(package)]


def _drop_databases(conf: Debconf, profile: ServiceProfile, package: str) -> list[str]:
    """Drop the databases the config file's connection URL names.

    The URL says what postinst created (debconf's answers may be mere
    defaults). A failure is reported, not raised: the purge goes on, and
    the message says what to drop by hand.
    """
    from . import apply  # noqa: PLC0415 (database layer: only a purge needs it)

    written = database_seeds(profile, config_reader())
    if not written:
        log.info("database: no connection URL in the config file; nothing to drop.")
        return []
    current = {**answers(conf, profile, package), **written}
    admin_password = by_name(Family.DB, "db-admin-password").full_name(profile.prefix)
    try:
        if holds(Condition.REMOTE_DB, lambda name: current.get(name, "")) and not current.get(
            "db-admin-password"
        ):
            # postinst forgot the administrator's password: ask for it again.
            conf.ask(admin_password, by_name(Family.DB, "db-admin-password").priority)
            conf.go()
            current["db-admin-password"] = conf.get(admin_password)
        return apply.drop_databases(profile, database_plan(profile, current))
    except PkgosError as error:
        log.warning(f"the database was not dropped: {error}")
        return []
    finally:
        conf.forget(admin_password)


# -- entry point -------------------------------------------------------------------


# debconf's preconfigure step runs a copy of config named
# /var/cache/debconf/tmp.ci/<package>.config.XXXXXX; multi-arch packages add :<arch>.
SCRIPT_NAME_RE = re.compile(
    rf"(?P<package>{PACKAGE_RE.pattern}?)(?::[a-z0-9-]+)?\.(?P<phase>config|postinst|prerm|postrm)(?:\.\w+)?"
)


def script_identity(script: str) -> tuple[str, Phase]:
    """The package and phase of a maintainer script, from its file name (dpkg's environment first)."""
    match = SCRIPT_NAME_RE.fullmatch(os.path.basename(script))
    if match is None:
        raise InvalidValueError(
            f"Cannot tell the package and phase of maintainer script {script}.",
            hint="name it <package>.<config|postinst|prerm|postrm>, or pass the phase explicitly.",
        )
    package = os.environ.get("DPKG_MAINTSCRIPT_PACKAGE") or match.group("package")
    return package, Phase(match.group("phase"))


def talks_to_debconf(phase: Phase, args: Sequence[str]) -> bool:
    """True for the phases and dpkg actions that do something (config, postinst configure, postrm purge)."""
    action = args[0] if args else ""
    return (
        phase is Phase.CONFIG
        or (phase is Phase.POSTINST and action == "configure")
        or (phase is Phase.POSTRM and action == "purge")
    )


def is_upgrade(phase: Phase, args: Sequence[str]) -> bool:
    """True for ``postinst configure OLD-VERSION`` run by dpkg, not by dpkg-reconfigure."""
    return (
        phase is Phase.POSTINST
        and len(args) > 1
        and bool(args[1])
        and not os.environ.get("DEBCONF_RECONFIGURE")
    )


def run_phase(
    conf: Debconf, phase: Phase, profile: ServiceProfile, package: str, upgrade: bool = False
) -> list[str]:
    """Run one phase that talks to debconf; return the summary of what was done."""
    if phase is Phase.CONFIG:
        config(conf, profile, package)
        return []
    if phase is Phase.POSTINST:
        return postinst(conf, profile, package, upgrade)
    done = purge(conf, profile, package)
    conf.purge()
    return done


def main(
    profile: str,
    phase: str | None = None,
    argv: Sequence[str] | None = None,
    *,
    text: str | None = None,
) -> None:
    """Entry point of a maintainer script: return on success, exit 1 with one message on error.

    The package and, unless given, the phase come from the script's name
    (``glance-common.postinst``); ``argv`` defaults to ``sys.argv``.
    ``profile`` is a shipped profile's name or a profile file's path; with
    ``text`` (a profile embedded in the script) it only names the profile.
    """
    argv = list(sys.argv if argv is None else argv)
    try:
        package, named_phase = script_identity(argv[0])
        chosen = Phase(phase) if phase else named_phase
        loaded = load(profile) if text is None else parse(text, profile)
        if not talks_to_debconf(chosen, argv[1:]):
            return
        ensure_frontend(argv)
        conf = Debconf.open()
        try:
            done = run_phase(conf, chosen, loaded, package, is_upgrade(chosen, argv[1:]))
        finally:
            # Not on a shell script's own channel: Debconf.stop says why.
            conf.stop()
    except PkgosError as error:
        log.info(f"error: {error}")
        sys.exit(1)
    for line in done:
        log.info(line)
    if chosen is Phase.POSTINST and not done:
        log.info("already set up: nothing changed.")
