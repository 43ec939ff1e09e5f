"""Keystone's v3 API through one keystoneauth1 session: retries, counts, errors.

All requests of a reconcile go through one ``KeystoneClient``: one token,
one connection setup, no child process. The client

* retries a request that could not reach Keystone, or that got 502, 503 or
  504 (not processed), and a read that got 500, with exponential backoff
  and a bounded number of attempts;
* turns keystoneauth1's exceptions into ``KeystoneError`` subclasses whose
  message names the user, the URL and the request, never a password;
* counts reads and writes, so a re-run can prove it wrote nothing.

keystoneauth1 is imported when the client is created, not when this
module is, so ``pkgos --help`` stays fast.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import log
from ..errors import PkgosError
from ..urls import redact_url
from .model import AdminCredentials

READ_METHODS = frozenset({"GET", "HEAD"})
# Statuses that mean the request was not processed: safe to send again.
UNPROCESSED = frozenset({502, 503, 504})


class KeystoneError(PkgosError):
    """Keystone refused or failed a request."""


class KeystoneUnreachableError(KeystoneError):
    """Keystone could not be reached, or kept failing, after every retry."""


class KeystoneAuthError(KeystoneError):
    """Keystone refused the admin credentials."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing request is sent again."""

    attempts: int = 4
    first_delay: float = 0.5
    factor: float = 2.0

    def delays(self) -> list[float]:
        """The pauses between attempts (one fewer than the attempts)."""
        return [self.first_delay * self.factor**index for index in range(self.attempts - 1)]


@dataclass
class RequestCounts:
    """How many requests a client sent, reads and writes apart."""

    reads: int = 0
    writes: int = 0

    @property
    def total(self) -> int:
        """Every request, reads and writes."""
        return self.reads + self.writes


class _Retry(Exception):
    """A failed attempt; ``reason`` says why, ``maybe_applied`` whether Keystone may have acted."""

    def __init__(self, reason: str, *, maybe_applied: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.maybe_applied = maybe_applied


def password_session(credentials: AdminCredentials, *, timeout: float | None = 30.0) -> Any:
    """A keystoneauth1 session that logs in with ``credentials`` (a password, scoped to a project).

    ``timeout`` bounds each request, in seconds; None waits as long as the
    server takes (an image upload).
    """
    # Imported here so that loading the package stays cheap.
    from keystoneauth1 import session  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
    from keystoneauth1.identity import v3  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415

    auth = v3.Password(
        auth_url=credentials.identity_v3,
        username=credentials.username,
        password=credentials.password,
        project_name=credentials.project_name,
        user_domain_name=credentials.user_domain_name,
        project_domain_name=credentials.project_domain_name,
    )
    verify: bool | str = credentials.cacert or True
    return session.Session(auth=auth, verify=verify, timeout=timeout)


class KeystoneClient:
    """An authenticated session on Keystone's v3 API."""

    def __init__(
        self,
        credentials: AdminCredentials,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.credentials = credentials
        self.base = credentials.identity_v3
        self.retry = retry or RetryPolicy()
        self.counts = RequestCounts()
        self._sleep = sleep
        self._session = password_session(credentials, timeout=timeout)

    # -- the verbs ------------------------------------------------------------

    def get(self, path: str, query: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET ``path`` (relative to /v3) and return the JSON body."""
        return self._json(self.request("GET", _with_query(path, query)))

    def exists(self, path: str) -> bool:
        """True when GET ``path`` answers 200, False on 404."""
        return bool(self.request("GET", path, missing_ok=True).status_code != 404)

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``path`` and return the JSON answer."""
        return self._json(self.request("POST", path, body))

    def patch(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH ``path`` with ``body`` and return the JSON answer."""
        return self._json(self.request("PATCH", path, body))

    def put(self, path: str) -> None:
        """PUT ``path`` with no body (role assignments)."""
        self.request("PUT", path)

    def password_works(self, user_id: str, password: str) -> bool:
        """True when Keystone accepts ``password`` for the user ``user_id``.

        An unscoped authentication: it changes nothing in Keystone, so it
        counts as a read.
        """
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"id": user_id, "password": password}},
                }
            }
        }
        response = self.request(
            "POST", "/auth/tokens", body, authenticated=False, refused_ok=True, counts_as_read=True
        )
        return bool(response.status_code == 201)

    # -- the machinery --------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        authenticated: bool = True,
        missing_ok: bool = False,
        refused_ok: bool = False,
        counts_as_read: bool = False,
    ) -> Any:
        """Send one request with retries; return the keystoneauth1 response."""
        if authenticated and self._session.auth.auth_ref is None:
            self.counts.reads += 1  # the token request keystoneauth1 sends first
        if method in READ_METHODS or counts_as_read:
            self.counts.reads += 1
        else:
            self.counts.writes += 1
        delays = self.retry.delays()
        # PUT (role assignment) and PATCH (URL, password) give the same
        # result however often they are applied; a POST creates again.
        safe_to_repeat = method in READ_METHODS or counts_as_read or method in ("PUT", "PATCH")
        while True:
            try:
                response = self._send(method, path, body, authenticated)
            except _Retry as failure:
                if failure.maybe_applied and not safe_to_repeat:
                    # Sending a create again could duplicate it: the next
                    # run reads what Keystone holds and finishes the work.
                    raise KeystoneError(
                        f"{method} {path} on Keystone at {redact_url(self.credentials.auth_url)} failed: "
                        f"{failure.reason}; it may or may not have been applied.",
                        hint="check Keystone's log, then run again: registration is idempotent.",
                    ) from None
                if not delays:
                    raise KeystoneUnreachableError(
                        f"Cannot {method} {path} on Keystone at {redact_url(self.credentials.auth_url)}: "
                        f"{failure.reason} (tried {self.retry.attempts} times).",
                        hint="start Keystone or fix the address, then run again: "
                        "registration is idempotent and repairs what is missing.",
                    ) from None
                delay = delays.pop(0)
                log.info(f"Keystone: {failure.reason}; trying again in {delay:g} s")
                self._sleep(delay)
                continue
            return self._checked(method, path, response, missing_ok=missing_ok, refused_ok=refused_ok)

    def _send(self, method: str, path: str, body: Mapping[str, Any] | None, authenticated: bool) -> Any:
        from keystoneauth1 import exceptions  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415

        log.debug(f"Keystone: {method} {path}")
        try:
            response = self._session.request(
                self.base + path,
                method,
                json=body,
                authenticated=authenticated,
                raise_exc=False,
                # keystoneauth1 would log request bodies, which may hold a password.
                log=False,
            )
        except exceptions.Unauthorized:
            raise KeystoneAuthError(
                f"Keystone refused the credentials of {self.credentials.who()}.",
                hint="check the admin password (OS_PASSWORD, clouds.yaml or the credentials file), "
                "the user and the project name.",
            ) from None
        except (
            exceptions.ConnectFailure,
            exceptions.ConnectTimeout,
            exceptions.UnknownConnectionError,
        ) as error:
            # Only a refused connection proves that nothing was sent.
            refused = "refused" in str(error).lower()
            reason = "connection refused" if refused else f"connection failed ({type(error).__name__})"
            raise _Retry(reason, maybe_applied=not refused) from None
        except exceptions.HttpError as error:
            # Raised while authenticating (the plugin's own request).
            if error.http_status in UNPROCESSED or error.http_status == 500:
                raise _Retry(f"authentication answered {error.http_status}") from None
            raise KeystoneAuthError(
                f"Keystone answered {error.http_status} to the authentication of {self.credentials.who()}.",
                hint="check the admin credentials and Keystone's log.",
            ) from None
        status = response.status_code
        if status in UNPROCESSED or (status == 500 and method in READ_METHODS):
            raise _Retry(f"{method} {path} answered {status}", maybe_applied=status not in UNPROCESSED)
        return response

    def _checked(self, method: str, path: str, response: Any, *, missing_ok: bool, refused_ok: bool) -> Any:
        status = response.status_code
        if status < 400 or (missing_ok and status == 404) or (refused_ok and status == 401):
            return response
        if status == 403:
            raise KeystoneError(
                f"Keystone forbids {method} {path} to {self.credentials.who()}: {_message(response)}",
                hint="use a user with the admin role on its project.",
            )
        if status == 401:
            raise KeystoneAuthError(
                f"Keystone refused the credentials of {self.credentials.who()}.",
                hint="check the admin password and user name.",
            )
        raise KeystoneError(
            f"Keystone at {redact_url(self.credentials.auth_url)} answered {status} to {method} {path}: "
            f"{_message(response)}",
            hint="see Keystone's log; then run again: registration is idempotent.",
        )

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        if not response.content:
            return {}
        data = response.json()
        return data if isinstance(data, dict) else {}


def _with_query(path: str, query: Mapping[str, str] | None) -> str:
    return f"{path}?{urllib.parse.urlencode(query)}" if query else path


def _message(response: Any) -> str:
    """Keystone's own error message from an error answer, or its status text."""
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return str(response.reason or "no details")
