"""A forward proxy for the nodes that reaches only an allow-list of registries.

Nodes have no route out of their bridge. apt (``Acquire::http::Proxy``) and
pip (``proxy`` in /etc/pip.conf) send their requests here, on the host's
bridge address: plain-HTTP GET and HEAD of an allowed host are fetched and
passed back, CONNECT to an allowed host:port is tunnelled (TLS stays end to
end), anything else gets 403 and no connection is made. Names are resolved
here, on the host, so nodes need no resolver either.

Standard library only: it runs with the host's /usr/bin/python3 as its own
process (``python3 proxy.py --listen ADDR:PORT --allow HOST:PORT ...``),
started and stopped by PID by the switch (node.py). One line per request
goes to stderr, which the switch sends to a log file.
"""

from __future__ import annotations

import argparse
import http.client
import select
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Headers that belong to one connection, not to the message (RFC 9110 7.6.1).
HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    )
)
TIMEOUT = 60.0
CHUNK = 64 * 1024


class ProxyHandler(BaseHTTPRequestHandler):
    """One client connection; ``server.allowed`` holds the (host, port) pairs it may reach."""

    protocol_version = "HTTP/1.1"
    server: AllowListProxy

    def setup(self) -> None:
        super().setup()
        # One kept-alive connection per upstream host:port for this client's requests.
        self.upstreams: dict[tuple[str, int], http.client.HTTPConnection] = {}

    def finish(self) -> None:
        for upstream in self.upstreams.values():
            upstream.close()
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{time.strftime('%H:%M:%S')} {self.client_address[0]} {format % args}\n")

    def _refuse(self, code: int, why: str) -> None:
        body = (why + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _allowed(self, host: str, port: int) -> bool:
        if (host.lower(), port) in self.server.allowed:
            return True
        self._refuse(403, f"{host}:{port} is not a registry the nodes may reach")
        return False

    def do_CONNECT(self) -> None:
        host, _, port_text = self.path.rpartition(":")
        if not port_text.isdigit():
            self._refuse(400, "CONNECT needs host:port")
            return
        if not self._allowed(host, int(port_text)):
            return
        try:
            upstream = socket.create_connection((host, int(port_text)), timeout=TIMEOUT)
        except OSError as error:
            self._refuse(502, f"cannot reach {self.path}: {error}")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        with upstream:
            _relay(self.connection, upstream)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.scheme != "http" or not url.hostname:
            self._refuse(400, "a proxy request needs an absolute http:// URL (use CONNECT for https)")
            return
        port = url.port or 80
        if not self._allowed(url.hostname, port):
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        target = url.path or "/"
        if url.query:
            target += "?" + url.query
        try:
            response = self._fetch((url.hostname.lower(), port), target, headers)
        except OSError as error:
            self._refuse(502, f"cannot reach {url.hostname}:{port}: {error}")
            return
        try:
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            length = response.getheader("Content-Length")
            if length is None and self.command != "HEAD":
                # No length to pass on (the upstream answer was chunked): the
                # end of the connection marks the end of the body.
                self.close_connection = True
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                while chunk := response.read(CHUNK):
                    self.wfile.write(chunk)
        finally:
            if response.will_close or not response.isclosed():
                # Not reusable: the server ends it, or the client left mid-body.
                self.upstreams.pop((url.hostname.lower(), port)).close()

    def _fetch(
        self, where: tuple[str, int], target: str, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        """Send the request on the connection kept for ``where`` (apt fetches many files from one host)."""
        kept = self.upstreams.get(where)
        if kept is not None:
            try:
                kept.request(self.command, target, headers=headers)
                return kept.getresponse()
            except OSError:
                # The server has closed it since: GET and HEAD are safe to
                # send again, on a new connection.
                self.upstreams.pop(where).close()
        upstream = self.upstreams[where] = http.client.HTTPConnection(*where, timeout=TIMEOUT)
        try:
            upstream.request(self.command, target, headers=headers)
            return upstream.getresponse()
        except OSError:
            self.upstreams.pop(where).close()
            raise

    do_HEAD = do_GET


class AllowListProxy(ThreadingHTTPServer):
    """The server: one thread per client connection."""

    daemon_threads = True

    def __init__(self, listen: tuple[str, int], allowed: frozenset[tuple[str, int]]) -> None:
        self.allowed = allowed
        super().__init__(listen, ProxyHandler)


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [client, upstream]
    while True:
        readable, _, broken = select.select(sockets, [], sockets, TIMEOUT)
        if broken or not readable:
            return
        for source in readable:
            data = source.recv(CHUNK)
            if not data:
                return
            (upstream if source is client else client).sendall(data)


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.lower(), int(port)


def main(argv: list[str] | None = None) -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", type=_host_port, required=True, help="ADDRESS:PORT to listen on")
    parser.add_argument(
        "--allow", type=_host_port, action="append", default=[], help="HOST:PORT a node may reach"
    )
    options = parser.parse_args(argv)
    with AllowListProxy(options.listen, frozenset(options.allow)) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
