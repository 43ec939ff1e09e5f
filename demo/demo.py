#!/usr/bin/python3
"""make demo-short: Keystone and Glance installed by apt-get from a preseed, with no question asked.

As root on Debian 12, ``make demo-short`` runs ``demo.py up``:

1. builds the toolkit's own packages from this tree and installs them;
2. generates an all-in-one preseed from ``preseed/demo-site.toml`` (passwords
   generated into a 0600 store), checks it, and loads its keystone and glance
   answers with ``debconf-set-selections``;
3. builds the Keystone and Glance consumer packages of ``demo/packages`` with
   the installed ``pkgos gen-debian`` and installs them with apt-get,
   ``DEBIAN_FRONTEND=noninteractive``: their maintainer scripts create the
   databases (SQLite files, or MariaDB with ``--db mysql``), migrate them,
   bootstrap Keystone, write glance-api.conf and register Glance's service
   user and endpoints in Keystone;
4. starts both services with uwsgi on 127.0.0.1 (5000 and 9292) as their own
   users, then prints Keystone's catalog and checks a token end to end.

``make demo-short-clean`` runs ``demo.py clean``: it stops the services, purges the
consumer packages (databases included) and every package the demo
installed, forgets the preseeded answers and removes the demo's files.

Only the installed toolkit is used (``/usr/bin/pkgos``): the demo proves the
packages, not the source tree.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from consumers import Consumer, build

ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = ROOT / ".cache" / "demo"
STATE_FILE = STATE_DIR / "state.json"
RUN_DIR = Path("/run/pkgos-demo")
PKGOS = ["/usr/bin/pkgos"]
UWSGI = "/usr/bin/uwsgi_python3"
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
KEYSTONE_URL = "http://127.0.0.1:5000/v3"
GLANCE_URL = "http://127.0.0.1:9292"
START_TIMEOUT = 120.0
MARIADB_SOCKET = "/run/mysqld/mysqld.sock"


class Service:
    """One consumer package of the demo and how it is served."""

    def __init__(self, name: str, port: int, ready_url: str) -> None:
        self.name = name  # the folder of demo/packages
        self.package = f"pkgos-demo-{name}"
        self.port = port
        self.ready_url = ready_url
        self.pidfile = RUN_DIR / f"{name}.pid"
        self.log = Path(f"/var/log/{self.package}/uwsgi.log")


KEYSTONE = Service("keystone", 5000, KEYSTONE_URL)
GLANCE = Service("glance", 9292, f"{GLANCE_URL}/versions")
SERVICES = (KEYSTONE, GLANCE)
# The owners the generated preseed gives the questions (Debian's packages),
# and the question prefixes the demo's packages share with them.
PRESEED_OWNERS = ("keystone", "glance-common", "glance-api")
PREFIXES = ("keystone", "glance")


class DemoError(Exception):
    """A step failed; the message says which and what to do."""


# -- running commands -----------------------------------------------------------------


def run(argv: Sequence[str], stdin: str = "") -> str:
    """Run ``argv`` non-interactively; its stdout, or DemoError with its output."""
    env = {"PATH": PATH, "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive", "HOME": "/root"}
    result = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise DemoError(f"{' '.join(argv)} exited {result.returncode}:\n{output[-4000:]}")
    return result.stdout


@contextmanager
def step(title: str) -> Iterator[None]:
    """Print ``title``, then how long the step took."""
    print(f"==> {title}", flush=True)
    started = time.monotonic()
    yield
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def apt_install(*what: str) -> None:
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600", *what])


def installed_packages() -> set[str]:
    """The packages dpkg has installed (or half-installed)."""
    listing = run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n"])
    return {line.split()[0] for line in listing.splitlines() if not line.endswith(" not-installed")}


# -- the demo's state (what clean undoes) ---------------------------------------------


def load_state() -> dict[str, object]:
    try:
        state: dict[str, object] = json.loads(STATE_FILE.read_text())
        return state
    except FileNotFoundError:
        return {}


def save_state(state: dict[str, object]) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")


# -- up -------------------------------------------------------------------------------


def up(db: str) -> None:
    """Install and start Keystone and Glance; print the catalog and check a token."""
    preflight(db)
    state = load_state()
    # What was installed before the first run: clean purges everything else.
    state.setdefault("packages_before", sorted(installed_packages()))
    state["db"] = db
    save_state(state)
    started = time.monotonic()

    with step("Building the toolkit's packages (tools/build-debs)"):
        debs = STATE_DIR / "debs"
        run([str(ROOT / "tools" / "build-debs"), str(debs)])
    with step("Installing python3-openstack-pkg-tools and openstack-pkg-tools"):
        apt_install(*(str(deb) for deb in sorted(debs.glob("*.deb"))))
    if db == "mysql":
        with step("Installing and starting MariaDB"):
            state["started_mariadb"] = ensure_mariadb()
            save_state(state)
    with step(f"Generating the all-in-one preseed from preseed/demo-site.toml ({db})"):
        preseed = generate_preseed(db)
    with step("Building the Keystone and Glance packages (pkgos gen-debian)"):
        packages = STATE_DIR / "packages"
        shutil.rmtree(packages, ignore_errors=True)
        packages.mkdir(parents=True)
        debs_of = {
            service.name: build(Consumer(service.name, service.package, "1.0"), packages, PKGOS, run)
            for service in SERVICES
        }
    with step("Loading the keystone and glance answers (debconf-set-selections)"):
        run(["debconf-set-selections"], stdin=preseed)
    with step(f"apt-get install {KEYSTONE.package} (db sync, keys, bootstrap)"):
        apt_install(str(debs_of["keystone"]))
    with step("Starting Keystone on 127.0.0.1:5000"):
        start(KEYSTONE)
    with step(f"apt-get install {GLANCE.package} (db sync, authtoken, service user, catalog)"):
        apt_install(str(debs_of["glance"]))
    with step("Starting Glance on 127.0.0.1:9292"):
        start(GLANCE)
    state["packages_after"] = sorted(installed_packages())
    save_state(state)
    show_catalog_and_token()
    print(f"\nThe demo took {(time.monotonic() - started) / 60:.1f} min.")
    summary(db)


def preflight(db: str) -> None:
    if os.geteuid() != 0:
        raise DemoError("make demo-short installs packages: run it as root.")
    for service in SERVICES:
        if port_in_use(service.port) and not running(service):
            raise DemoError(
                f"Port {service.port} on 127.0.0.1 is in use by another program; {service.name} "
                "needs it. Stop that program (or run make demo-short-clean if it is an earlier demo), "
                "then run make demo-short again."
            )
    for service in SERVICES:
        if running(service):
            raise DemoError(
                f"The demo's {service.name} is already running (pid file {service.pidfile}). "
                "Run make demo-short-clean first."
            )
    state = load_state()
    if state.get("db") not in (None, db):
        raise DemoError(
            f"An earlier demo used DB={state['db']}; run make demo-short-clean before switching to DB={db}."
        )


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def ensure_mariadb() -> bool:
    """Install MariaDB if missing and start it if it is not answering; True if the demo started it."""
    apt_install("mariadb-server")
    if mariadb_answers():
        return False
    run(["service", "mariadb", "start"])
    deadline = time.monotonic() + 60
    while not mariadb_answers():
        if time.monotonic() > deadline:
            raise DemoError("MariaDB did not start: see /var/log/mysql/ and service mariadb status.")
        time.sleep(0.5)
    return True


def mariadb_answers() -> bool:
    result = subprocess.run(
        ["mariadb-admin", f"--socket={MARIADB_SOCKET}", "ping"], capture_output=True, check=False
    )
    return result.returncode == 0


def generate_preseed(db: str) -> str:
    """The keystone and glance lines of the all-in-one preseed of the demo's site."""
    site = STATE_DIR / "site"
    site.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "preseed" / "demo-site.toml").read_text()
    if db == "mysql":
        text = text.replace('type = "sqlite"', 'type = "mysql"\nhost = "localhost"')
    (site / "site.toml").write_text(text)
    generate = ["preseed", "generate", str(site / "site.toml"), "--role", "all-in-one"]
    run([*PKGOS, *generate, "--output-dir", str(site)])
    preseed = site / "all-in-one.preseed"
    run([*PKGOS, "preseed", "check", str(preseed)])
    lines = preseed.read_text().splitlines()
    return "".join(f"{line}\n" for line in lines if any(f" {prefix}/" in line for prefix in PREFIXES))


def start(service: Service) -> None:
    """Serve ``service`` with uwsgi (its package's uwsgi.ini, as its user); wait until it answers."""
    RUN_DIR.mkdir(exist_ok=True)
    run(
        [
            UWSGI,
            "--ini",
            f"/etc/{service.package}/uwsgi.ini",
            "--daemonize",
            str(service.log),
            "--pidfile",
            str(service.pidfile),
        ]
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(service.ready_url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers, if only with an error status
        except OSError:
            time.sleep(0.5)
    raise DemoError(f"{service.name} did not answer on {service.ready_url}; see {service.log}.")


def show_catalog_and_token() -> None:
    """Keystone's catalog as the administrator sees it, and a token check through Glance."""
    passwords = tomllib.loads((STATE_DIR / "site" / "secrets.toml").read_text())
    admin = keystone_session("admin", passwords["keystone-admin"], "admin")
    catalog = admin.get(f"{KEYSTONE_URL}/auth/catalog").json()["catalog"]
    print("\nKeystone's catalog (GET /v3/auth/catalog as admin):\n")
    print(f"  {'service':<10} {'type':<10} {'interface':<10} {'region':<10} url")
    for entry in sorted(catalog, key=lambda entry: entry["type"]):
        for endpoint in sorted(entry["endpoints"], key=lambda endpoint: endpoint["interface"]):
            print(
                f"  {entry['name']:<10} {entry['type']:<10} {endpoint['interface']:<10} "
                f"{endpoint['region_id']:<10} {endpoint['url']}"
            )

    # Glance's service user, with the credentials its postinst wrote.
    conf = f"/etc/{GLANCE.package}/glance-api.conf"
    values = {
        key: ini_get(conf, "keystone_authtoken", key) for key in ("username", "password", "project_name")
    }
    glance = keystone_session(values["username"], values["password"], values["project_name"])
    token = glance.get_token()
    checked = admin.get(f"{KEYSTONE_URL}/auth/tokens", headers={"X-Subject-Token": token}).json()["token"]
    images = urllib.request.Request(f"{GLANCE_URL}/v2/images", headers={"X-Auth-Token": token})
    with urllib.request.urlopen(images, timeout=30) as response:
        listed = json.load(response)["images"]
    anonymous = urllib.request.Request(f"{GLANCE_URL}/v2/images")
    try:
        urllib.request.urlopen(anonymous, timeout=30).close()
        refused = False
    except urllib.error.HTTPError as error:
        refused = error.code == 401
    if not refused:
        raise DemoError(f"Glance answered GET {GLANCE_URL}/v2/images without a token: authentication is off.")
    print("\nToken check:")
    print(f"  {values['username']} (from {conf}) got a token; Keystone says it is valid for user")
    user, project = checked["user"]["name"], checked["project"]["name"]
    print(f"  {user} in project {project}, until {checked['expires_at']}.")
    answer = f"answered {response.status}, {len(listed)} images"
    print(f"  Glance accepted it: GET {GLANCE_URL}/v2/images {answer} (401 without a token).")


def keystone_session(username: str, password: str, project: str) -> Any:
    """A keystoneauth1 session that logs in to the demo's Keystone (Default domain)."""
    # The toolkit installed by step 1 (this script starts before it is there).
    from openstack_pkg_tools.keystone.client import password_session
    from openstack_pkg_tools.keystone.model import AdminCredentials

    return password_session(AdminCredentials(KEYSTONE_URL, username, password, project))


def ini_get(path: str, section: str, key: str) -> str:
    """A value of a config file, read with the installed pkgos."""
    return run([*PKGOS, "ini", "get", path, section, key]).rstrip("\n")


def summary(db: str) -> None:
    databases = (
        "/var/lib/pkgos-demo-keystone/keystone.sqlite and /var/lib/pkgos-demo-glance/glance.sqlite"
        if db == "sqlite"
        else "MariaDB databases keystone and glance, with users of the same names"
    )
    print(
        f"""
What the demo made:
  packages      python3-openstack-pkg-tools, openstack-pkg-tools (built from this tree),
                {KEYSTONE.package}, {GLANCE.package} (built with pkgos gen-debian),
                and what they depend on (python3-keystone, python3-glance, uwsgi ...)
  system users  {KEYSTONE.package}, {GLANCE.package}
  files         /etc/{KEYSTONE.package}/, /etc/{GLANCE.package}/ (config, keys),
                /var/lib/ and /var/log/ of both packages
  databases     {databases}
  services      Keystone on {KEYSTONE_URL}, Glance on {GLANCE_URL} (uwsgi, pid files in {RUN_DIR})
  passwords     {STATE_DIR / "site" / "secrets.toml"} (mode 0600); the preseed beside it

Remove all of it, databases included, with: make demo-short-clean"""
    )


# -- clean ----------------------------------------------------------------------------


def clean() -> None:
    """Stop the services and purge what the demo installed; safe to run again."""
    if os.geteuid() != 0:
        raise DemoError("make demo-short-clean purges packages: run it as root.")
    state = load_state()
    with step("Stopping Keystone and Glance"):
        for service in SERVICES:
            stop(service)
    with step(f"Purging {KEYSTONE.package} and {GLANCE.package}, databases included"):
        for service in reversed(SERVICES):
            purge_consumer(service)
    with step("Forgetting the preseeded answers"):
        for owner in PRESEED_OWNERS:
            run(["debconf-communicate", owner], stdin="PURGE\n")
    if state.get("started_mariadb"):
        with step("Stopping the MariaDB the demo started"):
            run(["service", "mariadb", "stop"])
    # What the demo installed: the packages present at the end of make demo
    # (or now, if it stopped half-way) that were not there before it.
    before = set(state.get("packages_before", []))  # type: ignore[arg-type]
    after = set(state.get("packages_after", [])) or installed_packages()  # type: ignore[arg-type]
    added = sorted((after - before) & installed_packages()) if before else []
    if added:
        with step(f"Purging the {len(added)} packages the demo installed"):
            run(["apt-get", "purge", "-y", "-q", "-o", "DPkg::Lock::Timeout=600", *added])
    shutil.rmtree(STATE_DIR, ignore_errors=True)
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    print("The demo is gone.")


def running(service: Service) -> bool:
    try:
        pid = int(service.pidfile.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    return True


def stop(service: Service) -> None:
    """Stop a service's uwsgi master (and so its workers) by its pid file."""
    if running(service):
        pid = int(service.pidfile.read_text())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while running(service) and time.monotonic() < deadline:
            time.sleep(0.2)
        if running(service):
            os.kill(pid, signal.SIGKILL)
    service.pidfile.unlink(missing_ok=True)


def purge_consumer(service: Service) -> None:
    """Purge a consumer package, answering yes to dropping its database, and remove its user."""
    prefix = service.name
    run(["debconf-set-selections"], stdin=f"{service.package} {prefix}/purge-db boolean true\n")
    if service.package in installed_packages():
        run(["apt-get", "purge", "-y", "-q", "-o", "DPkg::Lock::Timeout=600", service.package])
    for command in ("deluser", "delgroup"):
        subprocess.run([command, "--system", "--quiet", service.package], capture_output=True, check=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=("up", "clean"), nargs="?", default="up")
    parser.add_argument(
        "--db",
        choices=("sqlite", "mysql"),
        default="sqlite",
        help="where the services keep their data: SQLite files (default) or a local MariaDB",
    )
    options = parser.parse_args(argv)
    try:
        if options.action == "up":
            up(options.db)
        else:
            clean()
    except DemoError as error:
        print(f"\nmake demo: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
