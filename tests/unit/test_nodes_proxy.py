"""The nodes' package proxy (tests/nodes/proxy.py), against real servers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.nodes.proxy import AllowListProxy

BODY = b"Packages\n" * 10000


class Origin(BaseHTTPRequestHandler):
    """A registry: /fixed answers with a length, /chunked without one."""

    protocol_version = "HTTP/1.1"
    paths: list[str] = []  # noqa: RUF012 (shared record of what reached the origin)

    def do_GET(self) -> None:
        self.paths.append(self.path)
        if self.path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (BODY[:5000], BODY[5000:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serving(server: ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def origin() -> Iterator[int]:
    Origin.paths = []
    with _serving(ThreadingHTTPServer(("127.0.0.1", 0), Origin)) as port:
        yield port


@pytest.fixture
def echo() -> Iterator[int]:
    """A TCP service that sends back what it receives (stands for a TLS registry)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with client:
                while data := client.recv(4096):
                    client.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def _proxy(*allowed: int) -> contextlib.AbstractContextManager[int]:
    return _serving(AllowListProxy(("127.0.0.1", 0), frozenset(("127.0.0.1", port) for port in allowed)))


@pytest.fixture
def proxy(origin: int, echo: int) -> Iterator[int]:
    with _proxy(origin, echo) as port:
        yield port


def test_get_through_the_proxy_on_one_kept_connection(origin: int, proxy: int) -> None:
    client = http.client.HTTPConnection("127.0.0.1", proxy, timeout=10)
    for name in ("first", "second", "chunked"):
        client.request("GET", f"http://127.0.0.1:{origin}/{name}")
        response = client.getresponse()
        assert response.status == 200
        assert response.read() == BODY
        if name == "chunked":
            assert response.will_close  # no length to pass on: the connection ends the body
    assert Origin.paths == ["/first", "/second", "/chunked"]


def test_a_host_not_on_the_list_is_refused_without_a_connection(origin: int) -> None:
    with _proxy() as proxy:  # allows nothing
        client = http.client.HTTPConnection("127.0.0.1", proxy, timeout=10)
        client.request("GET", f"http://127.0.0.1:{origin}/Release")
        response = client.getresponse()
        assert response.status == 403
        assert b"not a registry" in response.read()
    assert Origin.paths == []


def test_a_request_that_is_not_a_proxy_request_is_refused(proxy: int) -> None:
    client = http.client.HTTPConnection("127.0.0.1", proxy, timeout=10)
    client.request("GET", "/Release")
    assert client.getresponse().status == 400


def test_connect_tunnels_to_an_allowed_port_only(echo: int, proxy: int) -> None:
    with socket.create_connection(("127.0.0.1", proxy), timeout=10) as tunnel:
        tunnel.sendall(f"CONNECT 127.0.0.1:{echo} HTTP/1.1\r\n\r\n".encode())
        assert tunnel.recv(4096).startswith(b"HTTP/1.1 200")
        tunnel.sendall(b"client hello")
        assert tunnel.recv(4096) == b"client hello"
    with socket.create_connection(("127.0.0.1", proxy), timeout=10) as refused:
        refused.sendall(b"CONNECT 127.0.0.1:9 HTTP/1.1\r\n\r\n")
        assert refused.recv(4096).startswith(b"HTTP/1.1 403")
