"""``RedisAdapter``: a namespace's adapter in a cluster of Socket.IO servers (Node or sioactor) that share a
Redis through ``@socket.io/redis-adapter`` 8.x's classic protocol; ``BaseRedisAdapter``, what it shares
with the sharded adapter (``_sharded.py``), which differs only in its ``Dialect`` (``_dialect.py``).

Each operation runs on this node's ``LocalAdapter`` and, unless ``local``, is published for the others
(the classic protocol's messages shown; the sharded one sends the same on its own channels):

    broadcast            msgpack [uid, packet, opts] on P#N# (or P#N#<room>#)          no answer
    add/del/disconnect   JSON request on P-request#N#, applied here at once             no answer
    fetch_sockets        JSON request; NUMSUB - 1 answers awaited                       requests_timeout
    all_rooms            JSON request; idem (sharded: a fetch, whose answers list rooms) requests_timeout
    server_side_emit     JSON request; with acks, NUMSUB - 1 answers                     the caller's timeout
    broadcast_with_ack   msgpack request; each node answers its client count, then    the ack timeout
                         one message per client ack, which the AckStream counts

Everything goes out through the bus's one ordered queue (``publish_soon``), as Node's commands go out on
one connection in order: a join published before a broadcast or a fetch reaches the other nodes before
it. Nothing waits for Redis to take a message; a lost connection is known at once (``RedisUnavailable``).

What the other nodes publish is served by ``ClusterServer`` (``_serve.py``). Node applies its own joins,
leaves and disconnects when their echo comes back from Redis; this adapter applies them at once and
ignores its own echo (CLUSTER-NOTES §9.2 allows either), so they work at once on this node even while
Redis is away. A cluster operation while Redis is away fails at once with ``RedisUnavailable``, after the
local part was done.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, final

import anyio
from anyio.abc import TaskGroup

from sioactor._errors import ClusterTimeout, InternalChannelFull, RedisUnavailable
from sioactor.protocol.cluster import (
    DEFAULT_PREFIX,
    AllRooms,
    AllRoomsResponse,
    Broadcast,
    ClusterMessage,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    Recipients,
    ServerSideEmit,
    ServerSideEmitResponse,
    SocketsJoin,
    SocketsLeave,
)
from sioactor.protocol.socketio import Packet
from sioactor.runtime.cluster._dialect import ClassicDialect, Dialect
from sioactor.runtime.cluster._forward import SessionForwarder
from sioactor.runtime.cluster._link import ClusterBus, RedisLink
from sioactor.runtime.cluster._serve import ClusterServer, Pending
from sioactor.runtime.socketio import BroadcastOptions, LocalAdapter
from sioactor.runtime.socketio._remote import RemoteSocket

if TYPE_CHECKING:
    from sioactor.runtime.engineio import EngineServer
    from sioactor.runtime.socketio import AckStream, Socket
    from sioactor.runtime.socketio._namespace import Namespace

__all__ = ("BaseRedisAdapter", "RedisAdapter", "RedisAdapterFactory")

DEFAULT_REQUESTS_TIMEOUT = 5.0
MAX_PENDING_REQUESTS = 1000


def recipients(opts: BroadcastOptions, flags: dict[str, Any] | None = None) -> Recipients:
    """Node's ``opts`` for *opts*: the socket ids left out are rooms left out (a socket id is a room)."""
    wire_flags = {} if flags is None else dict(flags)
    if opts.volatile:
        wire_flags["volatile"] = True
    return Recipients(
        rooms=tuple(sorted(opts.rooms)),
        except_rooms=tuple(sorted(opts.except_rooms | opts.except_sids)),
        flags=wire_flags,
    )


@final
class RedisAdapterFactory:
    """What ``SocketIo(adapter=...)`` takes: builds each namespace's ``RedisAdapter`` on one shared link.

    Made by ``RedisAdapter.from_url``.
    """

    __slots__ = ("bus", "forwarder", "key", "requests_timeout")

    def __init__(
        self, bus: ClusterBus, *, key: str, requests_timeout: float, forward_sessions: bool = False
    ) -> None:
        self.bus = bus
        self.key = key
        self.requests_timeout = requests_timeout
        self.forwarder = SessionForwarder(bus, key=key) if forward_sessions else None

    def __call__(self, ns: Namespace) -> RedisAdapter:
        return RedisAdapter(
            ns, self.bus, key=self.key, requests_timeout=self.requests_timeout, forwarder=self.forwarder
        )

    def attach_engine(self, engine: EngineServer) -> None:
        """``SocketIo``'s call (``EngineAware``): with ``forward_sessions``, become the engine's locator."""
        if self.forwarder is not None:
            self.forwarder.attach(engine)


class BaseRedisAdapter:
    """What the classic and the sharded Redis adapters share: everything but their ``Dialect`` (and the
    way ``all_rooms`` asks, which only the classic protocol has a request for)."""

    __slots__ = (
        "_bus",
        "_dialect",
        "_forwarder",
        "_ns",
        "_server",
        "_started",
        "local",
        "requests_timeout",
        "uid",
    )

    def __init__(
        self,
        ns: Namespace,
        bus: ClusterBus,
        dialect: Dialect,
        *,
        requests_timeout: float,
        forwarder: SessionForwarder | None = None,
    ) -> None:
        self._ns = ns
        self._bus = bus
        self._dialect = dialect
        self._forwarder = forwarder
        self.local = LocalAdapter(ns)
        self.uid = dialect.new_id()
        self.requests_timeout = requests_timeout
        self._server = ClusterServer(ns, self.local, bus, dialect, self.uid)
        self._started = False

    # --- life cycle ---------------------------------------------------------------------------------------

    async def start(self, task_group: TaskGroup) -> None:
        """Connect (the first namespace) and subscribe to this namespace's channels."""
        if self._started:
            return
        self._started = True
        bus = self._bus
        if isinstance(bus, RedisLink) and bus.tracer is None:
            bus.tracer = self._ns.io.tracer
        try:
            await bus.start(task_group)
        except BaseException:
            self._started = False
            raise
        self._server.task_group = task_group
        try:
            await bus.subscribe(*self._server.subscriptions())
            if self._forwarder is not None:
                await self._forwarder.start(task_group)
        except BaseException:
            self._started = False
            with anyio.CancelScope(shield=True):
                await bus.close()
            raise
        if isinstance(bus, RedisLink):  # what the trace's figures read
            if bus.members_channel is None:
                bus.members_channel = self._dialect.members_channel
            bus.pending_counts.append(self._server.pending_count)

    async def close(self) -> None:
        """Unsubscribe; the last namespace closes the connection."""
        if not self._started:
            return
        self._started = False
        if isinstance(self._bus, RedisLink) and self._server.pending_count in self._bus.pending_counts:
            self._bus.pending_counts.remove(self._server.pending_count)
        channels, patterns = self._server.subscriptions()
        try:
            if self._forwarder is not None:
                await self._forwarder.close()
            await self._bus.unsubscribe(list(channels), list(patterns))
        finally:
            await self._bus.close()

    # --- broadcasts ---------------------------------------------------------------------------------------

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """See ``Adapter.broadcast``; ``RedisUnavailable`` is raised after the local delivery."""
        if opts.local:
            await self.local.broadcast(packet, opts)
            return
        wire = recipients(opts)
        lost = self._try(Broadcast(uid=self.uid, nsp=self._ns.path, data=packet.data, recipients=wire))
        await self.local.broadcast(packet, opts)
        if lost is not None:
            raise lost

    async def broadcast_with_ack(self, packet: Packet, opts: BroadcastOptions, stream: AckStream) -> None:
        """See ``Adapter.broadcast_with_ack``: *stream* also awaits every other node's clients."""
        if opts.local:
            await self.local.broadcast_with_ack(packet, opts, stream)
            return
        lost: RedisUnavailable | None = None
        try:
            nodes = await self._bus.count_subscribers(self._dialect.members_channel) - 1
        except RedisUnavailable as exc:
            nodes, lost = 0, exc
        if lost is None:
            request_id = self._server.track_acks(stream)
            stream.expect_nodes(max(nodes, 0))
            wire = recipients(opts, {"timeout": round(stream.timeout * 1000)})
            message = Broadcast(
                uid=self.uid, nsp=self._ns.path, data=packet.data, recipients=wire, request_id=request_id
            )
            lost = self._try(message)
            if lost is not None:
                stream.drop_remote()
        await self.local.broadcast_with_ack(packet, opts, stream)
        if lost is not None:
            raise lost

    # --- room operations ----------------------------------------------------------------------------------

    async def add_sockets(self, opts: BroadcastOptions, rooms: Collection[str]) -> None:
        """See ``Adapter.add_sockets``."""
        message = SocketsJoin(
            uid=self.uid, nsp=self._ns.path, recipients=recipients(opts), rooms=tuple(rooms)
        )
        await self._everywhere(opts, message, lambda: self.local.add_sockets(opts, rooms))

    async def del_sockets(self, opts: BroadcastOptions, rooms: Collection[str]) -> None:
        """See ``Adapter.del_sockets``."""
        message = SocketsLeave(
            uid=self.uid, nsp=self._ns.path, recipients=recipients(opts), rooms=tuple(rooms)
        )
        await self._everywhere(opts, message, lambda: self.local.del_sockets(opts, rooms))

    async def disconnect_sockets(self, opts: BroadcastOptions) -> None:
        """See ``Adapter.disconnect_sockets``."""
        message = DisconnectSockets(uid=self.uid, nsp=self._ns.path, recipients=recipients(opts))
        await self._everywhere(opts, message, lambda: self.local.disconnect_sockets(opts))

    async def _everywhere(
        self, opts: BroadcastOptions, message: ClusterMessage, here: Callable[[], Any]
    ) -> None:
        lost = None if opts.local else self._try(message)
        await here()
        if lost is not None:
            raise lost

    def _try(self, message: ClusterMessage) -> RedisUnavailable | None:
        # Publish *message*; Redis being away is returned, so that the local part still runs.
        try:
            self._dialect.publish(self._bus, message)
        except RedisUnavailable as exc:
            return exc
        return None

    # --- requests -----------------------------------------------------------------------------------------

    def local_sockets(self, opts: BroadcastOptions) -> list[Socket]:
        """See ``Adapter.local_sockets``."""
        return self.local.local_sockets(opts)

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[Socket | RemoteSocket]:
        """See ``Adapter.fetch_sockets``.

        Raises:
            ClusterTimeout: some nodes did not answer within ``requests_timeout``.
            RedisUnavailable: Redis is away.
        """
        if opts.local:
            return await self.local.fetch_sockets(opts)
        wire = recipients(opts)

        def ask(request_id: str) -> FetchSockets:
            return FetchSockets(uid=self.uid, nsp=self._ns.path, request_id=request_id, recipients=wire)

        def remote(answers: list[Any]) -> list[RemoteSocket]:
            return [
                RemoteSocket(self._ns, sid=s.id, handshake=s.handshake, rooms=frozenset(s.rooms), data=s.data)
                for answer in answers
                if isinstance(answer, FetchSocketsResponse)
                for s in answer.sockets
            ]

        answers = await self._ask("fetch_sockets", ask, self.requests_timeout, remote)
        return [*await self.local.select(opts), *remote(answers)]

    async def server_side_emit(self, data: list[Any]) -> None:
        """See ``Adapter.server_side_emit``."""
        self._dialect.publish(self._bus, ServerSideEmit(uid=self.uid, nsp=self._ns.path, data=data))

    async def server_side_emit_with_ack(self, data: list[Any], ack_timeout: float) -> list[Any]:
        """See ``Adapter.server_side_emit_with_ack``."""

        def ask(request_id: str) -> ServerSideEmit:
            return ServerSideEmit(uid=self.uid, nsp=self._ns.path, data=data, request_id=request_id)

        def values(answers: list[Any]) -> list[Any]:
            return [a.data for a in answers if isinstance(a, ServerSideEmitResponse)]

        return values(await self._ask("server_side_emit", ask, ack_timeout, values))

    async def server_count(self) -> int:
        """See ``Adapter.server_count``: the subscribers of the members' channel, as Node counts."""
        return max(await self._bus.count_subscribers(self._dialect.members_channel), 1)

    async def _ask(
        self,
        operation: str,
        make: Callable[[str], ClusterMessage],
        wait: float,
        partial: Callable[[list[Any]], Any],
    ) -> list[Any]:
        # Node's way: count the subscribers (this node included), publish, await one answer from each other;
        # on a timeout, the error carries *partial* of the answers that came.
        expected = await self._bus.count_subscribers(self._dialect.members_channel) - 1
        if expected <= 0:
            return []
        if self._server.pending_count() >= MAX_PENDING_REQUESTS:
            raise InternalChannelFull(f"adapter:{self._ns.path}", operation)
        pending = Pending(expected)
        request_id = self._server.track(pending)
        try:
            self._dialect.publish(self._bus, make(request_id))
            with anyio.move_on_after(wait):
                await pending.done.wait()
            if len(pending.answers) < expected:
                raise ClusterTimeout(
                    operation,
                    timeout=wait,
                    expected=expected,
                    received=len(pending.answers),
                    responses=partial(list(pending.answers)),
                )
            return pending.answers
        finally:
            self._server.forget(request_id)


@final
class RedisAdapter(BaseRedisAdapter):
    """The adapter of one namespace in a Redis cluster (classic protocol of ``@socket.io/redis-adapter``).

        io = SocketIo(adapter=RedisAdapter.from_url("redis://localhost:6379"))

    Every namespace of the server shares one Redis subscriber connection (so Node counts this process once)
    and has its own cluster id (``uid``). Delivery is Redis pub/sub's: at most once, to the nodes connected
    at that moment; a node that was away misses what was published meanwhile.
    """

    __slots__ = ("channels",)

    def __init__(
        self,
        ns: Namespace,
        bus: ClusterBus,
        *,
        key: str = DEFAULT_PREFIX,
        requests_timeout: float = DEFAULT_REQUESTS_TIMEOUT,
        forwarder: SessionForwarder | None = None,
    ) -> None:
        dialect = ClassicDialect(ns.path, key)
        super().__init__(ns, bus, dialect, requests_timeout=requests_timeout, forwarder=forwarder)
        self.channels = dialect.channels

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key: str = DEFAULT_PREFIX,
        requests_timeout: float = DEFAULT_REQUESTS_TIMEOUT,
        connect_timeout: float = 5.0,
        forward_sessions: bool = False,
    ) -> RedisAdapterFactory:
        """The adapter factory of a cluster on the Redis at *url* (``redis://``, ``rediss://``, ``unix://``).

        Args:
            key: the cluster's key prefix (Node's ``key`` option); every node of the cluster uses the same.
            requests_timeout: seconds ``fetch_sockets`` and ``all_rooms`` wait for the other nodes.
            connect_timeout: seconds to connect to Redis, and for each command.
            forward_sessions: any node takes any request of any session, with no sticky sessions (off by
                default): a request naming a session this node does not know is served by the node that
                owns it, through Redis (``uvicorn --workers N``, or servers behind a round-robin balancer;
                every node of the cluster must be a sioactor server with this on). A node waits up to 1 s
                for the owner before answering "Session ID unknown". Each ``SocketIo`` needs a factory of
                its own then.

        Starting the server raises ``RedisUnavailable`` (naming *url*) when Redis cannot be reached then.
        """
        link = RedisLink(url, timeout=connect_timeout)
        return RedisAdapterFactory(
            link, key=key, requests_timeout=requests_timeout, forward_sessions=forward_sessions
        )

    async def all_rooms(self) -> set[str]:
        """See ``Adapter.all_rooms``."""

        def ask(request_id: str) -> AllRooms:
            return AllRooms(uid=self.uid, nsp=self._ns.path, request_id=request_id)

        def remote(answers: list[Any]) -> set[str]:
            return {room for a in answers if isinstance(a, AllRoomsResponse) for room in a.rooms}

        answers = await self._ask("all_rooms", ask, self.requests_timeout, remote)
        return await self.local.all_rooms() | remote(answers)
