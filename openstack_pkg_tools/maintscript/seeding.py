"""Answers seeded from the current config files.

``config`` shows what is in effect: before it asks, each question gets the
value its config directive holds now (the connection URL, transport_url,
``[keystone_authtoken]``), so that ``dpkg-reconfigure`` changes nothing
unless the administrator does.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from .. import ksat
from ..errors import InvalidValueError
from ..inifile import IniFile, oslo_unliteral
from ..profile import ServiceProfile
from ..questions import Family, Type, families, of_family
from ..urls import DatabaseUrl, Engine, TransportUrl

Reader = Callable[[str, str, str], str | None]


def config_reader() -> Reader:
    """A Reader of the config files: a directive's value, None when the file or it is absent.

    Each file is read and parsed once, however many directives are asked
    for (the ksat questions alone look at up to ten).
    """
    opened: dict[str, IniFile | None] = {}

    def read(path: str, section: str, key: str) -> str | None:
        if path not in opened:
            opened[path] = IniFile(path) if os.path.exists(path) else None
        conf = opened[path]
        return None if conf is None else conf.get(section, key)

    return read


def database_seeds(profile: ServiceProfile, read: Reader) -> dict[str, str]:
    """The db answers the first database's connection URL gives; empty when there is none."""
    database = profile.databases[0]
    text = read(database.config, database.section, database.directive) if database.section else None
    try:
        url = DatabaseUrl.parse(text) if text else None
    except InvalidValueError:
        return {}  # not a URL this toolkit writes: ask with the defaults
    if url is None:
        return {}
    if url.engine is Engine.SQLITE:
        return {"db-type": str(url.engine)}
    seeds = {
        "db-type": str(url.engine),
        "db-host": url.host or "",
        "db-user": url.user or "",
        "db-password": url.password or "",
        "db-name": url.database,
    }
    return {question: value for question, value in seeds.items() if value}


def _rabbit_seeds(profile: ServiceProfile, read: Reader) -> dict[str, str]:
    assert profile.messaging is not None
    text = read(profile.messaging.configs[0], "DEFAULT", "transport_url")
    try:
        url = TransportUrl.parse(text) if text else None
    except InvalidValueError:
        return {}
    if url is None or url.scheme != "rabbit":
        return {}
    # Several brokers: the first one is what the questions are about.
    first = url.hosts[0]
    seeds = {
        "rabbit-host": first.host,
        "rabbit-userid": first.user or "",
        "rabbit-password": first.password or "",
    }
    return {question: value for question, value in seeds.items() if value}


# The directives each question is seeded from, in order; each comes with the
# legacy names the reference wrote (ksat.RENAMED), current name first.
KSAT_SEEDS = {
    "ksat-public-url": ("www_authenticate_uri", "auth_url"),
    "ksat-region": ("region_name",),
    "ksat-service-username": ("username",),
    "ksat-service-project-name": ("project_name",),
    "ksat-service-password": ("password",),
}


def _ksat_seeds(profile: ServiceProfile, read: Reader) -> dict[str, str]:
    assert profile.authtoken is not None
    path, section = profile.authtoken.configs[0], profile.authtoken.section
    seeds = {}
    for question, directives in KSAT_SEEDS.items():
        keys = [name for directive in directives for name in ksat.names_of(directive)]
        value = next((v for v in (read(path, section, key) for key in keys) if v), None)
        if value:
            # ksat writes every value escaped for oslo.config ("$" doubled).
            seeds[question] = oslo_unliteral(value)
    return seeds


def seeds(profile: ServiceProfile, package: str, read: Reader | None = None) -> dict[str, str]:
    """Answers taken from the current config files, by question name (no prefix)."""
    read = read or config_reader()
    found: dict[str, str] = {}
    wanted = families(profile, package)
    if Family.DB in wanted:
        found |= database_seeds(profile, read)
    if Family.RABBIT in wanted:
        found |= _rabbit_seeds(profile, read)
    if Family.KSAT in wanted:
        found |= _ksat_seeds(profile, read)
    return found | asked_seeds(profile, package, read)


def asked_seeds(profile: ServiceProfile, package: str, read: Reader) -> dict[str, str]:
    """The asked settings' answers their directives hold now, as Debian's config reads them."""
    found = {}
    for asks in profile.asks_for(package):
        for question in of_family(Family(asks.family)):
            value = read(asks.config, *question.writes) if question.writes else None
            if value and question.type is Type.BOOLEAN:
                # oslo.config reads True, yes, 1 ...; debconf's booleans are true and false.
                value = {"true": "true", "false": "false"}.get(value.strip().lower())
            if value:
                # Written escaped for oslo.config ("$" doubled).
                found[question.name] = oslo_unliteral(value)
    return found
