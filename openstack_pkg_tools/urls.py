"""Database (SQLAlchemy) and message-queue (oslo.messaging) URLs.

A URL is built from its parts and parsed back into them without loss, for
any user name and password:

* user names, passwords and virtual hosts are percent-encoded, keeping only
  RFC 3986's unreserved characters (``A-Z a-z 0-9 - . _ ~``) as they are.
  SQLAlchemy and oslo.messaging decode exactly once, so ``%41`` in a
  password is written ``%2541`` and reads back as ``%41``. Encoding ``$``
  too keeps oslo.config from taking it for a ``$variable``;
* a parsed user name or password is split at the *last* ``@`` of the
  authority, so a URL written unencoded by older tools (``p@ss``) still
  reads back as the password that was meant;
* IPv6 addresses are written in brackets.

``redacted()`` renders the URL with ``***`` for the password: the only form
that may reach a log line or an error message.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, quote, unquote, urlencode

from .errors import InvalidValueError

REDACTED = "***"


class Engine(enum.StrEnum):
    """The database engines OpenStack services run on."""

    MYSQL = "mysql"
    PGSQL = "pgsql"
    SQLITE = "sqlite"

    @property
    def scheme(self) -> str:
        """The SQLAlchemy dialect+driver written in URLs."""
        return _SCHEMES[self]

    @property
    def default_port(self) -> int | None:
        """The server's standard TCP port (None for SQLite)."""
        return _DEFAULT_PORTS[self]


_SCHEMES = {
    Engine.MYSQL: "mysql+pymysql",
    Engine.PGSQL: "postgresql+psycopg2",
    Engine.SQLITE: "sqlite",
}
_DEFAULT_PORTS = {Engine.MYSQL: 3306, Engine.PGSQL: 5432, Engine.SQLITE: None}
# Dialect names as other tools write them, with or without a driver.
_ENGINE_OF_DIALECT = {
    "mysql": Engine.MYSQL,
    "mariadb": Engine.MYSQL,
    "postgresql": Engine.PGSQL,
    "postgres": Engine.PGSQL,
    "sqlite": Engine.SQLITE,
}


def encode_component(text: str) -> str:
    """Percent-encode everything but RFC 3986's unreserved characters."""
    return quote(text, safe="", encoding="utf-8", errors="strict")


def needs_encoding(text: str) -> bool:
    """Whether ``encode_component`` changes ``text`` (a URL would hold a ``%``)."""
    return encode_component(text) != text


def decode_component(text: str) -> str:
    """Undo ``encode_component`` (once); a ``%`` sequence that is not UTF-8 is an error."""
    try:
        return unquote(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidValueError(
            "A percent-encoded part of a URL is not UTF-8 once decoded.",
            hint="fix the URL in the configuration file.",
        ) from None


def format_host(host: str) -> str:
    """``host`` as written in a URL: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


MAX_HOST_LENGTH = 253
_HOST_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_LOOKS_NUMERIC = re.compile(r"[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?")


def check_host(host: str, what: str = "") -> str:
    """``host`` if it is a DNS name, an IPv4 address or an IPv6 address (bracketed or not).

    The one rule for every host the toolkit writes into a URL or a
    configuration file: an unbalanced bracket, white space, control
    characters or URL delimiters would change the meaning of the URL the
    host goes into, and a name whose last label is all digits is a
    mistyped IPv4 address. ``what`` names the host in the error
    ("database", "message queue").
    """
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    named = f"{what} host" if what else "host"
    if _is_ip_address(bare) and (bare == host or ":" in bare):
        return host
    name = bare.removesuffix(".")
    labels = name.split(".")
    if bare == host and 0 < len(name) <= MAX_HOST_LENGTH and all(map(_HOST_LABEL.fullmatch, labels)):
        if not labels[-1].isdigit():
            return host
        raise InvalidValueError(
            f"Invalid {named} {host!r}: it is neither an IPv4 address nor a DNS name.",
            hint="check the digits of the address.",
        )
    raise InvalidValueError(
        f"Invalid {named} {host!r}.",
        hint="give a DNS name such as controller.example.org, an IPv4 address or an IPv6 address "
        "(in brackets or not, but with both brackets).",
    )


def _is_ip_address(text: str) -> bool:
    if not _LOOKS_NUMERIC.fullmatch(text):
        return False  # a name: the ipaddress module need not be loaded
    import ipaddress  # noqa: PLC0415 (addresses only; most hosts are names)

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def check_port(port: int | None, what: str) -> None:
    """Refuse a port outside 1-65535 (None means the default and passes)."""
    if port is not None and not 0 < port < 65536:
        raise InvalidValueError(f"Invalid {what} port {port}: a port is a number from 1 to 65535.")


def redact_url(text: str) -> str:
    """``text`` with the password of a ``scheme://user:password@host`` URL replaced by ``***``.

    For URLs that come from outside (``OS_AUTH_URL``) and are quoted in a
    message.
    """
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    userinfo, at, _hostport = rest[:authority_end].rpartition("@")
    if not at:
        return text
    user = userinfo.partition(":")[0]
    return f"{scheme}://{user}:{REDACTED}@{rest[len(userinfo) + 1 :]}"


def _split_authority(text: str) -> tuple[str | None, str]:
    """Split ``user:pass@host:port`` at its last ``@``: (userinfo, hostport)."""
    userinfo, at, hostport = text.rpartition("@")
    return (userinfo, hostport) if at else (None, text)


def _split_userinfo(userinfo: str | None) -> tuple[str | None, str | None]:
    if userinfo is None:
        return None, None
    user, colon, password = userinfo.partition(":")
    return decode_component(user), decode_component(password) if colon else None


def _split_hostport(text: str, url: str) -> tuple[str, int | None]:
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise _unparsable(url, "an IPv6 address has no closing ']'")
        host, rest = text[1:end], text[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else rest
    else:
        host, _, port_text = text.partition(":")
    if not port_text:
        return host, None
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise _unparsable(url, f"the port {port_text!r} is not a number from 1 to 65535")
    return host, int(port_text)


def _unparsable(url: str, problem: str) -> InvalidValueError:
    # The URL may hold a password: only its scheme goes into the message.
    scheme = url.partition("://")[0] if "://" in url else "?"
    return InvalidValueError(
        f"Cannot parse the {scheme} URL: {problem}.", hint="fix the URL in the configuration file."
    )


@dataclass(frozen=True)
class DatabaseUrl:
    """A SQLAlchemy database URL, e.g. ``[database] connection``.

    For SQLite, ``database`` is the file's absolute path and the other
    fields are empty.
    """

    engine: Engine
    database: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int | None = None
    query: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.engine is Engine.SQLITE:
            if not self.database.startswith("/"):
                raise InvalidValueError(
                    f"The SQLite database {self.database!r} is not an absolute path.",
                    hint="give a path such as /var/lib/glance/glance.sqlite.",
                )
            return
        if self.host is not None:
            check_host(self.host, "database")
        check_port(self.port, "database")
        if not self.database or re.search(r"[/?#%\s]", self.database):
            raise InvalidValueError(
                f"Invalid database name {self.database!r} in a URL.",
                hint="use letters, digits and underscores.",
            )

    @classmethod
    def for_engine(
        cls,
        engine: Engine,
        database: str,
        *,
        user: str | None = None,
        password: str | None = None,
        host: str | None = None,
        port: int | None = None,
    ) -> DatabaseUrl:
        """The URL a service uses, with the engine's usual options (utf8 for MySQL)."""
        query = (("charset", "utf8"),) if engine is Engine.MYSQL else ()
        return cls(engine, database, user, password, host, port, query)

    def render(self, *, redact: bool = False) -> str:
        """The URL as text (``redact`` writes ``***`` for the password)."""
        if self.engine is Engine.SQLITE:
            return f"sqlite:///{self.database}"
        authority = ""
        if self.user is not None:
            authority = encode_component(self.user)
            if self.password is not None:
                authority += ":" + (REDACTED if redact else encode_component(self.password))
            authority += "@"
        if self.host is not None:
            authority += format_host(self.host)
        if self.port is not None:
            authority += f":{self.port}"
        text = f"{self.engine.scheme}://{authority}/{self.database}"
        if self.query:
            text += "?" + urlencode(self.query)
        return text

    def __str__(self) -> str:
        return self.redacted()

    def redacted(self) -> str:
        """The URL with ``***`` for the password: safe for logs and messages."""
        return self.render(redact=True)

    def with_password(self, password: str | None) -> DatabaseUrl:
        """The same URL with another password."""
        return replace(self, password=password)

    @classmethod
    def parse(cls, text: str) -> DatabaseUrl:
        """Parse a SQLAlchemy URL as found in a configuration file."""
        scheme, sep, rest = text.strip().partition("://")
        if not sep:
            raise _unparsable(text, "it does not start with a scheme such as mysql+pymysql://")
        dialect = scheme.partition("+")[0].lower()
        if dialect not in _ENGINE_OF_DIALECT:
            raise _unparsable(text, f"the database type {dialect!r} is not one of mysql, postgresql, sqlite")
        engine = _ENGINE_OF_DIALECT[dialect]
        if engine is Engine.SQLITE:
            if not rest.startswith("/"):
                raise _unparsable(text, "a SQLite URL is sqlite:////absolute/path")
            return cls(engine, rest[1:].partition("?")[0])
        rest, _, query = _split_query_after_host(rest)
        userinfo, hostpath = _split_authority(rest)
        hostport, slash, database = hostpath.partition("/")
        if not slash or not database:
            raise _unparsable(text, "it names no database")
        host, port = _split_hostport(hostport, text) if hostport else (None, None)
        user, password = _split_userinfo(userinfo)
        return cls(engine, database, user, password, host or None, port, tuple(parse_qsl(query)))


def _split_query_after_host(rest: str) -> tuple[str, str, str]:
    """Split off ``?query``, looking only after the last ``@`` if any (a password may hold ``?``)."""
    at = rest.rfind("@")
    head, tail = rest[: at + 1], rest[at + 1 :]
    before, mark, query = tail.partition("?")
    return head + before, mark, query


@dataclass(frozen=True)
class TransportHost:
    """One broker of a transport URL, with its own credentials."""

    host: str
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_host(self.host, "message queue")
        check_port(self.port, "message queue")

    def render(self, secret: str | None) -> str:
        """``user:pass@host:port``; ``secret`` is the already encoded password text."""
        text = ""
        if self.user is not None:
            text = encode_component(self.user)
            if secret is not None:
                text += ":" + secret
            text += "@"
        text += format_host(self.host)
        return text + (f":{self.port}" if self.port is not None else "")


@dataclass(frozen=True)
class TransportUrl:
    """An oslo.messaging transport URL, e.g. ``[DEFAULT] transport_url``.

    ``virtual_host`` None writes ``/`` at the end (the broker's default
    virtual host); ``"/"`` is written ``%2F``.
    """

    hosts: tuple[TransportHost, ...]
    virtual_host: str | None = None
    scheme: str = "rabbit"
    query: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.hosts:
            raise InvalidValueError(
                "A transport URL needs at least one host.", hint="give the broker's host."
            )
        if not re.fullmatch(r"[a-z][a-z0-9+.-]*", self.scheme):
            raise InvalidValueError(f"Invalid transport scheme {self.scheme!r}.", hint="use rabbit.")
        ipv6 = [":" in host.host for host in self.hosts]
        if any(ipv6[:-1]) and not ipv6[-1]:
            # Python's urlsplit, which oslo.messaging parses with, rejects
            # such a URL ("rabbit://[::1]:5672,h2:5672/").
            raise InvalidValueError(
                "A transport URL whose last broker is not an IPv6 address cannot list an IPv6 broker "
                "before it: oslo.messaging could not parse it.",
                hint="put the IPv6 brokers last, or name them by host name.",
            )

    @classmethod
    def single(
        cls,
        host: str,
        *,
        user: str | None = None,
        password: str | None = None,
        port: int | None = 5672,
        virtual_host: str | None = None,
    ) -> TransportUrl:
        """The usual one-broker RabbitMQ URL."""
        return cls((TransportHost(host, port, user, password),), virtual_host)

    def render(self, *, redact: bool = False) -> str:
        """The URL as text (``redact`` writes ``***`` for every password)."""

        def secret(host: TransportHost) -> str | None:
            if host.password is None:
                return None
            return REDACTED if redact else encode_component(host.password)

        hosts = ",".join(host.render(secret(host)) for host in self.hosts)
        vhost = "" if self.virtual_host is None else encode_component(self.virtual_host)
        text = f"{self.scheme}://{hosts}/{vhost}"
        if self.query:
            text += "?" + urlencode(self.query)
        return text

    def redacted(self) -> str:
        """The URL with ``***`` for every password: safe for logs and messages."""
        return self.render(redact=True)

    def __str__(self) -> str:
        return self.redacted()

    @classmethod
    def parse(cls, text: str) -> TransportUrl:
        """Parse a transport URL the way oslo.messaging does."""
        scheme, sep, rest = text.strip().partition("://")
        if not sep:
            raise _unparsable(text, "it does not start with a scheme such as rabbit://")
        rest, _, query = _split_query_after_host(rest)
        at = rest.rfind("@")
        slash = rest.find("/", at + 1)
        netloc, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash + 1 :])
        hosts = tuple(_parse_transport_host(part, text) for part in _split_hosts(netloc))
        vhost = decode_component(path) if path else None
        return cls(hosts, vhost, scheme.lower(), tuple(parse_qsl(query)))


def _split_hosts(netloc: str) -> list[str]:
    """The brokers of ``a@h1,b@h2`` (encoded passwords hold no comma)."""
    return [part for part in netloc.split(",") if part]


def _parse_transport_host(text: str, url: str) -> TransportHost:
    userinfo, hostport = _split_authority(text)
    host, port = _split_hostport(hostport, url)
    user, password = _split_userinfo(userinfo)
    if not host:
        raise _unparsable(url, "a broker has no host")
    return TransportHost(host, port, user, password)
