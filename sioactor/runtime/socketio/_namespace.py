"""Namespaces: the registered pattern (``NamespaceSpec``: static ``/chat`` or dynamic ``/tenant/{id}``, its
connect handler, middleware chain and the event handlers of all its sockets) and the live ``Namespace``:
its two actors (``NamespaceActor``, the admitted sockets; ``RoomRegistryActor``, who is in which room), its
adapter and its ack-id counter. ``NamespaceOperators`` is what ``io.of(path)`` returns: the namespace's
broadcast operators, and ``on`` to register a handler for every socket of it.

The actors start with the server (``start``): a namespace registered before ``run`` waits for it.

A dynamic pattern (a template, a regex, a predicate) creates one live namespace per concrete path a client
connects to, as Node's parent namespaces do; its parameters reach handlers through ``NsParams`` and
``socket.ns_params``. ``_parent.py`` holds the predicates' decision and the parent's operators.

Room events (``on_room_event``) are the room registry's changes (``RoomObserver``), handed to the spec's
listeners in the registry's task; the observer is installed only while the spec has listeners.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, final, overload

import anyio.lowlevel

from sioactor._errors import ConfigError, ConnectRefused, InternalChannelFull, SendError
from sioactor.actors._ref import ActorRef, Reply
from sioactor.actors._supervisor import Supervisor
from sioactor.actors._trace import TraceKind
from sioactor.actors.socketio import (
    Admit,
    FetchSockets,
    NamespaceActor,
    NamespaceMessage,
    Remove,
    RoomChange,
    RoomMessage,
    RoomObserver,
    RoomRegistryActor,
)
from sioactor.protocol._reasons import DisconnectReason
from sioactor.protocol.socketio import Packet, PacketType, Parser
from sioactor.runtime.socketio._ack import NO_DATA, AckStream, to_args
from sioactor.runtime.socketio._adapter import Adapter, AdapterFactory
from sioactor.runtime.socketio._handler import SKIPPED, CompiledHandler, EventHandler, Handler, HandlerKind
from sioactor.runtime.socketio._namespace_spec import (
    NamespacePattern,
    NamespacePredicate,
    NamespaceSpec,
    RoomEventName,
    ServerSideHandler,
    describe,
)
from sioactor.runtime.socketio._operators import BroadcastOperators

if TYPE_CHECKING:
    from sioactor.actors._trace import Tracer
    from sioactor.runtime.socketio._config import SocketIoConfig
    from sioactor.runtime.socketio._socket import Socket

__all__ = (
    "Namespace",
    "NamespaceHost",
    "NamespaceOperators",
    "NamespacePattern",
    "NamespacePredicate",
    "NamespaceSpec",
    "RoomEventName",
    "ServerSideHandler",
    "add_room_listener",
    "describe",
)

# Node's requestsTimeout: how long a server-side emit waits for the other nodes' answers by default.
DEFAULT_REQUEST_TIMEOUT = 5.0

logger = logging.getLogger("sioactor.socketio")

M = TypeVar("M")
R = TypeVar("R")
H = TypeVar("H", bound=Handler)


class NamespaceHost(Protocol):
    """What a namespace, its sockets and its adapter need from their server (``SocketIo``)."""

    @property
    def _namespaces(self) -> Mapping[str, Namespace]:
        """The live namespaces by name."""

    @property
    def config(self) -> SocketIoConfig:
        """The server's options."""

    @property
    def tracer(self) -> Tracer | None:
        """The tracer, if one listens."""

    @property
    def _parser(self) -> Parser:
        """The packet parser."""

    @property
    def _adapter_factory(self) -> AdapterFactory:
        """Builds each namespace's adapter."""

    @property
    def _state(self) -> Mapping[type, Any]:
        """The objects handlers receive through ``State[T]``, by type."""

    @property
    def _running_supervisor(self) -> Supervisor:
        """The supervisor the server's actors run under."""

    @property
    def on(self) -> Callable[..., Any]:
        """``SocketIo.on``: handle an event on every socket of a namespace (its overloads type the result)."""

    def compile(self, fn: Handler, kind: HandlerKind) -> CompiledHandler:
        """Compile a handler."""

    def event_handler(self, fn: Handler, concurrent: bool, *, kind: HandlerKind = "event") -> EventHandler:
        """A compiled event handler as a socket's handler table holds it."""

    def _socket_removed(self) -> None:
        """A socket left its namespace for good."""

    def _trace(self, kind: TraceKind, actor: str, **details: Any) -> None:
        """Report to the tracer, if one listens."""

    def _trace_rooms(self, kind: TraceKind, actor: str, rooms: Sequence[str] | None) -> None:
        """Report a join or leave of *rooms*."""


@final
class NamespaceOperators(BroadcastOperators):
    """Every socket of one namespace, as ``io.of(path)`` returns it: the broadcast operators (``emit``,
    ``to`` ...) and ``on``, which registers an event handler for every socket of the namespace.
    """

    __slots__ = ()

    @overload
    def on(self, event: str, handler: H, *, concurrent: bool = False) -> H: ...
    @overload
    def on(self, event: str, handler: None = None, *, concurrent: bool = False) -> Callable[[H], H]: ...

    def on(self, event: str, handler: H | None = None, *, concurrent: bool = False) -> H | Callable[[H], H]:
        """Handle *event* on every socket of this namespace (or use as ``@io.of("/chat").on("event")``):
        ``io.on(event, handler, namespace=path)``, which says how handlers run.

        Raises:
            ConfigError: this is one namespace of a dynamic pattern; register on the pattern instead.
            HandlerSignatureError: a parameter of *handler* has no extractor an event handler understands.
        """
        ns = self._ns
        if ns.spec.dynamic:
            pattern = describe(ns.spec.pattern)
            raise ConfigError(
                f"namespace {ns.path!r} belongs to the dynamic pattern {pattern}, whose handlers "
                f"serve all its namespaces: use io.on({event!r}, handler, namespace={pattern})"
            )
        registered: H | Callable[[H], H] = ns.io.on(event, handler, namespace=ns.path, concurrent=concurrent)
        return registered

    @overload
    def on_room_event(
        self, kind: Literal["create-room", "delete-room"], listener: Callable[[str], object]
    ) -> None: ...
    @overload
    def on_room_event(
        self, kind: Literal["join-room", "leave-room"], listener: Callable[[str, str], object]
    ) -> None: ...

    def on_room_event(self, kind: RoomEventName, listener: Callable[..., object]) -> None:
        """Call *listener* on each room change of this namespace, as Node's ``adapter.on(kind, ...)``:
        ``create-room`` (room) when a room gets its first member, ``join-room`` (room, sid) when a socket
        enters a room it was not in, ``leave-room`` (room, sid), ``delete-room`` (room) when the last member
        left. A socket's own room counts (its connect creates and joins it). Changes on other nodes of a
        cluster are not seen.

        *listener* is a plain ``def``, called at once in the room registry's task: it may emit, join and
        leave (plain calls), and must not block; an exception in it is logged. To await, hand the change to a
        task of your own (a memory object stream, whose size and overflow are then your choice).

        Raises:
            ConfigError: *kind* is not a room event, *listener* is an ``async def``, or this is one namespace
                of a dynamic pattern (register on ``io.parent(pattern)``).
        """
        ns = self._ns
        if ns.spec.dynamic:
            raise ConfigError(
                f"namespace {ns.path!r} belongs to the dynamic pattern {describe(ns.spec.pattern)}: "
                "register its room listeners on io.parent(pattern), for all its namespaces"
            )
        add_room_listener(ns.io, ns.spec, kind, listener)

    def on_server_side(self, event: str, handler: ServerSideHandler) -> None:
        """Handle *event* when another node of the cluster sends it with ``server_side_emit`` (Node's
        ``io.on(event, ...)`` for server-side events). *handler* gets the event's arguments; its return value
        (awaited when awaitable) answers a ``server_side_emit_with_ack``.
        """
        self._ns.spec.server_handlers[event] = handler

    async def server_side_emit(self, event: str, data: Any = NO_DATA) -> None:
        """Send *event* to the server-side handlers of every other node (no answer awaited).

        Raises:
            RedisUnavailable: (a Redis adapter) the cluster cannot be reached now.
        """
        await self._ns.adapter.server_side_emit([event, *to_args(data)])

    async def server_side_emit_with_ack(
        self, event: str, data: Any = NO_DATA, *, ack_timeout: float = DEFAULT_REQUEST_TIMEOUT
    ) -> list[Any]:
        """Send *event* to the server-side handlers of every other node; their answers, one per node.

        Raises:
            ClusterTimeout: some nodes did not answer within *ack_timeout* seconds (``responses`` has the
                others).
            RedisUnavailable: (a Redis adapter) the cluster cannot be reached now.
        """
        return await self._ns.adapter.server_side_emit_with_ack([event, *to_args(data)], ack_timeout)

    async def all_rooms(self) -> set[str]:
        """Every room of the namespace on every node (socket ids included)."""
        return await self._ns.adapter.all_rooms()

    async def server_count(self) -> int:
        """How many nodes serve the namespace, this one included."""
        return await self._ns.adapter.server_count()


def add_room_listener(
    io: NamespaceHost, spec: NamespaceSpec, kind: str, listener: Callable[..., object]
) -> None:
    """Add *listener* for room event *kind* to every namespace of *spec*, live or to come (see
    ``NamespaceSpec.add_room_listener``)."""
    spec.add_room_listener(kind, listener)  # shared by the specs io.ns puts in its place
    for ns in io._namespaces.values():
        if ns.spec.pattern == spec.pattern:
            ns.watch_rooms()


class Namespace:
    """A live namespace: its actors (sockets, rooms), adapter and the ack-id counter of its emits."""

    __slots__ = (
        "_ack_id",
        "_actor",
        "_adapter_rooms",
        "_rooms",
        "adapter",
        "io",
        "outgoing_listened",
        "params",
        "parser",
        "path",
        "spec",
    )

    def __init__(self, io: NamespaceHost, path: str, params: Mapping[str, str], spec: NamespaceSpec) -> None:
        self.io = io
        self.path = path
        self.params = params
        self.spec = spec
        self.parser: Parser = io._parser
        self.adapter: Adapter = io._adapter_factory(self)
        # An adapter that follows the rooms (the sharded Redis adapter's room channels) has a room_observer.
        self._adapter_rooms: RoomObserver | None = getattr(self.adapter, "room_observer", None)
        self._ack_id = 0
        self.outgoing_listened = 0  # sockets with outgoing listeners (see _event_hooks.py)
        self._actor: NamespaceActor[Socket] | None = None
        self._rooms: RoomRegistryActor | None = None

    def start(self, supervisor: Supervisor) -> None:
        """Spawn the namespace's actors under *supervisor* (idle ones hold no task)."""
        size = self.io.config.namespace_mailbox_size
        self._rooms = RoomRegistryActor(f"rooms:{self.path}", mailbox_size=size)
        self.watch_rooms()
        rooms = supervisor.spawn_soon(self._rooms)
        self._actor = NamespaceActor(f"namespace:{self.path}", rooms, mailbox_size=size)
        supervisor.spawn_soon(self._actor)

    def stop(self) -> None:
        """Stop the namespace's actors once they handled what is queued (``delete_ns``)."""
        if self._actor is not None and self._rooms is not None:
            self._actor.ref.stop()
            self._rooms.ref.stop()

    def watch_rooms(self) -> None:
        """Have the room registry report its changes when the spec has room listeners (else nothing: joins
        and leaves then cost nothing more)."""
        if self._rooms is not None:
            wanted = self.spec.room_listeners or self._adapter_rooms is not None
            self._rooms.observe(self._room_changed if wanted else None)

    def _room_changed(self, change: RoomChange, room: str, sid: str | None) -> None:
        # The room registry's RoomObserver: runs the listeners of the change, never raising into the actor.
        if self._adapter_rooms is not None:
            self._adapter_rooms(change, room, sid)
        for listener in self.spec.room_listeners.get(change.value, ()):
            try:
                result = listener(room) if sid is None else listener(room, sid)
            except Exception as exc:
                logger.exception("%s: %s listener %r failed", self.path, change.value, listener)
                self.io._trace(TraceKind.HANDLER_FAILED, f"rooms:{self.path}", detail=repr(exc))
                continue
            if inspect.isawaitable(result):
                getattr(result, "close", lambda: None)()  # an unawaited coroutine would warn
                logger.error(
                    "%s: %s listener %r returned an awaitable, which never runs",
                    self.path,
                    change.value,
                    listener,
                )

    @property
    def rooms(self) -> ActorRef[RoomMessage]:
        """The room registry actor's ref."""
        return self._room_actor().ref

    @property
    def ref(self) -> ActorRef[NamespaceMessage]:
        """The namespace actor's ref."""
        return self._ns_actor().ref

    def sockets(self) -> Mapping[str, Socket]:
        """The admitted sockets by sid: a read-only snapshot as of the namespace actor's last message (a
        disconnecting socket stays in it until its disconnect handler ran). Empty before the server runs.
        """
        return {} if self._actor is None else self._actor.sockets

    def snapshot_select(
        self, rooms: frozenset[str], except_rooms: frozenset[str], except_sids: frozenset[str]
    ) -> list[str]:
        """``Select`` on the room registry's state as of its last message, without a mailbox hop."""
        return [] if self._rooms is None else self._rooms.peek_select(rooms, except_rooms, except_sids)

    def snapshot_rooms(self) -> list[str]:
        """Every non-empty room, as of the room registry's last message."""
        return [] if self._rooms is None else self._rooms.registry.rooms()

    def snapshot_rooms_of(self, sid: str) -> list[str]:
        """The rooms of socket *sid*, as of the room registry's last message."""
        return [] if self._rooms is None else self._rooms.registry.rooms_of(sid)

    def select_now(
        self, rooms: frozenset[str], except_rooms: frozenset[str], except_sids: frozenset[str]
    ) -> list[str] | None:
        """``Select``'s exact answer without the ask when the room registry has no mail queued, else
        ``None`` (see ``RoomRegistryActor.select_now``).
        """
        return self._room_actor().select_now(rooms, except_rooms, except_sids)

    def resolve(self, sids: list[str]) -> list[Socket]:
        """The connected sockets of *sids*, in that order (sids of departed or departing sockets skipped)."""
        get = self.sockets().get
        return [socket for sid in sids if (socket := get(sid)) is not None and socket.connected]

    async def ask_rooms(self, make: Callable[[Reply[R]], RoomMessage]) -> R:
        """Ask the room registry, waiting a loop turn while its mailbox is full (it never awaits)."""
        return await self._ask(self.rooms.ask, make)

    async def fetch_sockets(self) -> list[Socket]:
        """Ask the namespace actor for its admitted sockets."""
        return await self._ask_ns(lambda reply: FetchSockets(reply=reply))

    async def server_side_event(self, data: list[Any]) -> Any:
        """Run this namespace's handler of ``data[0]`` (an event another node sent) with the rest as its
        arguments; its answer, ``None`` when there is no handler.
        """
        handler = self.spec.server_handlers.get(data[0])
        if handler is None:
            logger.debug("%s: no server-side handler for event %r", self.path, data[0])
            return None
        result = handler(*data[1:])
        if inspect.isawaitable(result):
            result = await result
        return result

    def _ns_actor(self) -> NamespaceActor[Socket]:
        if self._actor is None:
            raise RuntimeError(f"namespace {self.path!r} is not running; serve the SocketIo first")
        return self._actor

    def _room_actor(self) -> RoomRegistryActor:
        if self._rooms is None:
            raise RuntimeError(f"namespace {self.path!r} is not running; serve the SocketIo first")
        return self._rooms

    async def _ask_ns(self, make: Callable[[Reply[R]], NamespaceMessage]) -> R:
        # The namespace actor, answering at once when it is idle (a connect then costs no hop to it and back).
        return await self._ask(self._ns_actor().ask_or_handle, make)

    @staticmethod
    async def _ask(
        ask: Callable[[Callable[[Reply[R]], M]], Awaitable[R]], make: Callable[[Reply[R]], M]
    ) -> R:
        # For messages that must not be lost (admission, removal). These actors never await while handling,
        # so a full mailbox is emptied by the time they ran once: wait one loop turn and try again. *ask* is
        # a ref's ask, or the namespace actor's ask_or_handle (see _ask_ns).
        while True:
            try:
                return await ask(make)
            except InternalChannelFull:
                await anyio.lowlevel.checkpoint()

    def next_ack_id(self) -> int:
        """A fresh ack id: one counter per namespace (as Node), as a broadcast shares its id."""
        ack_id = self._ack_id
        self._ack_id += 1
        return ack_id

    def ack_stream(self, timeout: float | None, convert: Callable[[Any], Any] | None) -> AckStream:
        """A stream for one emit's answers (*timeout* ``None``: the server's ``ack_timeout``)."""
        return AckStream(
            timeout=self.io.config.ack_timeout if timeout is None else timeout,
            convert=convert,
            on_timeout=self._ack_timed_out,
            on_expect=None if self.io.tracer is None else self._ack_requested,
        )

    def _ack_timed_out(self, sid: str, ack_id: int) -> None:
        logger.debug("%s: socket %s did not answer ack %d in time", self.path, sid, ack_id)
        self.io._trace(TraceKind.ACK_TIMEOUT, f"socket:{self.path}:{sid}", detail=str(ack_id))

    def _ack_requested(self, sid: str, ack_id: int) -> None:
        self.io._trace(TraceKind.ACK_REQUESTED, f"socket:{self.path}:{sid}", detail=str(ack_id))

    async def connect(self, socket: Socket, auth: Any) -> None:
        """Run the middleware chain, then accept (CONNECT reply, connect handler) or refuse the socket."""
        socket.auth = auth
        ctx = socket._context()
        for middleware in self.spec.middleware:
            refusal = await self._run_middleware(middleware, ctx)
            if refusal is not None:
                self._refuse(socket, *refusal)
                return
        if not await self._admit(socket):
            return
        self._accept(socket)
        if self.spec.on_connect is not None:
            await self.spec.on_connect(ctx)

    async def _admit(self, socket: Socket) -> bool:
        try:
            await self._ask_ns(lambda reply: Admit(sid=socket.id, socket=socket, reply=reply))
        except SendError as exc:  # the server is shutting down, or the room registry is full
            logger.info("%s: socket %s not admitted: %s", self.path, socket.id, exc)
            self._refuse(socket, "Server unavailable", None)
            return False
        return socket.conn.connected  # else the client left meanwhile: ignored, as Node; its close removes it

    async def _run_middleware(self, middleware: CompiledHandler, ctx: Any) -> tuple[str, Any] | None:
        try:
            result = await middleware(ctx)
        except ConnectRefused as exc:
            return exc.message, exc.data
        except Exception as exc:
            logger.warning("%s: connect middleware %s failed", self.path, middleware.name, exc_info=exc)
            return str(exc) or type(exc).__name__, None
        if result is SKIPPED:
            return "Invalid auth payload", None
        return None

    def _accept(self, socket: Socket) -> None:
        socket._accept()
        socket._client.accepted(socket)
        data = {"sid": socket.id} if socket.conn.protocol == 4 else None
        socket.conn.send(self.parser.encode(Packet(type=PacketType.CONNECT, nsp=self.path, data=data)))

    def _refuse(self, socket: Socket, message: str, data: Any) -> None:
        if socket.conn.protocol == 4:
            payload: Any = {"message": message} if data is None else {"message": message, "data": data}
        else:
            payload = message
        packet = Packet(type=PacketType.CONNECT_ERROR, nsp=self.path, data=payload)
        socket._send_control(packet)
        socket._close(DisconnectReason.SERVER_NS_DISCONNECT, notify=False)

    async def remove(self, socket: Socket) -> None:
        """Forget *socket* and its rooms (after its disconnect handler): a message to the namespace actor."""
        try:
            await self._ask_ns(lambda reply: Remove(sid=socket.id, socket=socket, reply=reply))
        except SendError:
            pass  # the namespace was deleted or the server is stopping: its state goes with it
        finally:
            self.io._socket_removed()
