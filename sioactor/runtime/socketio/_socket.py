"""The ``Socket`` handle: one client in one namespace, as handlers see it.

Behind it is the socket actor (``SocketActor``, a core ``LazyActor``) holding the socket's inbound facts
(``Connect``, then ``EventReceived``s, then a final ``Disconnect``), handled in arrival order by the methods
at the bottom. Room changes are tells to the namespace's room registry actor; ``rooms()`` asks it.
Emitting never goes through that mailbox: ``emit`` encodes once and puts the result straight into the
engine session's bounded outbox (``EngineConnection.send``), which *is* the socket's send buffer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, final, overload

from sioactor.actors._engine_api import EngineConnection, RequestInfo
from sioactor.actors._errors import Closed, InternalChannelFull
from sioactor.actors._ref import ActorRef
from sioactor.actors._trace import TraceKind
from sioactor.actors.socketio import (
    AckTable,
    Connect,
    Disconnect,
    EventReceived,
    Join,
    Leave,
    RoomsOf,
    SocketMessage,
)
from sioactor.protocol._reasons import DisconnectReason
from sioactor.protocol.socketio import Packet, PacketType
from sioactor.runtime.socketio._ack import NO_ACK, NO_DATA, AckSender, AckStream, to_args
from sioactor.runtime.socketio._adapter import BroadcastOptions
from sioactor.runtime.socketio._errors import AckClosed
from sioactor.runtime.socketio._extract import ProtocolVersion, TransportType
from sioactor.runtime.socketio._handler import CallContext, CompiledHandler, register_context_type
from sioactor.runtime.socketio._operators import BroadcastOperators, Rooms, SocketEmitter, room_list
from sioactor.runtime.socketio._socket_actor import SocketActor

if TYPE_CHECKING:
    from sioactor.runtime.socketio._client import Client
    from sioactor.runtime.socketio._namespace import Namespace

__all__ = ("Handler", "Socket")

logger = logging.getLogger("sioactor.socketio")

Handler = Callable[..., Awaitable[Any]]

_TRANSPORTS: dict[str, TransportType] = {t.value: t for t in TransportType}  # a dict beats calling the enum


@final
class Socket:
    """One client connected to one namespace. Given to handlers; never constructed by user code.

    Attributes:
        id: the socket id, 20 URL-safe characters (distinct from the Engine.IO session id).
        extensions: per-socket data for the application, alive as long as the socket.
        auth: the CONNECT payload (``None`` when the client sent none).
    """

    __slots__ = (
        "_accepted",
        "_actor",
        "_client",
        "_closing",
        "_ctx",
        "_fallback",
        "_handlers",
        "_name",
        "_ns",
        "_on_disconnect",
        "_ref",
        "acks",
        "auth",
        "conn",
        "extensions",
        "id",
    )

    def __init__(self, client: Client, ns: Namespace, sid: str) -> None:
        self.id = sid
        self.conn: EngineConnection = client.conn
        self.acks = AckTable(sid)
        self.auth: Any = None
        self.extensions: dict[Any, Any] = {}
        self._client = client
        self._ns = ns
        self._name = f"socket:{ns.path}:{sid}"
        self._handlers: dict[str, tuple[CompiledHandler, bool]] = {}
        self._fallback: tuple[CompiledHandler, bool] | None = None
        self._on_disconnect: CompiledHandler | None = None
        self._accepted = False
        self._closing = False
        self._ctx: CallContext | None = None  # reused by the event handlers run in order (see _on_event)
        self._actor = SocketActor(self, mailbox_size=ns.io.config.inbox_size)
        self._ref: ActorRef[SocketMessage] = ns.io.supervisor.spawn_soon(self._actor)

    def __repr__(self) -> str:
        return f"<Socket {self.id} ns={self._ns.path!r} connected={self.connected}>"

    # --- identity and request info ----------------------------------------------------------------------

    @property
    def ns(self) -> str:
        """The namespace path (for a dynamic namespace, the concrete one, e.g. ``/tenant/7``)."""
        return self._ns.path

    @property
    def ns_params(self) -> Mapping[str, str]:
        """The parameters of a dynamic namespace (``{"id": "7"}`` for ``/tenant/{id}``); empty otherwise."""
        return self._ns.params

    @property
    def connected(self) -> bool:
        """True once the connect middlewares accepted the socket, until it disconnects."""
        return self._accepted and not self._closing

    @property
    def request(self) -> RequestInfo:
        """The HTTP request that opened the connection."""
        return self.conn.request

    @property
    def query(self) -> Mapping[str, str]:
        """The handshake request's query parameters."""
        return self.conn.request.query

    @property
    def headers(self) -> Sequence[tuple[str, str]]:
        """The handshake request's headers (names lower-cased)."""
        return self.conn.request.headers

    @property
    def remote_address(self) -> tuple[str, int] | None:
        """The client's ``(host, port)``, when known."""
        return self.conn.request.remote_address

    @property
    def transport_type(self) -> TransportType:
        """The Engine.IO transport in use now."""
        return TransportType(self.conn.transport)

    @property
    def protocol(self) -> ProtocolVersion:
        """The Socket.IO protocol revision: 5 (Engine.IO v4 clients), 4 (Engine.IO v3 clients)."""
        return ProtocolVersion.V5 if self.conn.protocol == 4 else ProtocolVersion.V4

    # --- handlers ---------------------------------------------------------------------------------------

    @overload
    def on(self, event: str, handler: Handler, *, concurrent: bool = False) -> None: ...
    @overload
    def on(
        self, event: str, handler: None = None, *, concurrent: bool = False
    ) -> Callable[[Handler], Handler]: ...

    def on(
        self, event: str, handler: Handler | None = None, *, concurrent: bool = False
    ) -> Callable[[Handler], Handler] | None:
        """Handle *event* with *handler* (or use as ``@socket.on("event")``). Events of one socket are
        handled one at a time in arrival order; ``concurrent=True`` lets this handler run beside others.

        A handler whose body never awaits runs at once in the task that delivered the event when the socket
        has nothing else to do (no task switch, as in Node); one that awaits runs in the socket's own task.

        Raises:
            HandlerSignatureError: a parameter of *handler* has no extractor this handler kind understands.
        """

        if handler is not None:  # the direct call, registering per connection: no decorator closure
            self._handlers[event] = self._ns.io.event_handler(handler, concurrent)
            return None

        def register(fn: Handler) -> Handler:
            self._handlers[event] = self._ns.io.event_handler(fn, concurrent)
            return fn

        return register

    def on_fallback(self, handler: Handler, *, concurrent: bool = False) -> None:
        """Handle every event that has no handler of its own (the last registered fallback wins)."""
        self._fallback = self._ns.io.event_handler(handler, concurrent)

    def on_disconnect(self, handler: Handler) -> None:
        """Call *handler* when the socket disconnects, for whatever reason (``DisconnectReason`` extractor).
        Its rooms are still readable inside; they are cleaned after it returns.
        """
        self._on_disconnect = self._ns.io.compile(handler, "disconnect")

    # --- emitting ---------------------------------------------------------------------------------------

    def emit(self, event: str, data: Any = NO_DATA, *, volatile: bool = False) -> None:
        """Send *event* to this client; never waits. A tuple *data* is several arguments, anything else one,
        none when omitted; ``bytes`` anywhere travel as binary.

        Raises:
            InternalChannelFull: the connection's outbox is full (``data`` handed back on ``.message``).
            Closed: the socket is disconnected (``data`` handed back).
            TypeError: *data* holds something the parser cannot encode.
        """
        if not self.connected:
            raise Closed(self._name, data)
        encoded = self._ns.parser.encode_event(self._ns.path, event, to_args(data), None)
        if volatile:
            self.conn.send_volatile(encoded)
            return
        try:
            self.conn.send(encoded)
        except InternalChannelFull:
            raise InternalChannelFull(self._name, data) from None
        except Closed:
            raise Closed(self._name, data) from None

    def emit_with_ack(
        self,
        event: str,
        data: Any = NO_DATA,
        *,
        timeout: float | None = None,
        convert: Callable[[Any], Any] | None = None,
    ) -> AckStream:
        """Send *event* asking for an acknowledgement; ``await`` the returned stream for the answer.

        Args:
            timeout: seconds to wait for the answer (default: the server's ``ack_timeout``).
            convert: applied to the answer; an exception in it yields ``AckDecodeError``.

        Raises:
            InternalChannelFull, Closed: as ``emit``; nothing is awaited then.
        """
        if not self.connected:
            raise Closed(self._name, data)
        ack_id = self._ns.next_ack_id()
        encoded = self._ns.parser.encode_event(self._ns.path, event, to_args(data), ack_id)
        stream = self._ns.ack_stream(timeout, convert)
        stream.expect(self.acks, ack_id)
        try:
            self.conn.send(encoded)
        except InternalChannelFull:
            stream.abandon(self.id)
            raise InternalChannelFull(self._name, data) from None
        except Closed:
            stream.abandon(self.id)
            raise Closed(self._name, data) from None
        return stream

    # --- rooms and operators ----------------------------------------------------------------------------

    def join(self, rooms: Rooms) -> None:
        """Join *rooms* (a name or several): a message to the namespace's room registry, so any broadcast
        started after this call sees the join. Ignored once the socket is disconnecting.

        Raises:
            InternalChannelFull: the room registry's mailbox is full (the message is attached).
        """
        if self._closing:
            return
        joined = room_list(rooms)
        self._ns.rooms.tell(Join(sid=self.id, rooms=joined))
        self._ns.io.trace_rooms(TraceKind.ROOM_JOIN, self._name, joined)

    def leave(self, rooms: Rooms) -> None:
        """Leave *rooms* (a message, as ``join``)."""
        left = room_list(rooms)
        self._ns.rooms.tell(Leave(sid=self.id, rooms=left))
        self._ns.io.trace_rooms(TraceKind.ROOM_LEAVE, self._name, left)

    def leave_all(self) -> None:
        """Leave every room (the socket's own-id room included, as socket.io does)."""
        self._ns.rooms.tell(Leave(sid=self.id, rooms=None))
        self._ns.io.trace_rooms(TraceKind.ROOM_LEAVE, self._name, None)

    async def rooms(self) -> list[str]:
        """The rooms this socket is in (its own id is one), after every join and leave it told before.
        Still readable inside the disconnect handler: the rooms are cleaned after it.
        """
        sid = self.id
        return await self._ns.ask_rooms(lambda reply: RoomsOf(sid=sid, reply=reply))

    def _ops(self, *, exclude_self: bool) -> BroadcastOperators:
        excluded = frozenset((self.id,)) if exclude_self else frozenset()
        return BroadcastOperators(self._ns, BroadcastOptions(except_sids=excluded))

    def to(self, rooms: Rooms) -> BroadcastOperators:
        """The sockets in *rooms*, this one excluded."""
        return self._ops(exclude_self=True).to(rooms)

    def within(self, rooms: Rooms) -> BroadcastOperators:
        """The sockets in *rooms*, this one included if it is in them."""
        return self._ops(exclude_self=False).to(rooms)

    def except_(self, rooms: Rooms) -> BroadcastOperators:
        """Every socket of the namespace but those in *rooms* and this one."""
        return self._ops(exclude_self=True).except_(rooms)

    def broadcast(self) -> BroadcastOperators:
        """Every socket of the namespace but this one."""
        return self._ops(exclude_self=True)

    def local(self) -> BroadcastOperators:
        """Every socket of the namespace on this node (this one included)."""
        return self._ops(exclude_self=False).local()

    def timeout(self, seconds: float) -> SocketEmitter:
        """This socket, with an ack timeout for ``emit_with_ack``."""
        return SocketEmitter(self, timeout=seconds, volatile=False)

    def volatile(self) -> SocketEmitter:
        """This socket, with emits dropped rather than failing when the outbox is full."""
        return SocketEmitter(self, timeout=None, volatile=True)

    def disconnect(self) -> None:
        """Leave the namespace (``server namespace disconnect``): the client is told, the disconnect handler
        runs, rooms are cleaned. Idempotent. Handlers of this socket still running are cancelled.
        """
        self._close(DisconnectReason.SERVER_NS_DISCONNECT, notify=True)

    # --- the socket actor -------------------------------------------------------------------------------

    def _tell(self, message: SocketMessage) -> None:
        # What the client sent; a full inbox stops reading the client until a queued event is taken (the
        # engine session's back-pressure), so the next one is never refused.
        actor = self._actor
        actor.tell_or_handle(message)
        if actor.full() and actor.notify_room(self.conn.release_input):
            self.conn.hold_input()

    def _handles_at_once(self, event: str) -> bool:
        # The event's handling cannot suspend: no handler, or an in-order one whose body never awaits.
        entry = self._handlers.get(event, self._fallback)
        return entry is None or (not entry[1] and entry[0].never_suspends)

    def _context(self, **fields: Any) -> CallContext:
        conn = self.conn
        return CallContext(
            socket=self,
            io=self._ns.io,
            auth=self.auth,
            state=self._ns.io.state,
            transport=_TRANSPORTS[conn.transport],
            protocol=self.protocol,
            request=conn.request,
            ns_params=self._ns.params,
            **fields,
        )

    async def _handle(self, message: SocketMessage) -> None:
        if isinstance(message, EventReceived):
            await self._on_event(message)
        elif isinstance(message, Connect):
            await self._ns.connect(self, message.auth)
        else:
            await self._on_disconnected(message)

    async def _on_event(self, message: EventReceived) -> None:
        entry = self._handlers.get(message.event, self._fallback)
        if entry is None:
            logger.debug("%s: no handler for event %r", self._name, message.event)
            return
        handler, concurrent = entry
        ack = NO_ACK if message.ack_id is None else self._ack_sender(message.ack_id)
        if concurrent:
            own = self._context(event=message.event, args=message.args, ack=ack)
            self._actor.concurrently(message, lambda: handler(own))
            return
        await handler(self._in_order_context(message, ack))

    def _on_event_at_once(self, message: EventReceived) -> None:
        # _on_event for what _handles_at_once admitted: an in-order handler that never awaits, or none.
        entry = self._handlers.get(message.event, self._fallback)
        if entry is None:
            logger.debug("%s: no handler for event %r", self._name, message.event)
            return
        ack = NO_ACK if message.ack_id is None else self._ack_sender(message.ack_id)
        entry[0].call_at_once(self._in_order_context(message, ack))

    def _in_order_context(self, message: EventReceived, ack: AckSender) -> CallContext:
        # Handlers in order share one context: a CompiledHandler reads every value it needs from it before
        # its first await, and the next event's values are written only after this call returned.
        ctx = self._ctx
        if ctx is None:
            ctx = self._ctx = self._context()
        ctx.event, ctx.args, ctx.ack = message.event, message.args, ack
        ctx.transport = _TRANSPORTS[self.conn.transport]
        return ctx

    def _ack_sender(self, ack_id: int) -> AckSender:
        on_sent = self._trace_ack_sent if self._ns.io.tracer is not None else None
        return AckSender(self.conn, self._ns.parser, self._ns.path, ack_id, on_sent)

    def _trace_ack_sent(self, ack_id: int) -> None:
        self._ns.io.trace(TraceKind.ACK_SENT, self._name, detail=str(ack_id))

    def _accept(self) -> None:
        self._accepted = True

    async def _on_disconnected(self, message: Disconnect) -> None:
        try:
            if self._accepted and self._on_disconnect is not None:
                await self._on_disconnect(self._context(reason=message.reason))
        finally:
            await self._ns.remove(self)

    def _close(self, reason: DisconnectReason, *, notify: bool) -> None:
        """Disconnect from the namespace: answer pending acks, tell the client if *notify*, stop the actor
        (dropping queued events, cancelling running handlers), then run the disconnect handler and clean up.
        """
        if self._closing:
            return
        self._closing = True
        self._actor.disconnect_reason = reason
        self._client.forget(self)
        self.acks.fail_all(AckClosed(self.id))
        if notify and self._accepted:
            self.conn.send_volatile(self._ns.parser.encode(Packet(type=PacketType.DISCONNECT, nsp=self.ns)))
        dropped = self._actor.halt(Disconnect(reason=reason))
        if dropped:
            logger.info("%s: %d queued events dropped on disconnect (%s)", self._name, dropped, reason.value)


register_context_type(Socket, "socket")
register_context_type(AckSender, "ack", ["event"])
