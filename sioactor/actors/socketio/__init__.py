"""The Socket.IO layer's actors: a socket's mailbox (drained on demand), a namespace's room registry, and
the table of acknowledgements a socket awaits.

Layer rule: anyio and ``sioactor.protocol`` only (see ``sioactor/actors/__init__.py``). Handlers, the
``Socket`` handle and the public API live in ``sioactor.runtime.socketio``; this package only sees them as
callables.
"""

from sioactor.actors.socketio._acks import AckTable, AckWaiter
from sioactor.actors.socketio._mailbox import SocketMailbox
from sioactor.actors.socketio._messages import Connect, Disconnect, EventReceived, SocketMessage
from sioactor.actors.socketio._rooms import RoomRegistry

__all__ = (
    "AckTable",
    "AckWaiter",
    "Connect",
    "Disconnect",
    "EventReceived",
    "RoomRegistry",
    "SocketMailbox",
    "SocketMessage",
)
