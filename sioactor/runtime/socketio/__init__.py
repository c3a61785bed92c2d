"""The Socket.IO server: ``SocketIo``, the ``Socket`` handle, operators, acks, adapters, errors, extractors.

Layer rule: runtime code; it may import ``sioactor.actors`` and ``sioactor.protocol``.
"""

from sioactor.runtime.socketio._ack import NO_DATA, AckSender, AckStream
from sioactor.runtime.socketio._adapter import Adapter, BroadcastOptions, LocalAdapter
from sioactor.runtime.socketio._config import SocketIoConfig
from sioactor.runtime.socketio._errors import (
    AckClosed,
    AckDecodeError,
    AckError,
    AckTimeout,
    BroadcastError,
    ConfigError,
    ConnectRefused,
    ReservedEventError,
)
from sioactor.runtime.socketio._io import SocketIo
from sioactor.runtime.socketio._operators import BroadcastOperators, SocketEmitter
from sioactor.runtime.socketio._socket import Socket

__all__ = (
    "NO_DATA",
    "AckClosed",
    "AckDecodeError",
    "AckError",
    "AckSender",
    "AckStream",
    "AckTimeout",
    "Adapter",
    "BroadcastError",
    "BroadcastOperators",
    "BroadcastOptions",
    "ConfigError",
    "ConnectRefused",
    "LocalAdapter",
    "ReservedEventError",
    "Socket",
    "SocketEmitter",
    "SocketIo",
    "SocketIoConfig",
)
