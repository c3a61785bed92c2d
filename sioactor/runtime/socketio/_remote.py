"""``RemoteSocket``: a socket of another node of the cluster, as ``fetch_sockets`` returns it.

It holds what that node said about the socket when asked (id, handshake, rooms, data: a snapshot), and
acts on it through the cluster: an emit is a broadcast to the socket's own room, a join a cluster-wide join
of the sockets in that room, and so on, as Node's ``RemoteSocket`` does. Each action goes out through the
adapter, so it is ``async``, unlike a local ``Socket``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, final

from sioactor.runtime.socketio._ack import NO_DATA
from sioactor.runtime.socketio._adapter import BroadcastOptions
from sioactor.runtime.socketio._operators import BroadcastOperators, Rooms

if TYPE_CHECKING:
    from sioactor.runtime.socketio._namespace import Namespace

__all__ = ("RemoteSocket",)


@final
class RemoteSocket:
    """A socket connected to another node. Returned by ``fetch_sockets``; never constructed by user code.

    Attributes:
        id: the socket id.
        handshake: the handshake as that node described it (Node's shape: ``headers``, ``query``, ``auth``,
            ``address``, ``time``, ``issued``, ``url``, ``secure``, ``xdomain``).
        rooms: the rooms it was in when fetched.
        data: its ``data`` when fetched.
    """

    __slots__ = ("_ns", "data", "handshake", "id", "rooms")

    def __init__(
        self, ns: Namespace, *, sid: str, handshake: Mapping[str, Any], rooms: frozenset[str], data: Any
    ) -> None:
        self._ns = ns
        self.id = sid
        self.handshake = handshake
        self.rooms = rooms
        self.data = data

    def __repr__(self) -> str:
        return f"<RemoteSocket {self.id} ns={self._ns.path!r}>"

    @property
    def ns(self) -> str:
        """The namespace path."""
        return self._ns.path

    def _self(self) -> BroadcastOperators:
        return BroadcastOperators(self._ns, BroadcastOptions(rooms=frozenset((self.id,))))

    async def emit(self, event: str, data: Any = NO_DATA) -> None:
        """Send *event* to this socket, through the cluster."""
        await self._self().emit(event, data)

    async def join(self, rooms: Rooms) -> None:
        """Make this socket join *rooms*."""
        await self._self().join(rooms)

    async def leave(self, rooms: Rooms) -> None:
        """Make this socket leave *rooms*."""
        await self._self().leave(rooms)

    async def disconnect(self) -> None:
        """Disconnect this socket from its namespace."""
        await self._self().disconnect()
