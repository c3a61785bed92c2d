"""The ``Socket`` handle: one client in one namespace, as handlers see it.

Behind it is the socket actor (``SocketActor``, an ``Actor``) holding the socket's inbound facts
(``Connect``, then ``EventReceived``s, then a final ``Disconnect``), handled in arrival order by the methods
at the bottom. Room changes are tells to the namespace's room registry actor; ``rooms()`` asks it.
Emitting never goes through that mailbox: ``emit`` encodes once and puts the result straight into the
engine session's bounded outbox (``EngineConnection.send``), which *is* the socket's send buffer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, final, overload

from sioactor._errors import AckClosed, Closed, InternalChannelFull, ReservedEventError
from sioactor.actors._ref import ActorRef
from sioactor.actors._trace import TraceKind
from sioactor.actors.engineio._api import EngineConnection
from sioactor.actors.socketio import (
    AckTable,
    Connect,
    Disconnect,
    EventReceived,
    Join,
    Leave,
    RoomsOf,
    SocketActor,
    SocketMessage,
)
from sioactor.protocol._reasons import DisconnectReason, EngineCloseReason
from sioactor.protocol.engineio import Uncompressed
from sioactor.protocol.socketio import RESERVED_EVENTS, Packet, PacketType
from sioactor.runtime.socketio._ack import NO_ACK, NO_DATA, AckSender, AckStream, to_args
from sioactor.runtime.socketio._adapter import BroadcastOptions
from sioactor.runtime.socketio._event_hooks import EventHooks, HookedDispatcher, SocketHooks
from sioactor.runtime.socketio._extract import TransportType
from sioactor.runtime.socketio._handler import (
    CallContext,
    CompiledHandler,
    EventHandler,
    Handler,
    HandlerKind,
    register_context_type,
)
from sioactor.runtime.socketio._operators import BroadcastOperators, Rooms, SocketEmitter, room_list
from sioactor.runtime.socketio._socket_request import SocketRequest

if TYPE_CHECKING:
    from sioactor.runtime.socketio._namespace import Namespace

__all__ = ("Handler", "Socket", "SocketClient")

logger = logging.getLogger("sioactor.socketio")

H = TypeVar("H", bound=Handler)

_NO_DATA_YET: Any = object()
_TRANSPORTS: dict[str, TransportType] = {t.value: t for t in TransportType}  # a dict beats calling the enum


class SocketClient(Protocol):
    """What a socket needs from its client (``Client``: the Engine.IO session's Socket.IO side)."""

    @property
    def conn(self) -> EngineConnection:
        """The Engine.IO session."""

    def accepted(self, socket: Socket) -> None:
        """*socket* joined its namespace."""

    def forget(self, socket: Socket) -> None:
        """*socket* left its namespace."""


@final
class Socket(SocketHooks, SocketRequest):
    """One client connected to one namespace. Given to handlers; never constructed by user code. Its hooks
    (``on_any``, ``on_any_outgoing``, ``use``, ``on_error`` ...) come from ``SocketHooks``.

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
        "_data",
        "_fallback",
        "_handlers",
        "_issued",
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

    def __init__(self, client: SocketClient, ns: Namespace, sid: str) -> None:
        self.id = sid
        self.conn: EngineConnection = client.conn
        self.acks = AckTable(sid)
        self.auth: Any = None
        self.extensions: dict[Any, Any] = {}
        self._data: Any = _NO_DATA_YET  # {} made on first use: most sockets never have data
        self._client = client
        self._ns = ns
        self._name = f"socket:{ns.path}:{sid}"
        self._handlers: dict[str, EventHandler] = {}  # this socket's own; the namespace's are in its spec
        self._fallback: EventHandler | None = None
        self._on_disconnect: CompiledHandler | None = None
        self._accepted = False
        self._closing = False
        self._hooks = None  # see SocketHooks: None until the first hook
        self._issued = time.time()  # the handshake's time
        self._ctx: CallContext | None = None  # reused by the event handlers run in order (see dispatch_event)
        self._actor = SocketActor(self._name, self, mailbox_size=ns.io.config.inbox_size)
        self._ref: ActorRef[SocketMessage] = ns.io._running_supervisor.spawn_soon(self._actor)

    def __repr__(self) -> str:
        return f"<Socket {self.id} ns={self._ns.path!r} connected={self.connected}>"

    # --- identity and request info ----------------------------------------------------------------------

    @property
    def ns(self) -> str:
        """The namespace path (for a dynamic namespace, the concrete one, e.g. ``/tenant/7``)."""
        return self._ns.path

    @property
    def data(self) -> Any:
        """The application's data about this socket (Node's ``socket.data``; ``{}`` until set). Other nodes
        of a cluster see it in ``fetch_sockets``, so keep it JSON-serializable.
        """
        if self._data is _NO_DATA_YET:
            self._data = {}
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value

    @property
    def ns_params(self) -> Mapping[str, str]:
        """The parameters of a dynamic namespace (``{"id": "7"}`` for ``/tenant/{id}``); empty otherwise."""
        return self._ns.params

    @property
    def connected(self) -> bool:
        """True once the connect middlewares accepted the socket, until it disconnects."""
        return self._accepted and not self._closing

    def _trusts_proxy(self) -> bool:
        return self._ns.io.config.trust_proxy

    # --- handlers ---------------------------------------------------------------------------------------

    @overload
    def on(self, event: str, handler: H, *, concurrent: bool = False) -> H: ...
    @overload
    def on(self, event: str, handler: None = None, *, concurrent: bool = False) -> Callable[[H], H]: ...

    def on(self, event: str, handler: H | None = None, *, concurrent: bool = False) -> H | Callable[[H], H]:
        """Handle *event* on this socket with *handler* (or use as ``@socket.on("event")``), overriding the
        namespace's handler for it (``io.on``), which is the way to register a handler for every socket.

        Each socket handles its events one at a time, in arrival order, and the declaration says where:

        - a plain ``def`` never waits: it runs at once in the task that read the event (as Node runs its
          handlers) when the socket is idle; when the socket is busy (an earlier ``async def`` still running
          or events queued) it runs after them, in order. It may emit, join, leave and answer acks (all
          plain functions); to await anything, declare it ``async def``.
        - an ``async def`` runs in the socket's own task, in order; ``concurrent=True`` lets it run beside
          the socket's other events instead (it means nothing to a plain ``def``).

        Raises:
            HandlerSignatureError: a parameter of *handler* has no extractor an event handler understands.
        """

        def register(fn: H) -> H:
            self._handlers[event] = self._ns.io.event_handler(fn, concurrent)
            return fn

        return register if handler is None else register(handler)

    def on_fallback(self, handler: Handler, *, concurrent: bool = False) -> None:
        """Handle every event that has no handler, neither this socket's nor its namespace's (the last
        registered fallback wins); it runs as ``on`` says."""
        self._fallback = self._ns.io.event_handler(handler, concurrent)

    def on_disconnect(self, handler: Handler) -> None:
        """Call *handler* when the socket disconnects, for whatever reason (``DisconnectReason`` extractor).
        Its rooms are still readable inside; they are cleaned after it returns.
        """
        self._on_disconnect = self._ns.io.compile(handler, "disconnect")

    # --- emitting ---------------------------------------------------------------------------------------

    def emit(self, event: str, data: Any = NO_DATA, *, volatile: bool = False, compress: bool = True) -> None:
        """Send *event* to this client; never waits. A tuple *data* is several arguments, anything else one,
        none when omitted; ``bytes`` anywhere travel as binary. ``compress=False`` (Node's
        ``socket.compress(false)``): never compressed, whatever its size.

        Raises:
            ReservedEventError: *event* is one the client reserves (``"disconnect"`` ...), as in Node.
            InternalChannelFull: the connection's outbox is full (``data`` handed back on ``.message``).
            Closed: the socket is disconnected (``data`` handed back).
            TypeError: *data* holds something the parser cannot encode.
        """
        if event in RESERVED_EVENTS:
            raise ReservedEventError(event)
        if not self.connected:
            raise Closed(self._name, data)
        args = to_args(data)
        if self._hooks is not None and self._hooks.outgoing:
            self._hooks.sent(self, event, args)
        encoded = self._ns.parser.encode_event(self._ns.path, event, args, None)
        message = encoded if compress else Uncompressed(encoded)
        if volatile:
            self.conn.send_volatile(message)
            return
        try:
            self.conn.send(message)
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
        compress: bool = True,
    ) -> AckStream:
        """Send *event* asking for an acknowledgement; ``await`` the returned stream for the answer.

        Args:
            timeout: seconds to wait for the answer (default: the server's ``ack_timeout``).
            convert: applied to the answer; an exception in it yields ``AckDecodeError``.
            compress: as ``emit``.

        Raises:
            ReservedEventError, InternalChannelFull, Closed: as ``emit``; nothing is awaited then.
        """
        if event in RESERVED_EVENTS:
            raise ReservedEventError(event)
        if not self.connected:
            raise Closed(self._name, data)
        ack_id = self._ns.next_ack_id()
        args = to_args(data)
        if self._hooks is not None and self._hooks.outgoing:
            self._hooks.sent(self, event, args)
        encoded = self._ns.parser.encode_event(self._ns.path, event, args, ack_id)
        stream = self._ns.ack_stream(timeout, convert)
        stream.expect(self.acks, ack_id)
        try:
            self.conn.send(encoded if compress else Uncompressed(encoded))
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
        self._ns.io._trace_rooms(TraceKind.ROOM_JOIN, self._name, joined)

    def leave(self, rooms: Rooms) -> None:
        """Leave *rooms* (a message, as ``join``)."""
        left = room_list(rooms)
        self._ns.rooms.tell(Leave(sid=self.id, rooms=left))
        self._ns.io._trace_rooms(TraceKind.ROOM_LEAVE, self._name, left)

    def leave_all(self) -> None:
        """Leave every room (the socket's own-id room included, as socket.io does)."""
        self._ns.rooms.tell(Leave(sid=self.id, rooms=None))
        self._ns.io._trace_rooms(TraceKind.ROOM_LEAVE, self._name, None)

    async def rooms(self) -> list[str]:
        """The rooms this socket is in (its own id is one), after every join and leave it told before.
        Still readable inside the disconnect handler: the rooms are cleaned after it.
        """
        sid = self.id
        return await self._ns.ask_rooms(lambda reply: RoomsOf(sid=sid, reply=reply))

    def _ops(self, *, exclude_self: bool) -> BroadcastOperators:
        excluded = frozenset((self.id,)) if exclude_self else frozenset()
        return BroadcastOperators(self._ns, BroadcastOptions(except_sids=excluded), sender=self.id)

    def to(self, rooms: Rooms) -> BroadcastOperators:
        """The sockets in *rooms*, this one excluded (Node's ``socket.to``)."""
        return self._ops(exclude_self=True).to(rooms)

    def within(self, rooms: Rooms) -> BroadcastOperators:
        """The sockets in *rooms*, this one included if it is in them (socketioxide's ``within``); a ``to``
        or ``except_`` chained after it leaves this one out again, as in socketioxide.
        """
        return self._ops(exclude_self=False).within(rooms)

    def except_(self, rooms: Rooms) -> BroadcastOperators:
        """Every socket of the namespace but those in *rooms* and this one (Node's ``socket.except``)."""
        return self._ops(exclude_self=True).except_(rooms)

    def broadcast(self) -> BroadcastOperators:
        """Every socket of the namespace but this one (Node's ``socket.broadcast``)."""
        return self._ops(exclude_self=True)

    def local(self) -> BroadcastOperators:
        """Every socket of the namespace on this node but this one (Node's ``socket.local``)."""
        return self._ops(exclude_self=True).local()

    def timeout(self, seconds: float) -> SocketEmitter:
        """This socket, with an ack timeout for ``emit_with_ack``."""
        return SocketEmitter(self, timeout=seconds, volatile=False)

    def volatile(self) -> SocketEmitter:
        """This socket, with emits dropped rather than failing when the outbox is full."""
        return SocketEmitter(self, timeout=None, volatile=True)

    def compress(self, compress: bool) -> SocketEmitter:
        """This socket, its emits compressed or not (Node's ``socket.compress(false).emit(...)``)."""
        return SocketEmitter(self, timeout=None, volatile=False, compress=compress)

    def disconnect(self) -> None:
        """Leave the namespace (``server namespace disconnect``): the client is told, the disconnect handler
        runs, rooms are cleaned. Idempotent. Handlers of this socket still running are cancelled. When the
        outbox is full the session is closed instead of telling the client (see ``_send_control``).
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

    def _handler_for(self, event: str) -> EventHandler | None:
        # This socket's own handler, else its namespace's, else the socket's fallback.
        return self._handlers.get(event) or self._ns.spec.handlers.get(event, self._fallback)

    def dispatches_at_once(self, event: str) -> bool:
        """Internal (the socket actor's, see ``SocketDispatcher``)."""
        # The event's handling never waits: no handler, or a plain def.
        entry = self._handler_for(event)
        return entry is None or entry[0].synchronous

    def _context(self, **fields: Any) -> CallContext:
        conn = self.conn
        return CallContext(
            socket=self,
            io=self._ns.io,
            auth=self.auth,
            state=self._ns.io._state,
            transport=_TRANSPORTS[conn.transport],
            protocol=self.protocol,
            request=conn.request,
            ns_params=self._ns.params,
            **fields,
        )

    async def dispatch(self, message: SocketMessage) -> None:
        """Internal (the socket actor's, see ``SocketDispatcher``)."""
        if isinstance(message, EventReceived):
            await self.dispatch_event(message)
        elif isinstance(message, Connect):
            await self._ns.connect(self, message.auth)
        else:
            await self._on_disconnected(message)

    async def dispatch_event(self, message: EventReceived) -> None:
        """Internal (the socket actor's, see ``SocketDispatcher``)."""
        entry = self._handler_for(message.event)
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

    def dispatch_event_at_once(self, message: EventReceived) -> None:
        """Internal (the socket actor's, see ``SocketDispatcher``)."""
        # dispatch_event for what dispatches_at_once admitted: a plain def handler, or none.
        entry = self._handler_for(message.event)
        if entry is None:
            logger.debug("%s: no handler for event %r", self._name, message.event)
            return
        ack = NO_ACK if message.ack_id is None else self._ack_sender(message.ack_id)
        entry[0].call_now(self._in_order_context(message, ack))

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
        self._ns.io._trace(TraceKind.ACK_SENT, self._name, detail=str(ack_id))

    def _accept(self) -> None:
        self._accepted = True

    def _redirect(self, hooks: EventHooks) -> None:
        # The first hook: the actor's events go through them from now on (see _event_hooks.py).
        self._actor.use_dispatcher(HookedDispatcher(self, hooks))

    def _event_handler(self, fn: Handler, kind: HandlerKind) -> EventHandler:
        return self._ns.io.event_handler(fn, False, kind=kind)

    def _count_outgoing(self, delta: int) -> None:
        self._ns.outgoing_listened += delta

    async def _on_disconnected(self, message: Disconnect) -> None:
        handler = self._on_disconnect or self._ns.spec.on_disconnect  # its own, else its namespace's
        try:
            if self._accepted and handler is not None:
                await handler(self._context(reason=message.reason))
        finally:
            await self._ns.remove(self)

    def _send_control(self, packet: Packet) -> None:
        """Queue a packet that ends this socket (DISCONNECT, CONNECT_ERROR), which must never lose to a full
        outbox: then the whole session is closed instead (its queue flushed first), so the client sees its
        transport close rather than stay connected to a socket the server forgot. Other namespaces of that
        session go with it; the client's reconnection, if on, then starts over.
        """
        conn = self.conn
        if not conn.send_volatile(self._ns.parser.encode(packet)) and conn.connected:
            logger.info("%s: outbox full, closing the session to end the socket", self._name)
            conn.close(EngineCloseReason.FORCED_CLOSE)

    def _close(self, reason: DisconnectReason, *, notify: bool) -> None:
        """Disconnect from the namespace: answer pending acks, tell the client if *notify*, stop the actor
        (dropping queued events, cancelling running handlers), then run the disconnect handler and clean up.
        """
        if self._closing:
            return
        self._closing = True
        self._actor.disconnect_reason = reason
        self._client.forget(self)
        self._release_hooks()
        self.acks.fail_all(AckClosed(self.id))
        if notify and self._accepted:
            self._send_control(Packet(type=PacketType.DISCONNECT, nsp=self.ns))
        dropped = self._actor.halt(Disconnect(reason=reason))
        if dropped:
            logger.info("%s: %d queued events dropped on disconnect (%s)", self._name, dropped, reason.value)


register_context_type(Socket, "socket")
register_context_type(AckSender, "ack", ["event"])
