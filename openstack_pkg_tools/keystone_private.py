"""A private Keystone for the keystone package's own API steps.

After ``keystone-manage bootstrap``, the keystone postinst makes the
service project, Debian's roles and the administrator's email through
Keystone's API. Debian serves that API with uwsgi from
``/etc/keystone/keystone-uwsgi.ini``, a conffile of 8 processes with
``lazy-apps``: each process loads Keystone itself (about 2.7 CPU seconds),
and on a machine of two cores the first answers only when nearly all of
them have loaded. When nothing serves Keystone yet (a first install), the
postinst's API steps therefore go to Keystone served from one process:
the WSGI file the service's uwsgi file names, with the same config file
and database, loaded once (while ``keystone-manage bootstrap`` runs: it
needs only the migrated schema), on a loopback socket, as the keystone
user, and stopped when the steps are done. Then the service is started,
and its processes load while the rest of the install goes on. What the
private Keystone prints (Keystone's own log lines, and one access line
per request, in the common log format) goes where the service's go: the
uwsgi file's ``logto``, opened by the child as the keystone user.

The parent binds the socket (127.0.0.1, a port the kernel picks) and hands
it to the child as an open file descriptor, then closes its own copy: the
first request waits in the socket's backlog until Keystone has loaded (no
polling, no race for a port), and a child that died leaves nothing
listening (the request is refused, not left waiting). The child stops at
the end of its standard input: when the steps are done, or when the
postinst that started it dies.

The child is this module: ``python3 -m openstack_pkg_tools.keystone_private
--fd N [--log FILE] WSGI_FILE``.
"""

from __future__ import annotations

import argparse
import logging
import os
import pwd
import runpy
import socket
import sys
import threading
import wsgiref.simple_server
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

from .errors import PkgosError
from .inifile import IniFile
from .keystone_bootstrap import BootstrapSpec
from .run import background, open_log

LOOPBACK = "127.0.0.1"
# How a WSGI file exposes its application when uwsgi loads it (not as __main__).
LOADED_AS = "pkgos_private_keystone"


@dataclass(frozen=True)
class ServedApp:
    """What a service's uwsgi file serves, and where it logs ("" : its stderr)."""

    wsgi_file: str
    log: str


def served_by(uwsgi_ini: str) -> ServedApp | None:
    """The ``wsgi-file`` and ``logto`` of a uwsgi file, if it names a WSGI file that exists."""
    if not uwsgi_ini or not os.path.isfile(uwsgi_ini):
        return None
    uwsgi = IniFile(uwsgi_ini)
    path = uwsgi.get("uwsgi", "wsgi-file")
    if not path or not os.path.isfile(path):
        return None
    return ServedApp(path, uwsgi.get("uwsgi", "logto") or "")


def something_listens(url_host: str, port: int) -> bool:
    """Whether anything accepts connections on ``url_host:port`` (the service, started before)."""
    try:
        with socket.create_connection((url_host, port), timeout=2.0):
            return True
    except OSError:
        return False


@contextmanager
def serving(spec: BootstrapSpec, app: ServedApp) -> Iterator[str]:
    """Serve Keystone from ``app`` in one process while the body runs; yield its v3 URL.

    The child runs as the keystone user with the spec's config file, as
    keystone-manage does. If it dies, the error names it, with the end of
    what it printed when it has no log file.
    """
    # -I: nothing of the environment, the user's site or the working directory on its path.
    argv = [sys.executable, "-I", "-m", __name__]
    where_it_logs = "its output above"
    if app.log:
        argv += ["--log", app.log]
        where_it_logs = app.log
    if pwd.getpwuid(os.getuid()).pw_name != spec.system_user:
        argv = ["runuser", "-u", spec.system_user, "--", *argv]
    with socket.create_server((LOOPBACK, 0)) as listener:
        port = listener.getsockname()[1]
        descriptor = listener.fileno()
        child = background(
            [*argv, "--fd", str(descriptor), app.wsgi_file],
            env={"OS_KEYSTONE_CONFIG_FILES": spec.config_file},
            cwd="/",
            pass_fds=(descriptor,),
            hint=f"see {where_it_logs} and {spec.config_file}.",
        )
        with child:
            listener.close()
            yield f"http://{LOOPBACK}:{port}/v3"


class _Server(wsgiref.simple_server.WSGIServer):
    """wsgiref's server on a socket that is already bound and listening."""

    def __init__(self, listener: socket.socket) -> None:
        # wsgiref's handler writes one access line per request on stderr, in the common log format.
        handler = wsgiref.simple_server.WSGIRequestHandler
        super().__init__(listener.getsockname()[:2], handler, bind_and_activate=False)
        self.socket.close()
        self.socket = listener
        self.server_name, self.server_port = listener.getsockname()[:2]
        self.setup_environ()


def _stop_at_end_of_input(server: _Server) -> None:
    sys.stdin.buffer.read()
    server.shutdown()


def _output_to(path: str) -> None:
    """Standard output and error appended to ``path``: never through a link, only to a regular file."""
    with open_log(path) as log_file:
        for stream in (1, 2):
            os.dup2(log_file.fileno(), stream)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The child: load ``WSGI_FILE``'s application and serve it on descriptor ``--fd``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--fd", type=int, required=True, help="a bound, listening TCP socket")
    parser.add_argument("--log", help="the file to append what Keystone prints to (default: stderr)")
    parser.add_argument("wsgi_file", help="the file whose 'application' is Keystone's WSGI application")
    args = parser.parse_args(argv)
    if args.log:
        try:
            _output_to(args.log)
        except PkgosError as error:
            # One line on stderr, which the postinst's error shows.
            sys.exit(str(error))
    listener = socket.socket(fileno=args.fd)
    # Keystone's config parser reads the command line, as it would uwsgi's: nothing for it.
    sys.argv[:] = [args.wsgi_file]
    application = runpy.run_path(args.wsgi_file, run_name=LOADED_AS)["application"]
    server = _Server(listener)
    server.set_app(application)
    threading.Thread(target=_stop_at_end_of_input, args=(server,), daemon=True).start()
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    # Keystone's log lines written, the interpreter's teardown of Keystone's
    # modules (most of a second, which the postinst would wait for) is skipped.
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main()
