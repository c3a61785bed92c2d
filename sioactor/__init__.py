"""sioactor: a Socket.IO server for Python, built on anyio as an actor system.

    from sioactor import SocketIo, Socket, Data, AckSender

    io = SocketIo()

    @io.ns("/")
    async def on_connect(socket: Socket) -> None:
        async def echo(socket: Socket, text: Data[str], ack: AckSender) -> None:
            ack.send(text)

        socket.on("echo", echo)

    anyio.run(io.serve)   # or mount io.asgi() under uvicorn / hypercorn / Starlette

Error tree: ``SioactorError`` is the root; see ``sioactor.protocol._errors`` for the whole picture.
"""

from sioactor.actors import Closed, InternalChannelFull, SendError
from sioactor.actors._trace import TraceEvent, TraceKind, Tracer
from sioactor.protocol import DecodeError, PayloadTooLarge, ProtocolError, SioactorError
from sioactor.protocol._reasons import DisconnectReason, EngineCloseReason
from sioactor.runtime._server import ServerConfig, serve_asgi
from sioactor.runtime.cluster import RedisEmitter, RedisUnavailable, SyncRedisEmitter
from sioactor.runtime.engineio import CorsConfig, EngineConfig, EngineServer, engine_asgi_app
from sioactor.runtime.socketio import (
    NO_DATA,
    AckClosed,
    AckDecodeError,
    AckError,
    AckSender,
    AckStream,
    Adapter,
    BroadcastError,
    BroadcastOperators,
    BroadcastOptions,
    ConfigError,
    ConnectRefused,
    LocalAdapter,
    Socket,
    SocketIo,
    SocketIoConfig,
)
from sioactor.runtime.socketio._extract import (
    Args,
    Auth,
    Data,
    DataError,
    Event,
    HandlerSignatureError,
    NsParams,
    ProtocolVersion,
    Request,
    State,
    TransportType,
    TryData,
)

__all__ = (
    "NO_DATA",
    "AckClosed",
    "AckDecodeError",
    "AckError",
    "AckSender",
    "AckStream",
    "Adapter",
    "Args",
    "Auth",
    "BroadcastError",
    "BroadcastOperators",
    "BroadcastOptions",
    "Closed",
    "ConfigError",
    "ConnectRefused",
    "CorsConfig",
    "Data",
    "DataError",
    "DecodeError",
    "DisconnectReason",
    "EngineCloseReason",
    "EngineConfig",
    "EngineServer",
    "Event",
    "HandlerSignatureError",
    "InternalChannelFull",
    "LocalAdapter",
    "NsParams",
    "PayloadTooLarge",
    "ProtocolError",
    "ProtocolVersion",
    "RedisEmitter",
    "RedisUnavailable",
    "Request",
    "SendError",
    "ServerConfig",
    "SioactorError",
    "Socket",
    "SocketIo",
    "SocketIoConfig",
    "State",
    "SyncRedisEmitter",
    "TraceEvent",
    "TraceKind",
    "Tracer",
    "TransportType",
    "TryData",
    "engine_asgi_app",
    "serve_asgi",
)
