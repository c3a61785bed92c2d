"""sioactor: a Socket.IO server for Python, built on anyio as an actor system.

    import anyio
    from sioactor import AckSender, Data, Socket, SocketIo

    io = SocketIo()

    @io.on("echo")                      # every socket of "/"; a plain def runs at once
    def echo(text: Data[str], ack: AckSender) -> None:
        ack.send(text)

    @io.on("shout")                     # an async def runs in the socket's actor, in order
    async def shout(socket: Socket, text: Data[str]) -> None:
        await socket.broadcast().emit("shout", text)

    anyio.run(io.serve)   # or mount io.asgi() under uvicorn / hypercorn / Starlette

Options: ``SocketIo(SocketIoConfig(..., engine=EngineConfig(...)))``; the two config classes' docstrings list
every limit and default. Errors: ``SioactorError`` is the root of every error sioactor raises on purpose; the
tree is drawn in ``sioactor._errors`` and every error a caller can meet is exported here.

Everything here is public; modules whose names start with ``_`` are not, and may change without notice.
"""

from sioactor._errors import (
    AckClosed,
    AckDecodeError,
    AckError,
    AckTimeout,
    BroadcastError,
    ClientDisconnected,
    Closed,
    ClusterTimeout,
    ConfigError,
    ConnectRefused,
    DataError,
    DecodeError,
    FilterError,
    HandlerSignatureError,
    HttpError,
    InternalChannelFull,
    LifespanFailed,
    PayloadTooLarge,
    ProtocolError,
    SendError,
    SioactorError,
    TokenRefused,
)
from sioactor.actors._trace import TraceEvent, TraceKind, Tracer
from sioactor.actors.engineio._api import EngineConnection, EngineListener, RequestInfo, TransportName
from sioactor.protocol._reasons import DisconnectReason, EngineCloseReason
from sioactor.runtime._lifespan import ASGIApp, Receive, Scope, Send, serve_lifespan
from sioactor.runtime._server import ServerConfig, serve_asgi
from sioactor.runtime.cluster import (
    RedisAdapter,
    RedisAdapterFactory,
    RedisEmitter,
    RedisShardedAdapter,
    RedisShardedAdapterFactory,
    RedisUnavailable,
    SyncRedisEmitter,
)
from sioactor.runtime.engineio import (
    AllowRequest,
    CookieConfig,
    CorsConfig,
    EngineConfig,
    EngineError,
    EngineServer,
    RequestRefused,
    SlowConsumerPolicy,
    engine_asgi_app,
)
from sioactor.runtime.socketio import (
    NO_DATA,
    AckSender,
    AckStream,
    Adapter,
    AdapterFactory,
    BroadcastOperators,
    BroadcastOptions,
    Handshake,
    LocalAdapter,
    NamespaceHandlers,
    NamespaceOperators,
    NamespacePattern,
    NamespacePredicate,
    ParentNamespace,
    RemoteSocket,
    ReservedEventError,
    RoomEventName,
    Socket,
    SocketEmitter,
    SocketIo,
    SocketIoConfig,
)
from sioactor.runtime.socketio._extract import (
    Args,
    Auth,
    Data,
    Event,
    NsParams,
    ProtocolVersion,
    Request,
    State,
    TransportType,
    TryData,
)

__all__ = (
    "NO_DATA",
    "ASGIApp",
    "AckClosed",
    "AckDecodeError",
    "AckError",
    "AckSender",
    "AckStream",
    "AckTimeout",
    "Adapter",
    "AdapterFactory",
    "AllowRequest",
    "Args",
    "Auth",
    "BroadcastError",
    "BroadcastOperators",
    "BroadcastOptions",
    "ClientDisconnected",
    "Closed",
    "ClusterTimeout",
    "ConfigError",
    "ConnectRefused",
    "CookieConfig",
    "CorsConfig",
    "Data",
    "DataError",
    "DecodeError",
    "DisconnectReason",
    "EngineCloseReason",
    "EngineConfig",
    "EngineConnection",
    "EngineError",
    "EngineListener",
    "EngineServer",
    "Event",
    "FilterError",
    "HandlerSignatureError",
    "Handshake",
    "HttpError",
    "InternalChannelFull",
    "LifespanFailed",
    "LocalAdapter",
    "NamespaceHandlers",
    "NamespaceOperators",
    "NamespacePattern",
    "NamespacePredicate",
    "NsParams",
    "ParentNamespace",
    "PayloadTooLarge",
    "ProtocolError",
    "ProtocolVersion",
    "Receive",
    "RedisAdapter",
    "RedisAdapterFactory",
    "RedisEmitter",
    "RedisShardedAdapter",
    "RedisShardedAdapterFactory",
    "RedisUnavailable",
    "RemoteSocket",
    "Request",
    "RequestInfo",
    "RequestRefused",
    "ReservedEventError",
    "RoomEventName",
    "Scope",
    "Send",
    "SendError",
    "ServerConfig",
    "SioactorError",
    "SlowConsumerPolicy",
    "Socket",
    "SocketEmitter",
    "SocketIo",
    "SocketIoConfig",
    "State",
    "SyncRedisEmitter",
    "TokenRefused",
    "TraceEvent",
    "TraceKind",
    "Tracer",
    "TransportName",
    "TransportType",
    "TryData",
    "engine_asgi_app",
    "serve_asgi",
    "serve_lifespan",
)
