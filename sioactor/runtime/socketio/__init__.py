"""The Socket.IO server: ``SocketIo``, the ``Socket`` handle, operators, acks, adapters, errors, extractors.

Layer rule: the top of the runtime; it may import ``sioactor.actors``, ``sioactor.protocol``,
``runtime.engineio``, the embedded server and ``runtime.trace``; nothing below imports it.
``tests/test_layering.py`` enforces it.
"""

from sioactor._errors import (
    AckClosed,
    AckDecodeError,
    AckError,
    AckTimeout,
    BroadcastError,
    ConfigError,
    ConnectRefused,
    ReservedEventError,
)
from sioactor.runtime.socketio._ack import NO_DATA, AckSender, AckStream
from sioactor.runtime.socketio._adapter import Adapter, AdapterFactory, BroadcastOptions, LocalAdapter
from sioactor.runtime.socketio._config import SocketIoConfig
from sioactor.runtime.socketio._handshake import Handshake
from sioactor.runtime.socketio._io import SocketIo
from sioactor.runtime.socketio._namespace import (
    NamespaceOperators,
    NamespacePattern,
    NamespacePredicate,
    RoomEventName,
)
from sioactor.runtime.socketio._namespace_class import NamespaceHandlers
from sioactor.runtime.socketio._operators import BroadcastOperators, SocketEmitter
from sioactor.runtime.socketio._parent import ParentNamespace
from sioactor.runtime.socketio._remote import RemoteSocket
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
    "AdapterFactory",
    "BroadcastError",
    "BroadcastOperators",
    "BroadcastOptions",
    "ConfigError",
    "ConnectRefused",
    "Handshake",
    "LocalAdapter",
    "NamespaceHandlers",
    "NamespaceOperators",
    "NamespacePattern",
    "NamespacePredicate",
    "ParentNamespace",
    "RemoteSocket",
    "ReservedEventError",
    "RoomEventName",
    "Socket",
    "SocketEmitter",
    "SocketIo",
    "SocketIoConfig",
)
