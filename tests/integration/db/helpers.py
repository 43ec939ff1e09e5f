"""What several database tests do: write a URL into a config file and log in from it."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, inspect, text

from openstack_pkg_tools.db import DatabaseSpec
from openstack_pkg_tools.inifile import IniFile
from openstack_pkg_tools.urls import DatabaseUrl


def url_through_config(directory: str, url: DatabaseUrl) -> DatabaseUrl:
    """Write ``url`` into a glance-api.conf-like file and parse what reads back."""
    path = os.path.join(directory, "service.conf")
    with open(path, "w") as handle:
        handle.write("[DEFAULT]\ndebug = false\n\n[database]\n#connection = <None>\n")
    with IniFile(path) as conf:
        conf.set("database", "connection", url.render())
    read_back = IniFile(path).get("database", "connection")
    assert read_back is not None
    return DatabaseUrl.parse(read_back)


def login(url: DatabaseUrl, query: str) -> list[tuple[object, ...]]:
    """Log in with SQLAlchemy from ``url`` and run ``query``."""
    engine = create_engine(url.render(), poolclass=None)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query))]
    finally:
        engine.dispose()


def tables(spec: DatabaseSpec) -> set[str]:
    """The names of the tables in ``spec``'s database, as its user sees them."""
    engine = create_engine(spec.url().render())
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
