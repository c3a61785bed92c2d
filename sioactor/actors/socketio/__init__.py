"""The Socket.IO layer's actors: a namespace's socket set and room registry, the socket actor and its
messages, and the table of acknowledgements a socket awaits.

Layer rule: anyio and ``sioactor.protocol`` only (see ``sioactor/actors/__init__.py``). Handlers, the
``Socket`` handle and the public API live in ``sioactor.runtime.socketio``; this package only sees them as
callables, opaque values, or through ``SocketDispatcher``.
"""

from sioactor.actors.socketio._acks import AckTable, AckWaiter
from sioactor.actors.socketio._messages import (
    Connect,
    Disconnect,
    EventReceived,
    SocketMessage,
    event_received,
)
from sioactor.actors.socketio._namespace_actor import (
    Admit,
    FetchSockets,
    NamespaceActor,
    NamespaceMessage,
    Remove,
)
from sioactor.actors.socketio._room_messages import (
    AddSocket,
    Join,
    Leave,
    RemoveSocket,
    RoomMessage,
    RoomsOf,
    Select,
)
from sioactor.actors.socketio._rooms import RoomChange, RoomObserver, RoomRegistry, RoomRegistryActor
from sioactor.actors.socketio._socket_actor import SocketActor, SocketDispatcher

__all__ = (
    "AckTable",
    "AckWaiter",
    "AddSocket",
    "Admit",
    "Connect",
    "Disconnect",
    "EventReceived",
    "FetchSockets",
    "Join",
    "Leave",
    "NamespaceActor",
    "NamespaceMessage",
    "Remove",
    "RemoveSocket",
    "RoomChange",
    "RoomMessage",
    "RoomObserver",
    "RoomRegistry",
    "RoomRegistryActor",
    "RoomsOf",
    "Select",
    "SocketActor",
    "SocketDispatcher",
    "SocketMessage",
    "event_received",
)
