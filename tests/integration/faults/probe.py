"""Run inside a node with Debian's /usr/bin/python3: what the fault tests compare and check.

Reads one JSON request on stdin (secrets travel there, never on an argv)
and prints one JSON answer. Standard library, pymysql and keystoneauth1
only (Debian's, installed in the node with the services).

- ``{"action": "snapshot", "admin_password": ..., "configs": [dirs]}``: what
  an install leaves that matters (config files, databases and their users
  and grants, RabbitMQ's users, Keystone's catalog, users, projects and
  role assignments); no secret in it but as a hash of a file's bytes.
- ``{"action": "token", "user": ..., "password": ..., "project": ...}``:
  whether Keystone gives that user a token, and whether Glance lists
  images with it (and refuses without one).
- ``{"action": "works", "admin_password": ..., "user": ..., "password": ...,
  "project": ...}``: the administrator's token, with which Glance lists
  images (and refuses without a token), stores a small image, gives its
  bytes back and deletes it; and whether the service user gets a token.
- ``{"action": "db_login", "user": ..., "password": ...}``: whether MariaDB
  lets that user in.
- ``{"action": "forget", "admin_password": ..., "user": ..., "service": ...}``:
  delete a user and a service (its endpoints with it) from Keystone.
- ``{"action": "parse", "configs": [dirs]}``: every config file parsed with
  oslo.config's own parser; the problems found.
- ``{"action": "kill_during", "marker": ..., "script": ..., "delay": s,
  "whole_script": bool}``: wait for a process whose command line holds
  ``marker``, ``delay`` seconds more, then SIGKILL it with every process
  between it and the first process whose command line names the
  maintainer script ``script`` (the toolkit's worker), or with
  ``whole_script`` the script's own shell, and all their children. With
  ``"after_table": name`` it waits, instead of ``delay``, until MariaDB's
  database ``name`` has a table of the service's own (not alembic's
  record: a migration half-way through) and says how many there were.
"""

from __future__ import annotations

import contextlib
import grp
import hashlib
import json
import os
import pwd
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

KEYSTONE = "http://127.0.0.1:5000/v3"
GLANCE = "http://127.0.0.1:9292"
SOCKET = "/run/mysqld/mysqld.sock"


def files(directories: list[str]) -> dict[str, list[str]]:
    """Every file under ``directories``: the SHA-256 of its bytes, its owner, group and mode."""
    found = {}
    for top in directories:
        for directory, _, names in os.walk(top):
            for name in names:
                path = os.path.join(directory, name)
                status = os.lstat(path)
                with open(path, "rb") as stream:
                    digest = hashlib.sha256(stream.read()).hexdigest()
                found[path] = [
                    digest,
                    pwd.getpwuid(status.st_uid).pw_name,
                    grp.getgrgid(status.st_gid).gr_name,
                    oct(status.st_mode & 0o7777),
                ]
    return found


def databases() -> dict[str, Any]:
    """MariaDB's databases, users, the grants of each user, and each database's tables."""
    import pymysql

    connection = pymysql.connect(unix_socket=SOCKET, user="root")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT schema_name FROM information_schema.schemata ORDER BY 1")
            names = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT user, host FROM mysql.user ORDER BY 1, 2")
            users = [f"{user}@{host}" for user, host in cursor.fetchall()]
            grants = {}
            for user in users:
                name, _, host = user.partition("@")
                cursor.execute("SHOW GRANTS FOR %s@%s", (name, host))
                # The password hash is in the first grant line; the rotation test looks at logins.
                grants[user] = sorted(row[0].split(" IDENTIFIED ")[0] for row in cursor.fetchall())
            cursor.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
                "ORDER BY 1, 2"
            )
            tables: dict[str, list[str]] = {}
            for schema, table in cursor.fetchall():
                tables.setdefault(schema, []).append(table)
            versions = {}
            for schema, names_of in tables.items():
                if "alembic_version" in names_of:
                    cursor.execute(f"SELECT version_num FROM `{schema}`.alembic_version ORDER BY 1")
                    versions[schema] = [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()
    return {"databases": names, "users": users, "grants": grants, "tables": tables, "versions": versions}


def rabbit_users() -> list[str]:
    listing = subprocess.run(
        ["rabbitmqctl", "-q", "list_users"], capture_output=True, text=True, check=False, timeout=120
    )
    if listing.returncode != 0:
        return [f"rabbitmqctl failed: {listing.returncode}"]
    return sorted(line.split("\t")[0] for line in listing.stdout.splitlines()[1:] if line.strip())


def session(user: str, password: str, project: str) -> Any:
    """A keystoneauth1 session whose every request, the authentication's too, closes its connection.

    Debian's Keystone (uwsgi) may close a kept-alive connection just as the
    next request is sent on it ("Remote end closed connection").
    """
    import requests
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    auth = v3.Password(
        auth_url=KEYSTONE,
        username=user,
        password=password,
        project_name=project,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    closing = requests.Session()
    closing.headers["Connection"] = "close"
    return ks_session.Session(auth=auth, session=closing)


def keystone(admin_password: str) -> dict[str, Any]:
    """Keystone's catalog, users, projects and role assignments, by name."""
    admin = session("admin", admin_password, "admin")

    def get(path: str, key: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = admin.get(f"{KEYSTONE}{path}", headers={"Connection": "close"}).json()[
            key
        ]
        return found

    services = {service["id"]: service for service in get("/services", "services")}
    users = {user["id"]: user["name"] for user in get("/users", "users")}
    projects = {project["id"]: project["name"] for project in get("/projects", "projects")}
    roles = {role["id"]: role["name"] for role in get("/roles", "roles")}
    assignments = sorted(
        f"{users.get(item['user']['id'], '?')} {roles.get(item['role']['id'], '?')} on "
        + (
            projects.get(item["scope"]["project"]["id"], "?")
            if "project" in item.get("scope", {})
            else "system"
        )
        for item in get("/role_assignments", "role_assignments")
        if "user" in item
    )
    endpoints = sorted(
        f"{services[e['service_id']]['name']} {services[e['service_id']]['type']} {e['interface']} "
        f"{e['region_id']} {e['url']} enabled={e['enabled']}"
        for e in get("/endpoints", "endpoints")
    )
    return {
        "services": sorted(f"{s['name']} {s['type']} {s.get('description', '')}" for s in services.values()),
        "endpoints": endpoints,
        "users": sorted(users.values()),
        "projects": sorted(projects.values()),
        "assignments": assignments,
    }


def snapshot(request: dict[str, Any]) -> dict[str, Any]:
    return {
        "files": files(request["configs"]),
        "mariadb": databases(),
        "rabbitmq": rabbit_users(),
        "keystone": keystone(request["admin_password"]),
    }


def token(request: dict[str, Any]) -> dict[str, Any]:
    """Whether the user gets a token, and Glance's answers to an image list with and without it."""
    from keystoneauth1 import exceptions

    try:
        got = session(request["user"], request["password"], request["project"]).get_token()
    except exceptions.Unauthorized:
        return {"token": False}
    answers = {}
    for name, headers in (("with_token", {"X-Auth-Token": got}), ("without_token", {})):
        listing = urllib.request.Request(f"{GLANCE}/v2/images", headers=headers)
        try:
            with urllib.request.urlopen(listing, timeout=60) as response:
                answers[name] = [response.status, len(json.load(response)["images"])]
        except urllib.error.HTTPError as error:
            answers[name] = [error.code, 0]
    return {"token": True, **answers}


def glance(method: str, path: str, token_id: str, body: bytes = b"", kind: str = "") -> tuple[int, bytes]:
    """Glance's status and body for one request with ``token_id`` (none when empty)."""
    headers = {"X-Auth-Token": token_id} if token_id else {}
    if kind:
        headers["Content-Type"] = kind
    request = urllib.request.Request(f"{GLANCE}{path}", data=body or None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def works(request: dict[str, Any]) -> dict[str, Any]:
    """What the all-in-one check asks of Keystone and Glance (see the module's docstring)."""
    from keystoneauth1 import exceptions

    try:
        admin = session("admin", request["admin_password"], "admin").get_token()
    except exceptions.Unauthorized:
        return {"admin_token": False}
    status, body = glance("GET", "/v2/images", admin)
    listed = [status, len(json.loads(body)["images"]) if status == 200 else 0]
    image: dict[str, Any] = {}
    description = {"name": "pkgos-check", "disk_format": "raw", "container_format": "bare"}
    image["create"], body = glance(
        "POST", "/v2/images", admin, json.dumps(description).encode(), "application/json"
    )
    if image["create"] == 201:
        identifier = json.loads(body)["id"]
        data = os.urandom(4096)
        image["upload"], _ = glance(
            "PUT", f"/v2/images/{identifier}/file", admin, data, "application/octet-stream"
        )
        _, body = glance("GET", f"/v2/images/{identifier}", admin)
        image["status"] = json.loads(body)["status"] if body else None
        image["read_back"] = glance("GET", f"/v2/images/{identifier}/file", admin) == (200, data)
        image["delete"], _ = glance("DELETE", f"/v2/images/{identifier}", admin)
        image["gone"], _ = glance("GET", f"/v2/images/{identifier}", admin)
    try:
        session(request["user"], request["password"], request["project"]).get_token()
        service = True
    except exceptions.Unauthorized:
        service = False
    return {
        "admin_token": True,
        "list": listed,
        "list_without_token": glance("GET", "/v2/images", "")[0],
        "image": image,
        "service_token": service,
    }


def db_login(request: dict[str, Any]) -> dict[str, Any]:
    import pymysql

    try:
        pymysql.connect(host="127.0.0.1", user=request["user"], password=request["password"]).close()
    except pymysql.err.OperationalError as error:
        return {"login": False, "code": error.args[0]}
    return {"login": True}


def forget(request: dict[str, Any]) -> dict[str, Any]:
    """Delete a user and a service from Keystone.

    The request after a user's deletion has met a reset connection from
    Debian's Keystone (uwsgi) at times: the listings, which change nothing,
    are sent again then.
    """
    admin = session("admin", request["admin_password"], "admin")
    deleted = []
    for kind, name in (("users", request["user"]), ("services", request["service"])):
        found = admin.get(f"{KEYSTONE}/{kind}", headers={"Connection": "close"}, connect_retries=3).json()[
            kind
        ]
        for item in found:
            if item["name"] == name:
                admin.delete(f"{KEYSTONE}/{kind}/{item['id']}", headers={"Connection": "close"})
                deleted.append(f"{kind} {name}")
    return {"deleted": deleted}


def parse(request: dict[str, Any]) -> dict[str, Any]:
    from oslo_config import cfg

    problems = {}
    for path in files(request["configs"]):
        if path.endswith((".conf", ".ini")):
            try:
                cfg.ConfigParser(path, {}).parse()
            except Exception as error:  # any parse error is a finding
                problems[path] = f"{type(error).__name__}: {error}"
    return {"problems": problems}


def _processes() -> dict[int, tuple[int, str]]:
    """Every process: its parent and command line."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                    found[int(entry)] = (parent, cmdline.read().replace(b"\0", b" ").decode(errors="replace"))
            except (OSError, ValueError, IndexError):
                continue
    return found


def kill_during(request: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + request.get("timeout", 600)
    while time.monotonic() < deadline:
        table = _processes()
        target = next((pid for pid, (_, line) in table.items() if request["marker"] in line), None)
        if target is None:
            time.sleep(0.05)
            continue
        # Into the work rather than at its first instruction; the tree as it is then.
        tables = _wait_for_a_table(request["after_table"], deadline) if "after_table" in request else None
        time.sleep(request.get("delay", 0))
        table = {**table, **_processes()}
        chain = [target]
        while table.get(chain[-1], (1, ""))[0] > 1 and request["script"] not in table[chain[-1]][1]:
            chain.append(table[chain[-1]][0])
        if request["script"] not in table.get(chain[-1], (0, ""))[1]:
            return {"killed": [], "error": f"no {request['script']} above {table[target][1]}"}
        # With "whole_script", up to the script's own process (the shell), below debconf's frontend.
        while request.get("whole_script"):
            parent = table.get(table[chain[-1]][0], (0, ""))
            if request["script"] not in parent[1] or "debconf/frontend" in parent[1]:
                break
            chain.append(table[chain[-1]][0])
        doomed = set(chain)
        grew = True
        while grew:
            children = {pid for pid, (parent, _) in table.items() if parent in doomed}
            grew = not children <= doomed
            doomed |= children
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        killed = sorted(table[pid][1][:120] for pid in doomed if pid in table)
        return {"killed": killed, **({"tables_before_kill": tables} if tables is not None else {})}
    return {"killed": [], "error": f"no process with {request['marker']!r} within the time limit"}


def _wait_for_a_table(database: str, deadline: float) -> int:
    """How many tables ``database`` has besides ``alembic_version``, as soon as it has one."""
    import pymysql

    connection = pymysql.connect(unix_socket=SOCKET, user="root", autocommit=True)
    try:
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT COUNT(*) FROM information_schema.tables "
                    "WHERE table_schema = %s AND table_name <> 'alembic_version'",
                    (database,),
                )
                (count,) = cursor.fetchone()
                if count:
                    return int(count)
                time.sleep(0.02)
    finally:
        connection.close()
    return 0


def main() -> None:
    request = json.load(sys.stdin)
    actions = {
        "snapshot": snapshot,
        "token": token,
        "works": works,
        "db_login": db_login,
        "forget": forget,
        "parse": parse,
        "kill_during": kill_during,
    }
    action = actions[request["action"]]
    json.dump(action(request), sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
