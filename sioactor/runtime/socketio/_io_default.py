"""``SocketIo``'s operators on its default namespace ``/``: ``io.to(room).emit(...)``, ``io.emit``,
``io.fetch_sockets``, ``io.server_count``... -- each the same as ``io.of("/")``'s, as in Node.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sioactor.runtime.socketio._ack import NO_DATA, AckStream
from sioactor.runtime.socketio._namespace import (
    DEFAULT_REQUEST_TIMEOUT,
    NamespaceOperators,
)
from sioactor.runtime.socketio._operators import BroadcastOperators, Rooms
from sioactor.runtime.socketio._remote import RemoteSocket
from sioactor.runtime.socketio._socket import Socket

__all__ = ("DefaultNamespaceOperators",)


class DefaultNamespaceOperators:
    """The operators of namespace ``/`` on ``SocketIo`` itself (a base class of ``SocketIo``)."""

    __slots__ = ()

    def _root(self) -> BroadcastOperators:
        return self._root_ns()

    def _root_ns(self) -> NamespaceOperators:
        raise NotImplementedError  # SocketIo's

    def to(self, rooms: Rooms) -> BroadcastOperators:
        """The sockets of ``/`` in *rooms*."""
        return self._root().to(rooms)

    def within(self, rooms: Rooms) -> BroadcastOperators:
        """Same as ``to``."""
        return self._root().to(rooms)

    def except_(self, rooms: Rooms) -> BroadcastOperators:
        """The sockets of ``/`` not in *rooms*."""
        return self._root().except_(rooms)

    def local(self) -> BroadcastOperators:
        """The sockets of ``/`` on this node."""
        return self._root().local()

    def volatile(self) -> BroadcastOperators:
        """The sockets of ``/``, volatile emits."""
        return self._root().volatile()

    def compress(self, compress: bool) -> BroadcastOperators:
        """The sockets of ``/``, emits compressed or not (Node's ``io.compress(false)``)."""
        return self._root().compress(compress)

    def timeout(self, seconds: float) -> BroadcastOperators:
        """The sockets of ``/``, with an ack timeout."""
        return self._root().timeout(seconds)

    async def emit(self, event: str, data: Any = NO_DATA) -> None:
        """Send *event* to every socket of ``/`` (see ``BroadcastOperators.emit``)."""
        await self._root().emit(event, data)

    async def emit_with_ack(
        self, event: str, data: Any = NO_DATA, *, convert: Callable[[Any], Any] | None = None
    ) -> AckStream:
        """Send *event* to every socket of ``/`` and stream their answers."""
        return await self._root().emit_with_ack(event, data, convert=convert)

    def sockets(self) -> list[Socket]:
        """The connected sockets of ``/`` on this node: a snapshot of the namespace actor's set as of its last
        message (an admission still queued is not in it); ``fetch_sockets`` asks the actor instead.
        """
        return self._root().sockets()

    async def fetch_sockets(self) -> list[Socket | RemoteSocket]:
        """The sockets of ``/`` on every node (see ``BroadcastOperators.fetch_sockets``)."""
        return await self._root().fetch_sockets()

    async def server_side_emit(self, event: str, data: Any = NO_DATA) -> None:
        """Send *event* to the other nodes' server-side handlers of ``/`` (``NamespaceOperators``)."""
        await self._root_ns().server_side_emit(event, data)

    async def server_side_emit_with_ack(
        self, event: str, data: Any = NO_DATA, *, ack_timeout: float = DEFAULT_REQUEST_TIMEOUT
    ) -> list[Any]:
        """Send *event* to the other nodes' server-side handlers of ``/``; their answers, one per node."""
        return await self._root_ns().server_side_emit_with_ack(event, data, ack_timeout=ack_timeout)

    async def all_rooms(self) -> set[str]:
        """Every room of ``/`` on every node."""
        return await self._root_ns().all_rooms()

    async def server_count(self) -> int:
        """How many nodes serve ``/``, this one included."""
        return await self._root_ns().server_count()
