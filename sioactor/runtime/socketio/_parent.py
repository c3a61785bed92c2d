"""The parent of a dynamic namespace: deciding which names a predicate admits, and reaching every child.

A dynamic pattern (a template, a regex, a predicate) is the spec of many live namespaces, one per name a
client connected to, as Node's ``ParentNamespace`` is of its children. ``ParentNamespace`` is what
``io.parent(pattern)`` (and ``io.of(regex_or_predicate)``, Node's habit) returns: ``emit`` reaches every child
that lives on this node, through each child's own adapter, so a cluster adapter carries each child's
broadcast to that namespace on the other nodes (a child that exists only on another node is not reached,
as in Node).

A predicate is asked only for a name no live namespace, path or pattern has: once it admitted a name, that
namespace exists and later clients join it without asking, as Node does. Refusing a client is the
middleware's job. The question runs in the server's task group, bounded by the connect timeout.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, final, overload

import anyio

from sioactor._errors import BroadcastError, ConfigError, ReservedEventError
from sioactor.protocol.socketio import RESERVED_EVENTS
from sioactor.runtime.socketio._ack import NO_DATA
from sioactor.runtime.socketio._adapter import BroadcastOptions
from sioactor.runtime.socketio._handler import Handler
from sioactor.runtime.socketio._namespace import (
    Namespace,
    NamespaceHost,
    NamespacePattern,
    NamespaceSpec,
    RoomEventName,
    add_room_listener,
    describe,
)
from sioactor.runtime.socketio._operators import BroadcastOperators, Rooms, room_set

if TYPE_CHECKING:
    from sioactor.runtime.socketio._socket import Socket

__all__ = ("ParentNamespace", "decide_namespace", "parent_namespace")

logger = logging.getLogger("sioactor.socketio")

H = TypeVar("H", bound=Handler)


class ParentHost(NamespaceHost, Protocol):
    """What deciding namespaces and the parent namespaces need from their server (``SocketIo``)."""

    @property
    def _specs(self) -> Mapping[NamespacePattern, NamespaceSpec]:
        """The registered namespaces and patterns."""

    def _namespace_for(self, path: str) -> Namespace | None:
        """The live namespace *path* (made for a dynamic pattern), or ``None``."""

    def _child(self, path: str, spec: NamespaceSpec, params: Mapping[str, str]) -> Namespace:
        """Make the child *path* of the dynamic *spec*."""

    def _add_spec(self, spec: NamespaceSpec) -> Namespace | None:
        """Register *spec*."""

    @property
    def on(self) -> Callable[..., Any]:
        """``SocketIo.on``: handle an event on every socket of a namespace (its overloads type the result)."""


async def decide_namespace(io: ParentHost, path: str, auth: Any) -> Namespace | None:
    """The namespace *path* becomes if a predicate admits it (asked in registration order, with the
    client's *auth*), else ``None``. A predicate that raises or outlasts the connect timeout refuses.
    """
    for spec in list(io._specs.values()):
        predicate = spec.predicate
        if predicate is None:
            continue
        try:
            with anyio.fail_after(io.config.connect_timeout):
                verdict = predicate(path, auth)
                if inspect.isawaitable(verdict):
                    verdict = await verdict
        except Exception as exc:  # TimeoutError included: the client is refused, the server goes on
            logger.warning("namespace predicate %s failed for %r", describe(spec.pattern), path, exc_info=exc)
            continue
        if verdict:
            return io._namespace_for(path) or io._child(path, spec, {})
    return None


def parent_namespace(io: ParentHost, pattern: NamespacePattern) -> ParentNamespace:
    """``io.parent(pattern)``: registers *pattern* first (with no connect handler) if it is not.

    Raises:
        ConfigError: *pattern* is a plain path, or none of the pattern kinds.
    """
    spec = io._specs.get(pattern)
    if spec is None:
        spec = NamespaceSpec(pattern, None, ())
        if spec.dynamic:
            io._add_spec(spec)
    if not spec.dynamic:
        raise ConfigError(f"{pattern!r} is a namespace, not a dynamic pattern; use io.of({pattern!r})")
    return ParentNamespace(io, spec, BroadcastOptions())


@final
class ParentNamespace:
    """Every namespace of one dynamic pattern, as Node's parent namespace: ``on`` registers a handler for
    all of them, ``emit`` and the room operations reach the children that live on this node (each through
    its adapter). Chain ``to``/``within``/``except_``/``local``/``volatile`` as on ``io.of(path)``.

    ``emit_with_ack`` and ``fetch_sockets`` are not offered, as in Node: one ack stream would mix answers
    from many namespaces, and the children on other nodes are not known here.
    """

    __slots__ = ("_io", "_opts", "_spec")

    def __init__(self, io: ParentHost, spec: NamespaceSpec, opts: BroadcastOptions) -> None:
        self._io = io
        self._spec = spec
        self._opts = opts

    def __repr__(self) -> str:
        return f"<ParentNamespace {describe(self._spec.pattern)}>"

    @overload
    def on(self, event: str, handler: H, *, concurrent: bool = False) -> H: ...
    @overload
    def on(self, event: str, handler: None = None, *, concurrent: bool = False) -> Callable[[H], H]: ...

    def on(self, event: str, handler: H | None = None, *, concurrent: bool = False) -> H | Callable[[H], H]:
        """Handle *event* on every socket of every child (or use as a decorator): ``io.on(event, handler,
        namespace=pattern)``, which says how handlers run."""
        registered: H | Callable[[H], H] = self._io.on(
            event, handler, namespace=self._spec.pattern, concurrent=concurrent
        )
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
        """Call *listener* on each room change of every child, live or to come (see
        ``NamespaceOperators.on_room_event``; ``socket.ns`` tells the child apart inside a handler).

        Raises:
            ConfigError: *kind* is not a room event, or *listener* is an ``async def``.
        """
        add_room_listener(self._io, self._spec, kind, listener)

    def children(self) -> list[str]:
        """The names of the children that live on this node, in the order they were created."""
        return [ns.path for ns in self._children()]

    def _children(self) -> list[Namespace]:
        # A snapshot: a child created while an operation awaits is not reached by it.
        pattern = self._spec.pattern
        return [ns for ns in self._io._namespaces.values() if ns.spec.pattern == pattern]

    def _ops(self, ns: Namespace) -> BroadcastOperators:
        return BroadcastOperators(ns, self._opts)

    def _with(self, **changes: Any) -> ParentNamespace:
        return ParentNamespace(self._io, self._spec, replace(self._opts, **changes))

    def to(self, rooms: Rooms) -> ParentNamespace:
        """Also select the sockets in *rooms* (a room of each child; rooms are per namespace)."""
        return self._with(rooms=self._opts.rooms | room_set(rooms))

    def within(self, rooms: Rooms) -> ParentNamespace:
        """Same as ``to``."""
        return self.to(rooms)

    def except_(self, rooms: Rooms) -> ParentNamespace:
        """Leave out the sockets in *rooms*."""
        return self._with(except_rooms=self._opts.except_rooms | room_set(rooms))

    def local(self) -> ParentNamespace:
        """This node only (a no-op with the local adapter)."""
        return self._with(local=True)

    def volatile(self) -> ParentNamespace:
        """Skip receivers whose outbox is full instead of reporting them."""
        return self._with(volatile=True)

    async def emit(self, event: str, data: Any = NO_DATA) -> None:
        """Send *event* to the selected sockets of every child (encoded once per child).

        Raises:
            ReservedEventError: *event* is one the client reserves, as ``BroadcastOperators.emit``.
            BroadcastError: some receivers were full or closed, in any child (listed by socket id); all the
                others were served.
        """
        if event in RESERVED_EVENTS:
            raise ReservedEventError(event)
        await self._each(lambda ops: ops.emit(event, data))

    def sockets(self) -> list[Socket]:
        """The selected sockets of every child on this node, from snapshots (see ``BroadcastOperators``)."""
        return [socket for ns in self._children() for socket in self._ops(ns).sockets()]

    async def join(self, rooms: Rooms) -> None:
        """Make every selected socket join *rooms* (in its own namespace)."""
        await self._each(lambda ops: ops.join(rooms))

    async def leave(self, rooms: Rooms) -> None:
        """Make every selected socket leave *rooms*."""
        await self._each(lambda ops: ops.leave(rooms))

    async def disconnect(self) -> None:
        """Disconnect every selected socket (``server namespace disconnect``)."""
        await self._each(lambda ops: ops.disconnect())

    async def _each(self, operation: Callable[[BroadcastOperators], Awaitable[None]]) -> None:
        # Every child is served even when one reports failed receivers; their failures are reported together.
        errors: dict[str, Exception] = {}
        for ns in self._children():
            try:
                await operation(self._ops(ns))
            except BroadcastError as exc:
                errors.update(exc.errors)
        if errors:
            raise BroadcastError(errors)
