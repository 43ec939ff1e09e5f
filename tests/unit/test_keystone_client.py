"""The Keystone client's error paths, against a small local HTTP server.

The server is real (a socket on 127.0.0.1) and answers what a failing
Keystone answers; the tests assert the exact requests it received.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from openstack_pkg_tools.keystone import (
    AdminCredentials,
    KeystoneAuthError,
    KeystoneClient,
    KeystoneUnreachableError,
    RetryPolicy,
)

PASSWORD = "S3cret-Admin-Pw"


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 503
    seen: list[tuple[str, str]]

    def do_POST(self) -> None:
        self.seen.append((self.command, self.path))
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"error": {"code": %d, "message": "nope"}}' % self.status
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def failing_keystone(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []
    handler = type("Handler", (_Handler,), {"status": request.param, "seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _client(url: str, sleeps: list[float]) -> KeystoneClient:
    return KeystoneClient(
        AdminCredentials(url, "admin", PASSWORD),
        retry=RetryPolicy(attempts=3, first_delay=0.5),
        sleep=sleeps.append,
    )


@pytest.mark.parametrize("failing_keystone", [503], indirect=True)
def test_5xx_is_retried_with_backoff_then_a_clear_error(
    failing_keystone: tuple[str, list[tuple[str, str]]],
) -> None:
    url, seen = failing_keystone
    sleeps: list[float] = []
    with pytest.raises(KeystoneUnreachableError) as caught:
        _client(url, sleeps).get("/services")
    assert seen == [("POST", "/v3/auth/tokens")] * 3
    assert sleeps == [0.5, 1.0]
    message = str(caught.value)
    assert f"Keystone at {url}" in message and "tried 3 times" in message and "Hint:" in message
    assert PASSWORD not in message


@pytest.mark.parametrize("failing_keystone", [401], indirect=True)
def test_wrong_admin_password_names_the_user_and_url(
    failing_keystone: tuple[str, list[tuple[str, str]]],
) -> None:
    url, seen = failing_keystone
    sleeps: list[float] = []
    with pytest.raises(KeystoneAuthError) as caught:
        _client(url, sleeps).get("/services")
    assert seen == [("POST", "/v3/auth/tokens")]
    assert sleeps == []
    assert 'refused the credentials of user "admin"' in str(caught.value)
    assert url in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_nothing_listening_is_retried_then_reported() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sleeps: list[float] = []
    with pytest.raises(KeystoneUnreachableError, match="connection refused"):
        _client(url, sleeps).post("/regions", {"region": {"id": "RegionOne"}})
    assert sleeps == [0.5, 1.0]


def test_retry_policy_delays() -> None:
    assert RetryPolicy().delays() == [0.5, 1.0, 2.0]
    assert RetryPolicy(attempts=1).delays() == []
