"""Broadcast operators: ``to``/``within``/``except_``/``local``/``broadcast``/``timeout``/``volatile`` chain
into an immutable ``BroadcastOperators`` whose emits and room operations go through the namespace's adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, final

from sioactor._errors import BroadcastError, Closed, InternalChannelFull, ReservedEventError
from sioactor.protocol.socketio import RESERVED_EVENTS, Packet, PacketType
from sioactor.runtime.socketio._ack import NO_DATA, AckStream, to_args
from sioactor.runtime.socketio._adapter import BroadcastOptions

if TYPE_CHECKING:
    from sioactor.runtime.socketio._namespace import Namespace
    from sioactor.runtime.socketio._remote import RemoteSocket
    from sioactor.runtime.socketio._socket import Socket

__all__ = ("BroadcastOperators", "Rooms", "SocketEmitter", "room_list", "room_set")

# One room name or several.
Rooms = str | Iterable[str]


def room_list(rooms: Rooms) -> tuple[str, ...]:
    """Normalise a room parameter, keeping its order: a ``str`` is one room, any other iterable several."""
    if isinstance(rooms, str):
        return (rooms,)
    return tuple(dict.fromkeys(rooms))


def room_set(rooms: Rooms) -> frozenset[str]:
    """Normalise a room parameter into a set."""
    if isinstance(rooms, str):
        return frozenset((rooms,))
    return frozenset(rooms)


class BroadcastOperators:
    """A selection of sockets in one namespace, with emit flags. Each operator returns a new selection;
    emits and room operations are ``async`` (an adapter may talk to other nodes). Not subclassed by users
    (``NamespaceOperators``, what ``io.of`` returns, adds handler registration).

    Made from a socket (``socket.within(...)``), it knows that socket as its *sender*: ``to`` and ``except_``
    leave the sender out, ``within`` does not (socketioxide's rule; from the io, the two are the same).
    """

    __slots__ = ("_ns", "_opts", "_sender", "_timeout")

    def __init__(
        self,
        ns: Namespace,
        opts: BroadcastOptions,
        timeout: float | None = None,
        *,
        sender: str | None = None,
    ) -> None:
        self._ns = ns
        self._opts = opts
        self._timeout = timeout
        self._sender = sender

    def _with(self, **changes: Any) -> BroadcastOperators:
        return BroadcastOperators(
            self._ns, replace(self._opts, **changes), self._timeout, sender=self._sender
        )

    def _without_sender(self) -> frozenset[str]:
        if self._sender is None:
            return self._opts.except_sids
        return self._opts.except_sids | {self._sender}

    def to(self, rooms: Rooms) -> BroadcastOperators:
        """Also select the sockets in *rooms*; the sender, if any, is left out."""
        return self._with(rooms=self._opts.rooms | room_set(rooms), except_sids=self._without_sender())

    def within(self, rooms: Rooms) -> BroadcastOperators:
        """Also select the sockets in *rooms*, the sender included if it is in them."""
        return self._with(rooms=self._opts.rooms | room_set(rooms))

    def except_(self, rooms: Rooms) -> BroadcastOperators:
        """Leave out the sockets in *rooms*, and the sender, if any."""
        return self._with(
            except_rooms=self._opts.except_rooms | room_set(rooms), except_sids=self._without_sender()
        )

    def local(self) -> BroadcastOperators:
        """This node only (a no-op with the local adapter)."""
        return self._with(local=True)

    def volatile(self) -> BroadcastOperators:
        """Skip receivers whose outbox is full instead of reporting them."""
        return self._with(volatile=True)

    def compress(self, compress: bool) -> BroadcastOperators:
        """Whether the emits may be compressed (Node's ``compress(false)``: never, whatever their size).
        The packet is still encoded once; each receiver's connection compresses it with its own context."""
        return self._with(compress=compress)

    def timeout(self, seconds: float) -> BroadcastOperators:
        """The ack timeout of ``emit_with_ack`` (default: the server's ``ack_timeout``)."""
        return BroadcastOperators(self._ns, self._opts, seconds, sender=self._sender)

    async def emit(self, event: str, data: Any = NO_DATA) -> None:
        """Send *event* to every selected socket, encoded once.

        Raises:
            ReservedEventError: *event* is one the client reserves (``"disconnect"`` ...), as in Node.
            BroadcastError: some receivers were full or closed (listed by socket id, each error carrying
                *data*); all others were served.
        """
        if event in RESERVED_EVENTS:
            raise ReservedEventError(event)
        packet = Packet(type=PacketType.EVENT, nsp=self._ns.path, data=[event, *to_args(data)])
        try:
            await self._ns.adapter.broadcast(packet, self._opts)
        except BroadcastError as exc:
            raise self._restated(exc, data) from None

    async def emit_with_ack(
        self, event: str, data: Any = NO_DATA, *, convert: Callable[[Any], Any] | None = None
    ) -> AckStream:
        """Send *event* to every selected socket and return the stream of their answers.

        Raises:
            ReservedEventError: as ``emit``.
            BroadcastError: some receivers were full or closed (as ``emit``); the stream awaits only the
                others. The stream is on the error's ``stream`` attribute.
        """
        if event in RESERVED_EVENTS:
            raise ReservedEventError(event)
        stream = self._ns.ack_stream(self._timeout, convert)
        ack_id = self._ns.next_ack_id()
        packet = Packet(type=PacketType.EVENT, nsp=self._ns.path, data=[event, *to_args(data)], id=ack_id)
        try:
            await self._ns.adapter.broadcast_with_ack(packet, self._opts, stream)
        except BroadcastError as exc:
            raise self._restated(exc, data, stream) from None
        return stream

    def _restated(self, exc: BroadcastError, data: Any, stream: AckStream | None = None) -> BroadcastError:
        # The adapter saw engine sessions and wire text; the caller wants its sockets and its data back, as
        # Socket.emit's errors give them (an adapter's other errors pass as they are).
        errors: dict[str, Exception] = {}
        for sid, error in exc.errors.items():
            if isinstance(error, InternalChannelFull | Closed):
                error = type(error)(f"socket:{self._ns.path}:{sid}", data)
            errors[sid] = error
        return BroadcastError(errors, stream)

    def sockets(self) -> list[Socket]:
        """The selected sockets of this node, from a snapshot of the room registry (joins still queued are
        not seen); ``fetch_sockets`` asks the registry and sees them.
        """
        return self._ns.adapter.local_sockets(self._opts)

    async def fetch_sockets(self) -> list[Socket | RemoteSocket]:
        """The selected sockets, on every node: this node's as ``Socket``, the others' as ``RemoteSocket``.

        Raises:
            ClusterTimeout: (a cluster adapter) some nodes did not answer in time.
            RedisUnavailable: (a Redis adapter) the cluster cannot be reached now.
        """
        return await self._ns.adapter.fetch_sockets(self._opts)

    async def join(self, rooms: Rooms) -> None:
        """Make every selected socket join *rooms*."""
        await self._ns.adapter.add_sockets(self._opts, room_list(rooms))

    async def leave(self, rooms: Rooms) -> None:
        """Make every selected socket leave *rooms*."""
        await self._ns.adapter.del_sockets(self._opts, room_list(rooms))

    async def disconnect(self) -> None:
        """Disconnect every selected socket (``server namespace disconnect``)."""
        await self._ns.adapter.disconnect_sockets(self._opts)


@final
class SocketEmitter:
    """A socket with emit settings (``socket.timeout(2)``, ``.volatile()``, ``.compress(False)``)."""

    __slots__ = ("_compress", "_socket", "_timeout", "_volatile")

    def __init__(
        self, socket: Socket, *, timeout: float | None, volatile: bool, compress: bool = True
    ) -> None:
        self._socket = socket
        self._timeout = timeout
        self._volatile = volatile
        self._compress = compress

    def timeout(self, seconds: float) -> SocketEmitter:
        """Set the ack timeout."""
        return SocketEmitter(self._socket, timeout=seconds, volatile=self._volatile, compress=self._compress)

    def volatile(self) -> SocketEmitter:
        """Drop emits rather than fail when the outbox is full."""
        return SocketEmitter(self._socket, timeout=self._timeout, volatile=True, compress=self._compress)

    def compress(self, compress: bool) -> SocketEmitter:
        """Whether the emits may be compressed (``False``: never, whatever their size)."""
        return SocketEmitter(self._socket, timeout=self._timeout, volatile=self._volatile, compress=compress)

    def emit(self, event: str, data: Any = NO_DATA) -> None:
        """``Socket.emit`` with these settings."""
        self._socket.emit(event, data, volatile=self._volatile, compress=self._compress)

    def emit_with_ack(
        self, event: str, data: Any = NO_DATA, *, convert: Callable[[Any], Any] | None = None
    ) -> AckStream:
        """``Socket.emit_with_ack`` with these settings."""
        return self._socket.emit_with_ack(
            event, data, timeout=self._timeout, convert=convert, compress=self._compress
        )
