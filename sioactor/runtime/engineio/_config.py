"""The Engine.IO server's configuration: ``EngineConfig`` (``SocketIoConfig.engine``) and ``CorsConfig``.

These docstrings are where every Engine.IO limit and default is written down; the session actors receive
the values through ``session_config``, never defaults of their own. Every default matches Node's engine.io 6
(and socketioxide).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from sioactor._errors import ConfigError
from sioactor.actors.engineio._api import RequestInfo, TransportName
from sioactor.actors.engineio._session import SessionConfig, SlowConsumerPolicy

__all__ = ("AllowRequest", "CookieConfig", "CorsConfig", "EngineConfig", "session_config")

# Decides whether a handshake may proceed: True, or False / a message string to refuse it (403, code 4).
AllowRequest = Callable[[RequestInfo], Awaitable[bool | str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class CorsConfig:
    """Cross-origin access to the polling endpoints (off unless an ``EngineConfig`` carries one): the options
    of Node's ``cors`` (``origin``, ``credentials``, ``methods``, ``allowedHeaders``, ``maxAge``).

    Attributes:
        origins: ``"*"`` for any origin, or the origins allowed, each compared whole
            (``"https://app.example"`` or ``["https://a.example", "https://b.example"]``).
        credentials: send ``Access-Control-Allow-Credentials: true`` (browsers then send cookies with
            ``withCredentials``); the request's own origin is then echoed instead of ``*``, as browsers
            require.
        methods: methods announced to a preflight (``OPTIONS``) request.
        headers: request headers announced to a preflight (Node's ``allowedHeaders``); ``None`` announces
            those the preflight asks for, as Node's ``cors`` does by default.
        max_age: seconds a browser may cache a preflight answer; ``None`` sends no ``Access-Control-Max-Age``.

    Raises:
        ConfigError: an origin, method or header that is not a string, or a negative *max_age*.
    """

    origins: str | Sequence[str] = "*"
    credentials: bool = False
    methods: Sequence[str] = ("GET", "POST", "OPTIONS")
    headers: Sequence[str] | None = None
    max_age: int | None = None

    def __post_init__(self) -> None:
        # A single origin is one origin, never a string searched for a substring; the lists become tuples,
        # so that a frozen config cannot change under the server.
        if isinstance(self.origins, str) and self.origins != "*":
            object.__setattr__(self, "origins", (self.origins,))
        for label in ("origins", "methods", "headers"):
            value = getattr(self, label)
            if value is None or value == "*":
                continue
            strings = isinstance(value, Sequence) and all(isinstance(item, str) for item in value)
            if isinstance(value, str) or not strings:
                raise ConfigError(f"cors {label} must be a list of strings, got {value!r}")
            object.__setattr__(self, label, tuple(value))
        if self.max_age is not None and (not isinstance(self.max_age, int) or self.max_age < 0):
            raise ConfigError(f"cors max_age must be a number of seconds (0 or more), got {self.max_age!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CookieConfig:
    """The cookie set on the handshake's answer (Node's ``cookie`` option), for load balancers that route
    a client's requests by cookie. Its value is the Engine.IO session id. The defaults are Node's.

    Attributes:
        name: the cookie's name (``"io"``).
        path: its ``Path`` (``"/"``); ``None`` sends none.
        http_only: send ``HttpOnly``: scripts in the page cannot read it (true).
        same_site: its ``SameSite``: ``"lax"``, ``"strict"``, ``"none"``, or ``None`` for none (``"lax"``).
        secure: send ``Secure``: browsers return it over TLS only (false).
        domain: its ``Domain`` (``None``: none).
        max_age: its ``Max-Age`` in seconds (``None``: a session cookie).
    """

    name: str = "io"
    path: str | None = "/"
    http_only: bool = True
    same_site: Literal["lax", "strict", "none"] | None = "lax"
    secure: bool = False
    domain: str | None = None
    max_age: int | None = None

    def __post_init__(self) -> None:
        if not self.name or not _TOKEN.fullmatch(self.name):
            raise ConfigError(
                f"cookie name must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~): {self.name!r}"
            )
        for label, value in (("path", self.path), ("domain", self.domain)):
            if value is not None and not _COOKIE_ATTRIBUTE.fullmatch(value):
                raise ConfigError(f"cookie {label} holds a character a cookie cannot carry: {value!r}")
        if self.same_site not in ("lax", "strict", "none", None):
            raise ConfigError(
                f"cookie same_site must be 'lax', 'strict', 'none' or None, got {self.same_site!r}"
            )

    def header(self, sid: str) -> tuple[bytes, bytes]:
        """The ``Set-Cookie`` header for session *sid*, attributes in the order Node's ``cookie`` writes."""
        parts = [f"{self.name}={sid}"]
        if self.max_age is not None:
            parts.append(f"Max-Age={self.max_age}")
        if self.domain is not None:
            parts.append(f"Domain={self.domain}")
        if self.path is not None:
            parts.append(f"Path={self.path}")
        if self.http_only:
            parts.append("HttpOnly")
        if self.secure:
            parts.append("Secure")
        if self.same_site is not None:
            parts.append(f"SameSite={self.same_site.capitalize()}")
        return (b"set-cookie", "; ".join(parts).encode())


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_ATTRIBUTE = re.compile(r"[\x21-\x3a\x3c-\x7e]+")  # visible ASCII but ';'


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    """How an ``EngineServer`` (or the Engine.IO half of a ``SocketIo``) behaves. Times are in seconds.

    Attributes:
        path: the URL path the server answers under (with or without trailing slash); ``None`` (the default)
            means ``/engine.io`` for an ``EngineServer`` and ``/socket.io`` under a ``SocketIo``.
        ping_interval: seconds between heartbeats (25, Node's ``pingInterval``).
        ping_timeout: seconds to wait for the heartbeat's answer before closing (20, ``pingTimeout``).
        upgrade_timeout: seconds a polling → WebSocket upgrade may take (10, ``upgradeTimeout``).
        max_payload: the largest polling body or WebSocket message accepted, in bytes (1 000 000,
            ``maxHttpBufferSize``); advertised to v4 clients as ``maxPayload``.
        max_buffer_size: the outbox bound per session, in packets (128, socketioxide's ``max_buffer_size``):
            what its transport cannot take now. While it is full the client's own events wait (its
            connection stops being read); an emit from elsewhere (a broadcast, another socket, a server
            task) meets *slow_consumer*.
        transports: the transports offered, among ``"polling"`` and ``"websocket"`` (both).
        allow_eio3: accept Engine.IO v3 clients (socket.io-client 1.x / 2.x); off, as in Node.
        cors: CORS answers for the HTTP endpoints, ``None`` (Node's default: no CORS headers).
        allow_request: an async hook deciding whether a handshake may proceed: True, or False / a reason
            to refuse it (403); ``None`` (all may).
        slow_consumer: what a send to a full outbox does: ``"error"`` raises ``InternalChannelFull``
            (default), ``"drop_oldest"`` drops the oldest queued packet, ``"disconnect"`` closes the session
            with ``SLOW_CONSUMER``.
        flush_timeout: seconds a server-initiated close waits for queued messages to reach the client (5).
        per_message_deflate: negotiate WebSocket compression (RFC 7692 permessage-deflate) when the client
            offers it; off, as Node's ``perMessageDeflate`` (``false`` since engine.io 4: a deflate context
            per connection costs memory and CPU). Only the embedded server compresses (``io.serve()``,
            ``serve_asgi``); under uvicorn or hypercorn the host server negotiates WebSocket compression
            itself whatever this option says (uvicorn unless ``--ws-per-message-deflate false``, hypercorn
            always) and compresses every message, with no threshold and no ``compress(False)``. With
            context takeover unless the client asks otherwise, as Node's ``ws`` (whose threshold
            holds only without context takeover: it compresses every message otherwise; here the threshold
            always holds, since a small message gains little and costs a deflate call).
        http_compression: gzip or deflate polling responses when the request's ``Accept-Encoding``
            allows it; on, as Node's ``httpCompression``. The engine compresses them itself, so this
            holds under any server (embedded, uvicorn, hypercorn).
        compression_threshold: messages (WebSocket) and response bodies (polling) under this many bytes are
            sent uncompressed (1024, Node's ``threshold`` of both). An emit made with ``compress(False)``
            is never compressed.
        cookie: set a cookie holding the session id on the handshake's answer (polling, or the WebSocket's
            101) for load balancers that route by cookie: ``CookieConfig()`` for Node's ``cookie: true``
            (``io``, ``Path=/``, ``HttpOnly``, ``SameSite=Lax``); ``None`` (off, as in Node).

    Raises:
        ConfigError: a time that is not positive, a size under 1 (a threshold under 0), no transport or an
            unknown one, a path that does not start with ``/``, an unknown *slow_consumer*, a *cors* that is
            not a ``CorsConfig`` or a *cookie* that is not a ``CookieConfig``.
    """

    path: str | None = None
    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    upgrade_timeout: float = 10.0
    max_payload: int = 1_000_000
    max_buffer_size: int = 128
    transports: tuple[TransportName, ...] = ("polling", "websocket")
    allow_eio3: bool = False
    cors: CorsConfig | None = None
    allow_request: AllowRequest | None = None
    slow_consumer: SlowConsumerPolicy = "error"
    flush_timeout: float = 5.0
    per_message_deflate: bool = False
    http_compression: bool = True
    compression_threshold: int = 1024
    cookie: CookieConfig | None = None

    def __post_init__(self) -> None:
        for name in ("ping_interval", "ping_timeout", "upgrade_timeout", "flush_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds, got {getattr(self, name)!r}")
        for name in ("max_payload", "max_buffer_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.compression_threshold < 0:
            raise ConfigError(f"compression_threshold must be at least 0, got {self.compression_threshold!r}")
        if self.slow_consumer not in ("error", "drop_oldest", "disconnect"):
            raise ConfigError(
                f"slow_consumer must be 'error', 'drop_oldest' or 'disconnect', got {self.slow_consumer!r}"
            )
        if not self.transports or not set(self.transports) <= {"polling", "websocket"}:
            raise ConfigError(
                f"transports must be a non-empty subset of polling, websocket: {self.transports!r}"
            )
        if self.path is not None and not self.path.startswith("/"):
            raise ConfigError(f"path must start with '/', got {self.path!r}")
        if self.cors is not None and not isinstance(self.cors, CorsConfig):
            raise ConfigError(
                f"cors must be a CorsConfig (CorsConfig(origins='*') for any origin): {self.cors!r}"
            )
        if self.cookie is not None and not isinstance(self.cookie, CookieConfig):
            raise ConfigError(
                f"cookie must be a CookieConfig (CookieConfig() for Node's defaults): {self.cookie!r}"
            )


def session_config(config: EngineConfig) -> SessionConfig:
    """What each engine session needs of *config*."""
    return SessionConfig(
        ping_interval=config.ping_interval,
        ping_timeout=config.ping_timeout,
        upgrade_timeout=config.upgrade_timeout,
        max_buffer_size=config.max_buffer_size,
        max_payload=config.max_payload,
        slow_consumer=config.slow_consumer,
        flush_timeout=config.flush_timeout,
    )
