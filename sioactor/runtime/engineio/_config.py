"""The Engine.IO server's configuration. Every default matches Node's engine.io 6 (and socketioxide)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sioactor.actors.engineio._api import RequestInfo, TransportName
from sioactor.actors.engineio._session import SlowConsumerPolicy

__all__ = ("AllowRequest", "CorsConfig", "EngineConfig")

# Decides whether a handshake may proceed: True, or False / a message string to refuse it (403, code 4).
AllowRequest = Callable[[RequestInfo], Awaitable[bool | str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class CorsConfig:
    """Cross-origin access to the polling endpoints (off unless an ``EngineConfig`` carries one).

    Attributes:
        origins: ``"*"`` for any origin, or the exact origins allowed (``"https://app.example"``).
        credentials: send ``Access-Control-Allow-Credentials: true``; the request's own origin is then
            echoed instead of ``*``, as browsers require.
        methods: methods announced to a preflight (``OPTIONS``) request.
        max_age: seconds a browser may cache a preflight answer; ``None`` sends no ``Access-Control-Max-Age``.
    """

    origins: str | Sequence[str] = "*"
    credentials: bool = False
    methods: Sequence[str] = ("GET", "POST", "OPTIONS")
    max_age: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    """How an ``EngineServer`` behaves. Times are in seconds.

    Attributes:
        path: the URL path the server answers under (with or without trailing slash); ``/engine.io``.
        ping_interval: seconds between heartbeats (25, Node's ``pingInterval``).
        ping_timeout: seconds to wait for the heartbeat's answer before closing (20, ``pingTimeout``).
        upgrade_timeout: seconds a polling → WebSocket upgrade may take (10, ``upgradeTimeout``).
        max_payload: the largest polling body or WebSocket message accepted, in bytes (1 000 000,
            ``maxHttpBufferSize``); advertised to v4 clients as ``maxPayload``.
        max_buffer_size: the outbox bound per session, in entries (128, socketioxide's ``max_buffer_size``).
        transports: the transports offered, among ``"polling"`` and ``"websocket"`` (both).
        allow_eio3: accept Engine.IO v3 clients (socket.io-client 2.x); off, as in Node.
        cors: CORS answers for the HTTP endpoints, ``None`` (Node's default: no CORS headers).
        allow_request: an async hook deciding whether a handshake may proceed, ``None`` (all may).
        slow_consumer: what ``EngineConnection.send`` does on a full outbox: ``"error"`` raises
            ``InternalChannelFull`` (default), ``"drop_oldest"`` drops the oldest entry, ``"disconnect"``
            closes the session with ``SLOW_CONSUMER``.
        flush_timeout: seconds a server-initiated close waits for queued messages to reach the client (5).
    """

    path: str = "/engine.io"
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
