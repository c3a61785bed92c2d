"""What a namespace's Redis adapter does with what the other nodes (and emitters) publish, and the
bookkeeping of its own requests awaiting answers, in either wire protocol (the ``Dialect`` decodes the
channels into the one message vocabulary of ``sioactor.protocol.cluster`` and publishes the answers).

Every request that wants an answer gets one, an empty one included (Node waits for one answer per node
and otherwise fails after its timeout): fetch, all rooms, socket ids, a server-side emit with acks, and
a broadcast with acks (its client count first, then each client's answer). Own requests come back from
Redis too; they are recognised by ``uid`` and skipped, joins, leaves and disconnects included (the adapter
applied those at once). Heartbeats of ``ClusterAdapterWithHeartbeat`` nodes are ignored: the sharded
adapter counts nodes with ``PUBSUB SHARDNUMSUB``, as Node's does.

Answers are queued with ``publish_soon`` (the subscriber must not wait on Redis, see ``_link.py``); work
that may take long (a user's server-side handler, forwarding clients' acks) runs in tasks of its own,
at most ``MAX_TASKS`` at a time: past it a request is dropped with a log line (its sender times out).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import anyio
from anyio.abc import TaskGroup

from sioactor._errors import AckError, BroadcastError, InternalChannelFull, RedisUnavailable
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.protocol.cluster import (
    AdapterClose,
    AllRooms,
    AllRoomsResponse,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    ClassicResponse,
    ClusterMessage,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    Heartbeat,
    InitialHeartbeat,
    LegacyCommandDone,
    LegacySocketCommand,
    Recipients,
    RequestType,
    ServerSideEmit,
    ServerSideEmitResponse,
    SocketDetails,
    SocketIds,
    SocketIdsResponse,
    SocketsJoin,
    SocketsLeave,
)
from sioactor.protocol.socketio import Packet, PacketType
from sioactor.runtime.cluster._dialect import Dialect, Subscriptions
from sioactor.runtime.cluster._link import ClusterBus
from sioactor.runtime.socketio import BroadcastOptions, LocalAdapter

if TYPE_CHECKING:
    from sioactor.runtime.socketio import AckStream, Socket
    from sioactor.runtime.socketio._namespace import Namespace

__all__ = ("ClusterServer", "Pending", "node_handshake")

logger = logging.getLogger("sioactor.cluster")

MAX_TASKS = 256
MAX_ACK_REQUESTS = 1000
_JS_DATE = "%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)"


class Pending:
    """One request of this node awaiting ``expected`` answers."""

    __slots__ = ("answers", "done", "expected")

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.answers: list[ClusterMessage] = []
        self.done = anyio.Event()

    def add(self, answer: ClusterMessage) -> None:
        """One more node answered."""
        self.answers.append(answer)
        if len(self.answers) >= self.expected:
            self.done.set()


def options(wire: Recipients) -> BroadcastOptions:
    """The ``BroadcastOptions`` of Node's ``opts`` (unknown flags ignored)."""
    return BroadcastOptions(
        rooms=frozenset(wire.rooms),
        except_rooms=frozenset(wire.except_rooms),
        volatile=wire.flags.get("volatile") is True,
    )


def node_handshake(socket: Socket) -> dict[str, Any]:
    """The socket's handshake in Node's shape (what Node's fetch answers and admin UI read).

    The socket's own ``handshake`` when it has one; otherwise built from the request (``time`` and
    ``issued`` are then the time of the answer, not of the connection).
    """
    own = getattr(socket, "handshake", None)
    if isinstance(own, Mapping):
        return dict(own)
    request = socket.request
    headers: dict[str, str] = {}
    for name, value in request.headers:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    query = dict(request.query)
    now = time.time()
    return {
        "headers": headers,
        "time": time.strftime(_JS_DATE, time.gmtime(now)),
        "address": request.remote_address[0] if request.remote_address else "",
        "xdomain": "origin" in headers,
        "secure": False,
        "issued": int(now * 1000),
        "url": f"{request.path}?{urlencode(query)}" if query else request.path,
        "query": query,
        "auth": socket.auth if isinstance(socket.auth, dict) else {},
    }


_HEARTBEATS = InitialHeartbeat | Heartbeat | AdapterClose


class ClusterServer:
    """Serves one namespace's channels for its Redis adapter and tracks the adapter's open requests."""

    def __init__(
        self, ns: Namespace, local: LocalAdapter, bus: ClusterBus, dialect: Dialect, uid: str
    ) -> None:
        self.task_group: TaskGroup | None = None
        self._ns = ns
        self._local = local
        self._bus = bus
        self._dialect = dialect
        self._uid = uid
        self._requests: dict[str, Pending] = {}
        self._acks: dict[str, AckStream] = {}
        self._ack_deadlines: deque[tuple[float, str]] = deque()
        self._tasks = 0

    def subscriptions(self) -> Subscriptions:
        """The channels and patterns of the namespace, with their handlers (CLUSTER-NOTES §0.1, §1.5)."""
        return self._dialect.subscriptions(self._uid, self.receive)

    # --- this node's requests -----------------------------------------------------------------------------

    def track(self, pending: Pending) -> str:
        """Register *pending* under a fresh request id, which it returns."""
        request_id = self._dialect.new_id()
        self._requests[request_id] = pending
        return request_id

    def forget(self, request_id: str) -> None:
        """The request is over (answered or timed out)."""
        self._requests.pop(request_id, None)

    def pending_count(self) -> int:
        """How many requests await answers."""
        return len(self._requests)

    def track_acks(self, stream: AckStream) -> str:
        """Route the other nodes' answers to a broadcast with acks into *stream*, until its timeout."""
        now = anyio.current_time()
        deadlines = self._ack_deadlines
        while deadlines and (deadlines[0][0] < now or len(deadlines) >= MAX_ACK_REQUESTS):
            self._acks.pop(deadlines.popleft()[1], None)
        request_id = self._dialect.new_id()
        self._acks[request_id] = stream
        deadlines.append((now + stream.timeout, request_id))
        return request_id

    # --- messages from the cluster ------------------------------------------------------------------------

    async def receive(self, message: ClusterMessage) -> None:
        """One message from a namespace's channel: an answer to route, a broadcast to deliver, a request to
        serve; this node's own and another namespace's are skipped."""
        if message.nsp != self._ns.path:
            return
        if isinstance(message, ClassicResponse):
            self._take_answer(message)
        elif getattr(message, "uid", None) == self._uid or isinstance(message, _HEARTBEATS):
            return
        elif isinstance(message, Broadcast) and message.request_id is None:
            await self._deliver(message)
        else:
            await self._serve(message)

    async def _deliver(self, message: Broadcast) -> None:
        packet = Packet(type=PacketType.EVENT, nsp=self._ns.path, data=message.data)
        try:
            await self._local.broadcast(packet, options(message.recipients))
        except BroadcastError as exc:
            logger.debug("%s: a cluster broadcast missed %d socket(s)", self._ns.path, len(exc.errors))

    def _take_answer(self, answer: ClusterMessage) -> None:
        # An answer to one of this node's requests, or to another node's (the classic shared channel).
        if isinstance(answer, BroadcastClientCount | BroadcastAck):
            stream = self._acks.get(answer.request_id)
            if stream is None:
                return
            if isinstance(answer, BroadcastClientCount):
                stream.node_count(answer.client_count)
            else:
                stream.resolve_remote(answer.data)
            return
        pending = self._requests.get(getattr(answer, "request_id", ""))
        if pending is not None:
            pending.add(answer)

    async def _serve(self, request: ClusterMessage) -> None:
        # Apply *request* here, and answer it when it wants an answer (to its sender, request.uid).
        local, nsp, uid = self._local, self._ns.path, self._uid
        match request:
            case SocketsJoin():
                await local.add_sockets(options(request.recipients), request.rooms)
            case SocketsLeave():
                await local.del_sockets(options(request.recipients), request.rooms)
            case DisconnectSockets():
                for socket in await local.select(options(request.recipients)):
                    _disconnect(socket, request.close)
            case FetchSockets():
                sockets = await local.select(options(request.recipients))
                self._answer_fetch(request, sockets)
            case AllRooms():
                rooms = tuple(await local.all_rooms())
                self._answer(
                    AllRoomsResponse(nsp=nsp, request_id=request.request_id, rooms=rooms), request.uid
                )
            case SocketIds():
                sockets = await local.select(BroadcastOptions(rooms=frozenset(request.rooms)))
                ids = tuple(s.id for s in sockets)
                self._answer(
                    SocketIdsResponse(nsp=nsp, request_id=request.request_id, sockets=ids), request.uid
                )
            case LegacySocketCommand():
                self._legacy(request)
            case ServerSideEmit():
                self._spawn(self._server_side, request)
            case Broadcast():
                await self._broadcast_with_ack(request)
            case _:
                logger.debug("%s: %s ignored (uid %s)", nsp, type(request).__name__, uid)

    # --- answers ------------------------------------------------------------------------------------------

    def _answer(self, answer: ClusterMessage, requester: str | None) -> None:
        try:
            self._dialect.answer(self._bus, answer, requester)
        except TypeError as exc:
            logger.warning("%s: an answer could not be encoded: %s", self._ns.path, exc)
        except (RedisUnavailable, InternalChannelFull) as exc:
            logger.warning("%s: an answer was not sent: %s", self._ns.path, exc)

    def _answer_fetch(self, request: FetchSockets, sockets: list[Socket]) -> None:
        nsp, uid, request_id = self._ns.path, self._uid, request.request_id
        details = tuple(self._details(s) for s in sockets)
        answer = FetchSocketsResponse(uid=uid, nsp=nsp, request_id=request_id, sockets=details)
        try:
            self._dialect.answer(self._bus, answer, request.uid)
        except TypeError as exc:  # some socket's data cannot be encoded: answer without the data
            logger.warning("%s: socket data left out of a fetch answer: %s", nsp, exc)
            plain = tuple(
                SocketDetails(id=d.id, handshake=d.handshake, rooms=d.rooms, data={}) for d in details
            )
            answer = FetchSocketsResponse(uid=uid, nsp=nsp, request_id=request_id, sockets=plain)
            self._answer(answer, request.uid)
        except (RedisUnavailable, InternalChannelFull) as exc:
            logger.warning("%s: an answer was not sent: %s", nsp, exc)

    def _details(self, socket: Socket) -> SocketDetails:
        data = socket.data
        return SocketDetails(
            id=socket.id,
            handshake=node_handshake(socket),
            rooms=tuple(self._local.rooms_of(socket.id)),
            data={} if data is None else data,
        )

    def _legacy(self, request: LegacySocketCommand) -> None:
        socket = self._ns.sockets().get(request.sid)
        if socket is None or not socket.connected:
            return  # only the owner answers
        if request.kind == RequestType.REMOTE_JOIN and request.room is not None:
            socket.join(request.room)
        elif request.kind == RequestType.REMOTE_LEAVE and request.room is not None:
            socket.leave(request.room)
        elif request.kind == RequestType.REMOTE_DISCONNECT:
            _disconnect(socket, request.close)
        self._answer(LegacyCommandDone(nsp=self._ns.path, request_id=request.request_id), request.uid)

    async def _server_side(self, request: ServerSideEmit) -> None:
        try:
            answer = await self._ns.server_side_event(request.data)
        except Exception:
            logger.exception("%s: server-side handler of %r failed", self._ns.path, request.data[0])
            answer = None
        if request.request_id is not None:
            nsp, uid, request_id = self._ns.path, self._uid, request.request_id
            answered = ServerSideEmitResponse(uid=uid, nsp=nsp, request_id=request_id, data=answer)
            self._answer(answered, request.uid)

    async def _broadcast_with_ack(self, request: Broadcast) -> None:
        assert request.request_id is not None
        timeout = request.recipients.flags.get("timeout")
        seconds = None
        if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0:
            seconds = timeout / 1000
        stream = self._ns.ack_stream(seconds, None)
        packet = Packet(
            type=PacketType.EVENT, nsp=self._ns.path, data=request.data, id=self._ns.next_ack_id()
        )
        with contextlib.suppress(BroadcastError):  # the stream awaits only the sockets reached
            await self._local.broadcast_with_ack(packet, options(request.recipients), stream)
        count = len(stream)
        nsp, uid, request_id = self._ns.path, self._uid, request.request_id
        counted = BroadcastClientCount(uid=uid, nsp=nsp, request_id=request_id, client_count=count)
        self._answer(counted, request.uid)
        if count:
            self._spawn(self._forward_acks, request, stream)

    async def _forward_acks(self, request: Broadcast, stream: AckStream) -> None:
        nsp, uid, request_id = self._ns.path, self._uid, request.request_id
        assert request_id is not None
        async for _sid, result in stream:
            if isinstance(result, AckError):
                continue
            value = result[0] if isinstance(result, tuple) and result else result
            self._answer(BroadcastAck(uid=uid, nsp=nsp, request_id=request_id, data=value), request.uid)

    def _spawn(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        tg = self.task_group
        if tg is None or self._tasks >= MAX_TASKS:
            logger.warning("%s: too busy; a cluster request was dropped", self._ns.path)
            return
        self._tasks += 1

        async def run() -> None:
            try:
                await fn(*args)
            finally:
                self._tasks -= 1

        tg.start_soon(run)


def _disconnect(socket: Socket, close: bool) -> None:
    socket.disconnect()
    if close:
        socket.conn.close(EngineCloseReason.FORCED_CLOSE)
