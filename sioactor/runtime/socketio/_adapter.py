"""The adapter interface (who is where, and how a broadcast reaches them) and the local adapter.

The interface is shaped for remote adapters (Redis, a Node cluster) from the start: every operation takes
``BroadcastOptions`` (rooms, exceptions, flags) rather than a list of sockets, and is ``async`` because a
remote adapter talks to other nodes. The local adapter asks the namespace's room registry actor for the
targets (``Select``: FIFO behind every join told before; read directly, without the ask, when the registry
has no mail queued -- then every earlier join is already applied) and delivers in the same call: the packet is
**encoded once** and the same object is handed to each receiver's
``EngineConnection.send`` (``send_nowait`` into the session's outbox, no intermediate actor per delivery).
A full or closed receiver is recorded and skipped; the others are served; ``BroadcastError`` lists it after.

A cluster adapter joins its cluster in ``start`` (awaited before the server takes connections, so an
unreachable cluster fails the start) and leaves it in ``close``; the local adapter has nothing to do there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sioactor._errors import BroadcastError, SendError
from sioactor.actors._trace import TraceKind
from sioactor.actors.engineio._api import Outgoing
from sioactor.actors.socketio import Join, Leave, Select
from sioactor.protocol.engineio import Uncompressed
from sioactor.protocol.socketio import Packet
from sioactor.runtime._worker_context import worker_adapter_factory
from sioactor.runtime.socketio._event_hooks import notify_broadcast

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from sioactor.runtime.engineio import EngineServer
    from sioactor.runtime.socketio._ack import AckStream
    from sioactor.runtime.socketio._namespace import Namespace
    from sioactor.runtime.socketio._remote import RemoteSocket
    from sioactor.runtime.socketio._socket import Socket

__all__ = (
    "Adapter",
    "AdapterFactory",
    "BroadcastOptions",
    "EngineAware",
    "LocalAdapter",
    "close_adapters",
    "join_worker_cluster",
    "start_late",
)

logger = logging.getLogger("sioactor.socketio")


@dataclass(frozen=True, slots=True, kw_only=True)
class BroadcastOptions:
    """Which sockets of a namespace an operation selects.

    Attributes:
        rooms: sockets in any of these rooms; every socket of the namespace when empty.
        except_rooms: minus the sockets in any of these rooms.
        except_sids: minus these sockets (the emitting socket, for ``socket.to(...)``).
        local: this node only (a no-op for the local adapter).
        volatile: drop the packet for a receiver whose outbox is full instead of reporting it.
        compress: the packet may be compressed (``compress(False)``: never).
    """

    rooms: frozenset[str] = frozenset()
    except_rooms: frozenset[str] = frozenset()
    except_sids: frozenset[str] = frozenset()
    local: bool = False
    volatile: bool = False
    compress: bool = True


class Adapter(Protocol):
    """How one namespace's operators reach the sockets they select, on this node and others.

    ``SocketIo(adapter=factory)`` calls ``factory(namespace)`` once per namespace, when the namespace is
    created; the default factory is ``LocalAdapter``. A cluster adapter wraps a ``LocalAdapter`` of the same
    namespace for the sockets of this node and forwards each operation (unless ``opts.local``) to the
    other nodes, which run it on their own local adapter.
    """

    async def start(self, task_group: TaskGroup) -> None:
        """Join the cluster before the namespace serves; background work runs in *task_group*.

        Raises:
            RedisUnavailable: (a Redis adapter) the cluster's Redis cannot be reached.
        """

    async def close(self) -> None:
        """Leave the cluster (after the namespace's sockets are gone)."""

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Send *packet* to every selected socket.

        Raises:
            BroadcastError: some receivers could not be reached; all the others were.
        """

    async def broadcast_with_ack(self, packet: Packet, opts: BroadcastOptions, stream: AckStream) -> None:
        """Send *packet* (its ``id`` set) and make *stream* await each receiver's answer.

        Raises:
            BroadcastError: some receivers could not be reached (the stream does not await them).
        """

    async def add_sockets(self, opts: BroadcastOptions, rooms: Collection[str]) -> None:
        """Make every selected socket join *rooms*."""

    async def del_sockets(self, opts: BroadcastOptions, rooms: Collection[str]) -> None:
        """Make every selected socket leave *rooms*."""

    async def disconnect_sockets(self, opts: BroadcastOptions) -> None:
        """Disconnect every selected socket from the namespace."""

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[Socket | RemoteSocket]:
        """The selected sockets: this node's as ``Socket``, the other nodes' as ``RemoteSocket``."""

    async def server_side_emit(self, data: list[Any]) -> None:
        """Send ``[event, *args]`` to the other nodes' server-side handlers."""

    async def server_side_emit_with_ack(self, data: list[Any], ack_timeout: float) -> list[Any]:
        """Send ``[event, *args]`` to the other nodes' server-side handlers; their answers, one per node.

        Raises:
            ClusterTimeout: some nodes did not answer within *ack_timeout* seconds.
        """

    async def all_rooms(self) -> set[str]:
        """Every room of the namespace on every node (socket ids included)."""

    async def server_count(self) -> int:
        """How many nodes serve the namespace, this one included."""

    def local_sockets(self, opts: BroadcastOptions) -> list[Socket]:
        """The selected sockets of this node only; never waits, so it reads a snapshot (see the adapter)."""


AdapterFactory = Callable[["Namespace"], Adapter]
"""What ``SocketIo(adapter=...)`` takes: builds the ``Adapter`` of one namespace (``LocalAdapter`` is one)."""


@runtime_checkable
class EngineAware(Protocol):
    """An adapter factory that also serves the engine (a cluster that forwards sessions): ``SocketIo``
    hands it its ``EngineServer`` once, when it is built."""

    def attach_engine(self, engine: EngineServer) -> None:
        """Take part in *engine*'s requests (e.g. become its ``SessionLocator``)."""


class LocalAdapter:
    """The in-process adapter: one node, state in the namespace's room registry actor."""

    __slots__ = ("_ns",)

    def __init__(self, ns: Namespace) -> None:
        self._ns = ns

    async def start(self, task_group: TaskGroup) -> None:
        """Nothing to join."""

    async def close(self) -> None:
        """Nothing to leave."""

    def local_sockets(self, opts: BroadcastOptions) -> list[Socket]:
        """The selected sockets, in the order they joined, from the registry's state as of its last message
        (joins still queued are not seen; ``fetch_sockets`` asks and sees them).
        """
        return self._ns.resolve(self._ns.snapshot_select(opts.rooms, opts.except_rooms, opts.except_sids))

    async def _select(self, opts: BroadcastOptions) -> list[Socket]:
        # No hop when the registry has nothing queued: its state then already holds every earlier join.
        now = self._ns.select_now(opts.rooms, opts.except_rooms, opts.except_sids)
        if now is not None:
            return self._ns.resolve(now)
        sids: list[str] = await self._ns.ask_rooms(
            lambda reply: Select(
                rooms=opts.rooms, except_rooms=opts.except_rooms, except_sids=opts.except_sids, reply=reply
            )
        )
        return self._ns.resolve(sids)

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """See ``Adapter.broadcast``."""
        targets = await self._select(opts)
        if self._ns.outgoing_listened:
            notify_broadcast(targets, packet)
        encoded = _marked(self._ns.parser.encode(packet), opts)
        errors: dict[str, Exception] = {}
        for socket in targets:
            conn = socket.conn
            if opts.volatile:
                conn.send_volatile(encoded)
                continue
            try:
                conn.send(encoded)
            except SendError as exc:
                errors[socket.id] = exc
        self._trace(packet, opts, len(targets), len(errors))
        if errors:
            raise BroadcastError(errors)

    async def broadcast_with_ack(self, packet: Packet, opts: BroadcastOptions, stream: AckStream) -> None:
        """See ``Adapter.broadcast_with_ack``."""
        assert packet.id is not None, "broadcast_with_ack needs a packet with an ack id"
        targets = await self._select(opts)
        if self._ns.outgoing_listened:
            notify_broadcast(targets, packet)
        encoded = _marked(self._ns.parser.encode(packet), opts)
        errors: dict[str, Exception] = {}
        for socket in targets:
            stream.expect(socket.acks, packet.id)
            try:
                socket.conn.send(encoded)
            except SendError as exc:
                stream.abandon(socket.id)
                errors[socket.id] = exc
        self._trace(packet, opts, len(targets), len(errors))
        if errors:
            raise BroadcastError(errors)

    def _trace(self, packet: Packet, opts: BroadcastOptions, receivers: int, failed: int) -> None:
        io = self._ns.io
        if io.tracer is None:
            return
        event = packet.data[0] if isinstance(packet.data, list) and packet.data else None
        rooms = sorted(opts.rooms)
        target = ", ".join(rooms) if rooms else "every socket"
        io._trace(
            TraceKind.BROADCAST,
            f"namespace:{self._ns.path}",
            detail=f"to {target}: {receivers} sent, {failed} failed",
            fields={"event": event, "rooms": rooms, "receivers": receivers, "failed": failed},
        )

    async def add_sockets(self, opts: BroadcastOptions, rooms: Collection[str]) -> None:
        """See ``Adapter.add_sockets``."""
        joined = tuple(rooms)
        for socket in await self._select(opts):
            self._ns.rooms.tell(Join(sid=socket.id, rooms=joined))
            self._ns.io._trace_rooms(TraceKind.ROOM_JOIN, socket._name, joined)

    async def del_sockets(self, opts: BroadcastOptions, rooms: Collection[str]) -> None:
        """See ``Adapter.del_sockets``."""
        left = tuple(rooms)
        for socket in await self._select(opts):
            self._ns.rooms.tell(Leave(sid=socket.id, rooms=left))
            self._ns.io._trace_rooms(TraceKind.ROOM_LEAVE, socket._name, left)

    async def disconnect_sockets(self, opts: BroadcastOptions) -> None:
        """See ``Adapter.disconnect_sockets``."""
        for socket in await self._select(opts):
            socket.disconnect()

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[Socket | RemoteSocket]:
        """See ``Adapter.fetch_sockets``."""
        return list(await self._select(opts))

    async def select(self, opts: BroadcastOptions) -> list[Socket]:
        """The selected sockets of this node, after every join told before (``fetch_sockets``, typed)."""
        return await self._select(opts)

    def rooms_of(self, sid: str) -> list[str]:
        """The rooms of socket *sid* as of the room registry's last message."""
        return self._ns.snapshot_rooms_of(sid)

    async def server_side_emit(self, data: list[Any]) -> None:
        """No other node to tell."""

    async def server_side_emit_with_ack(self, data: list[Any], ack_timeout: float) -> list[Any]:
        """No other node to answer: no answers."""
        return []

    async def all_rooms(self) -> set[str]:
        """The rooms of this node, as of the room registry's last message."""
        return set(self._ns.snapshot_rooms())

    async def server_count(self) -> int:
        """This node alone."""
        return 1


async def start_late(ns: Namespace, task_group: TaskGroup) -> None:
    """Start the adapter of a namespace made while serving, in the background: until it has joined its
    cluster the namespace is local only, and if it cannot, that is logged and it stays so."""
    try:
        await ns.adapter.start(task_group)
    except Exception:
        logger.exception("%s: the adapter did not start", ns.path)


def join_worker_cluster(factory: AdapterFactory, namespaces: Iterable[Namespace]) -> AdapterFactory:
    """The factory to use from now on: in a worker of a multi-worker server, a server left on the default
    ``LocalAdapter`` joins the workers' cluster (its namespaces get the cluster adapter before they start);
    otherwise *factory*, the user's choice, unchanged."""
    cluster = worker_adapter_factory() if factory is LocalAdapter else None
    if cluster is None:
        return factory
    for ns in namespaces:
        ns.adapter = cluster(ns)
    return cluster  # type: ignore[no-any-return]


async def close_adapters(namespaces: Iterable[Namespace]) -> None:
    """Close each namespace's adapter; one that fails is logged and the others are still closed."""
    for ns in namespaces:
        try:
            await ns.adapter.close()
        except Exception as exc:
            logger.warning("%s: the adapter did not close cleanly: %s", ns.path, exc)


def _marked(encoded: str | bytes | tuple[str | bytes, ...], opts: BroadcastOptions) -> Outgoing:
    # Encoded once for every receiver; compress(False) marks it once too.
    return encoded if opts.compress else Uncompressed(encoded)
