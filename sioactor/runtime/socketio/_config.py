"""``SocketIoConfig``: every option of a Socket.IO server, with socket.io's and socketioxide's defaults."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sioactor.actors._engine_api import RequestInfo
from sioactor.runtime.socketio._errors import ConfigError

__all__ = ("SlowConsumerPolicy", "SocketIoConfig")

SlowConsumerPolicy = Literal["error", "drop_oldest", "disconnect"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SocketIoConfig:
    """Options of a ``SocketIo`` server. Times are seconds.

    Attributes:
        path: where the server answers (``/socket.io``).
        ping_interval: how often the server pings (25 s).
        ping_timeout: how long a pong may take before the session is dropped (20 s).
        upgrade_timeout: how long a polling → WebSocket upgrade may take (10 s).
        connect_timeout: how long an Engine.IO session may stay without joining a namespace (45 s).
        max_payload: the largest HTTP body / WebSocket message accepted, bytes (1 MB).
        max_buffer_size: a connection's outbox, in packets (128): what its transport cannot take now. While
            it is full the client's own events wait (its connection stops being read); an emit from
            elsewhere (a broadcast, another socket, a server task) meets ``slow_consumer``.
        ack_timeout: the default wait for an acknowledgement (5 s).
        transports: the transports offered (polling and websocket).
        allow_eio3: accept Engine.IO v3 clients (socket.io-client 1.x/2.x) (off).
        cors: allowed origins (``"*"`` or a list), or ``None`` for no CORS headers (off).
        parser: ``"json"`` or ``"msgpack"`` (``"json"``).
        slow_consumer: what a full outbox does: ``"error"`` raise ``InternalChannelFull`` (default),
            ``"drop_oldest"`` drop the oldest queued packet, ``"disconnect"`` drop the client.
        max_attachments: binary attachments one packet may announce (10).
        inbox_size: events one socket may have waiting for its handlers (128); while it is full, the
            connection stops being read, so the client is slowed down and nothing it sent is dropped.
        namespace_mailbox_size: the mailbox of each namespace actor and room registry actor (4096):
            admissions, removals and joins of a namespace's sockets waiting to be handled.
        allow_request: an async check of each handshake's request; return False (or a reason) to refuse.
        state: any object handlers receive through the ``State[T]`` extractor.
        trace_endpoint: serve the actor trace to ``sioactor console`` at ``HOST:PORT`` (loopback; port 0
            picks one), ``PORT`` or ``unix:/PATH``; the console command, token included, is logged at start.
        trace_file: record the actor trace to this JSON-lines file (``sioactor console --replay``).
        trace_payloads: keep event arguments in the trace (never auth); off by default.
    """

    path: str = "/socket.io"
    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    upgrade_timeout: float = 10.0
    connect_timeout: float = 45.0
    max_payload: int = 1_000_000
    max_buffer_size: int = 128
    ack_timeout: float = 5.0
    transports: Sequence[Literal["polling", "websocket"]] = ("polling", "websocket")
    allow_eio3: bool = False
    cors: str | Sequence[str] | None = None
    parser: Literal["json", "msgpack"] = "json"
    slow_consumer: SlowConsumerPolicy = "error"
    max_attachments: int = 10
    inbox_size: int = 128
    namespace_mailbox_size: int = 4096
    allow_request: Callable[[RequestInfo], Awaitable[bool | str]] | None = None
    state: Any = field(default=None)
    trace_endpoint: str | None = None
    trace_file: str | None = None
    trace_payloads: bool = False

    def __post_init__(self) -> None:
        for name in ("ping_interval", "ping_timeout", "upgrade_timeout", "connect_timeout", "ack_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds, got {getattr(self, name)!r}")
        for name in ("max_payload", "max_buffer_size", "inbox_size", "namespace_mailbox_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.parser not in ("json", "msgpack"):
            raise ConfigError(f"parser must be 'json' or 'msgpack', got {self.parser!r}")
        if self.slow_consumer not in ("error", "drop_oldest", "disconnect"):
            raise ConfigError(
                f"slow_consumer must be 'error', 'drop_oldest' or 'disconnect', got {self.slow_consumer!r}"
            )
        if not self.transports or not set(self.transports) <= {"polling", "websocket"}:
            raise ConfigError(
                f"transports must be a non-empty subset of polling, websocket: {self.transports!r}"
            )
        if not self.path.startswith("/"):
            raise ConfigError(f"path must start with '/', got {self.path!r}")
