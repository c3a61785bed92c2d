"""``SocketIoConfig``: the options of a Socket.IO server, the Engine.IO ones nested in ``engine``.

The docstrings of ``SocketIoConfig`` and ``EngineConfig`` are where every limit and default is written down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sioactor._errors import ConfigError
from sioactor.runtime.engineio import EngineConfig

__all__ = ("SocketIoConfig", "state_by_type")


@dataclass(frozen=True, slots=True, kw_only=True)
class SocketIoConfig:
    """Options of a ``SocketIo`` server (``SocketIo(SocketIoConfig(...))``). Times are seconds.

    Attributes:
        engine: the Engine.IO options (``EngineConfig``: path, heartbeat, payload and outbox limits,
            transports, CORS, ``allow_request``, the slow-consumer policy); its path defaults to
            ``/socket.io`` here.
        connect_timeout: how long an Engine.IO session may stay without joining a namespace (45 s).
        ack_timeout: the default wait for an acknowledgement (5 s).
        parser: ``"json"`` or ``"msgpack"`` (``"json"``).
        max_attachments: binary attachments one packet may announce (10).
        inbox_size: events one socket may have waiting for its handlers (128); while it is full, the
            connection stops being read, so the client is slowed down and nothing it sent is dropped.
        namespace_mailbox_size: the mailbox of each namespace actor and room registry actor (4096):
            admissions, removals and joins of a namespace's sockets waiting to be handled.
        trace_endpoint: serve the actor trace to ``sioactor console`` at ``HOST:PORT`` (loopback; port 0
            picks one), ``PORT`` or ``unix:/PATH``; the console command, token included, is logged at start
            (off).
        trace_file: record the actor trace to this JSON-lines file (``sioactor console --replay``) (off).
        trace_payloads: keep event arguments in the trace (never auth) (off).
        serve_client: serve socket.io-client's browser bundle at ``<path>/socket.io.js`` (and the ``.min``,
            ``.esm.min``, ``.msgpack.min`` variants and their ``.map`` that exist there), with Node's ETag and
            304: a path to socket.io-client's package directory (``node_modules/socket.io-client``), its
            ``dist/``, or its ``socket.io.js``. None is bundled with sioactor (off).
        trust_proxy: every request comes through a reverse proxy that sets ``cf-connecting-ip`` or
            ``x-forwarded-for``: ``socket.handshake.address`` is read from them (off: the peer's address;
            a client could forge them otherwise).
        trace_token: the token consoles attach to ``trace_endpoint`` with; a fixed one lets consoles
            reconnect across restarts of the server (a random one per start).
        stall_threshold: a watchdog logs (``sioactor.watchdog``) and traces every stall of the event loop
            longer than this, naming the handler that held it (0.5 s); ``None`` turns it off. Run blocking
            work with ``anyio.to_thread.run_sync`` instead.

    Raises:
        ConfigError: a time that is not positive, a size under 1, an unknown parser.
    """

    engine: EngineConfig = field(default_factory=EngineConfig)
    connect_timeout: float = 45.0
    ack_timeout: float = 5.0
    parser: Literal["json", "msgpack"] = "json"
    max_attachments: int = 10
    inbox_size: int = 128
    namespace_mailbox_size: int = 4096
    trace_endpoint: str | None = None
    trace_file: str | None = None
    trace_payloads: bool = False
    serve_client: str | None = None
    trust_proxy: bool = False
    trace_token: str | None = None
    stall_threshold: float | None = 0.5

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "ack_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds, got {getattr(self, name)!r}")
        if self.stall_threshold is not None and not self.stall_threshold > 0:
            raise ConfigError(
                f"stall_threshold must be positive seconds or None, got {self.stall_threshold!r}"
            )
        if self.trace_token is not None and not self.trace_token.strip():
            raise ConfigError("trace_token must not be empty (leave it None for a random token)")
        for name in ("inbox_size", "namespace_mailbox_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.max_attachments < 0:
            raise ConfigError(f"max_attachments must be at least 0, got {self.max_attachments!r}")
        if self.parser not in ("json", "msgpack"):
            raise ConfigError(f"parser must be 'json' or 'msgpack', got {self.parser!r}")
        if not isinstance(self.engine, EngineConfig):
            raise ConfigError(f"engine must be an EngineConfig, got {type(self.engine).__name__}")

    @property
    def engine_path(self) -> str:
        """Where the server answers: ``engine.path``, or ``/socket.io`` when it is not set."""
        return self.engine.path or "/socket.io"


def state_by_type(state: Any) -> dict[type, Any]:
    """``SocketIo(state=...)``'s objects (one, or a list or tuple of them) by type, for ``State[T]``."""
    if state is None:
        return {}
    objects = state if isinstance(state, list | tuple) else (state,)
    return {type(obj): obj for obj in objects}
