"""Per-socket event hooks: catch-all listeners (Node's ``onAny`` family), per-packet middleware
(``socket.use``) and the error handler a refusal goes to (``socket.on_error``).

Most sockets have none, so they cost nothing: a ``Socket`` holds ``None`` in one slot, and its actor hands
events straight to it. The first hook a socket gets creates its ``EventHooks`` and reroutes its actor's
events through a ``HookedDispatcher``, which runs the hooks and then the socket's own dispatch; only ``emit``
keeps a check (``_hooks is not None``), for the outgoing listeners.

For each incoming event, in the socket's order: every incoming catch-all listener (as Node's ``onAny``: every
event, one without a handler and one a middleware will refuse included), then the middleware in the order
they were added. The first middleware that raises refuses the event: its handler does not run, and the error
handler receives the exception along with the event's name, arguments and ack (the client hears nothing
unless it says so). Where this runs follows the handler rule: when the hooks and the handler are all plain
``def``, at once in the task that read the event (if the socket is idle); when any is an ``async def``, in
the socket's own task, in order.

Outgoing listeners run inside ``emit``, which never waits, so they must be plain ``def``. They see this
socket's emits and the broadcasts that reach it (as Node's adapter notifies them per receiver); a
namespace counts its sockets that have some, so a broadcast elsewhere pays one integer test.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, final

from sioactor._errors import HandlerSignatureError
from sioactor.actors.engineio._api import EngineConnection
from sioactor.actors.socketio import EventReceived, SocketActor, SocketMessage
from sioactor.protocol.socketio import Packet
from sioactor.runtime.socketio._ack import NO_ACK, AckSender
from sioactor.runtime.socketio._handler import (
    CallContext,
    CompiledHandler,
    EventHandler,
    Handler,
    HandlerKind,
)

__all__ = ("EventHooks", "HookedDispatcher", "HookedSocket", "SocketHooks", "notify_broadcast")

logger = logging.getLogger("sioactor.socketio")

H = TypeVar("H", bound=Handler)


class HookedSocket(Protocol):
    """The ``Socket`` as its hooks see it (a protocol, so that this module sits below the socket's)."""

    _hooks: EventHooks | None
    _name: str
    _actor: SocketActor

    @property
    def ns(self) -> str: ...
    @property
    def conn(self) -> EngineConnection: ...
    @property
    def protocol(self) -> int: ...
    async def dispatch(self, message: SocketMessage) -> None: ...
    def dispatches_at_once(self, event: str) -> bool: ...
    def _context(self, **fields: Any) -> CallContext: ...
    def _in_order_context(self, message: EventReceived, ack: AckSender) -> CallContext: ...
    def _handler_for(self, event: str) -> EventHandler | None: ...
    def _ack_sender(self, ack_id: int) -> AckSender: ...


@final
class EventHooks:
    """The hooks of one socket; ``synchronous`` when every incoming one is a plain ``def``."""

    __slots__ = ("incoming", "middleware", "on_error", "outgoing", "synchronous")

    def __init__(self) -> None:
        # Tuples, replaced on change: a listener may remove itself while they run (as in Node), and the
        # per-event loops need no copy.
        self.incoming: tuple[CompiledHandler, ...] = ()
        self.outgoing: tuple[CompiledHandler, ...] = ()
        self.middleware: tuple[CompiledHandler, ...] = ()
        self.on_error: CompiledHandler | None = None
        self.synchronous = True

    def changed(self) -> None:
        """Recompute ``synchronous`` after a change."""
        handlers = [*self.incoming, *self.middleware]
        if self.on_error is not None:
            handlers.append(self.on_error)
        self.synchronous = all(handler.synchronous for handler in handlers)

    def admit_now(self, ctx: CallContext, *, listeners: bool = True) -> bool:
        """Run the incoming listeners (unless told not to) and the middleware here (all plain ``def``);
        False when refused."""
        if listeners:
            for listener in self.incoming:
                listener.call_now(ctx)
        for middleware in self.middleware:
            try:
                middleware.call_now(ctx)
            except Exception as exc:
                error_handler = self.on_error
                if error_handler is None:
                    _unheard(ctx, exc)
                else:
                    error_handler.call_now(replace(ctx, error=exc))
                return False
        return True

    async def admit(self, ctx: CallContext) -> bool:
        """``admit_now`` for hooks among which some are ``async def``, awaited in the socket's task."""
        for listener in self.incoming:
            await listener(ctx)
        for middleware in self.middleware:
            try:
                await middleware(ctx)
            except Exception as exc:
                error_handler = self.on_error
                if error_handler is None:
                    _unheard(ctx, exc)
                else:
                    await error_handler(replace(ctx, error=exc))
                return False
        return True

    def sent(self, socket: HookedSocket, event: str, args: tuple[Any, ...]) -> None:
        """Tell the outgoing listeners that *event* goes to *socket*'s client; a failing one is logged."""
        ctx = socket._context(event=event, args=args)  # its own: an emit may happen inside a handler
        for listener in self.outgoing:
            try:
                listener.call_now(ctx)
            except Exception:
                logger.exception("%s: outgoing listener %s() failed", socket._name, listener.name)


def _unheard(ctx: CallContext, exc: Exception) -> None:
    logger.info(
        "socket %s: event %r refused by a middleware (no error handler): %r", _sid(ctx), ctx.event, exc
    )


def _sid(ctx: CallContext) -> str:
    return str(getattr(ctx.socket, "id", "?"))


def notify_broadcast(targets: Sequence[HookedSocket], packet: Packet) -> None:
    """Tell the outgoing listeners of the *targets* that have some about *packet* (an EVENT)."""
    data = packet.data
    if not isinstance(data, list) or not data:
        return
    event, args = str(data[0]), tuple(data[1:])
    for socket in targets:
        hooks = socket._hooks
        if hooks is not None and hooks.outgoing:
            hooks.sent(socket, event, args)


class HookedDispatcher:
    """What a socket's actor dispatches to once the socket has hooks: the hooks, then the socket's own
    dispatch (see ``SocketDispatcher``; the same contract, the hooks first)."""

    __slots__ = ("_hooks", "_socket")

    def __init__(self, socket: HookedSocket, hooks: EventHooks) -> None:
        self._socket = socket
        self._hooks = hooks

    @property
    def ns(self) -> str:
        """The namespace path, for the trace."""
        return self._socket.ns

    @property
    def conn(self) -> EngineConnection:
        """The engine connection, for the trace."""
        return self._socket.conn

    @property
    def protocol(self) -> int:
        """The Socket.IO protocol revision, for the trace."""
        return int(self._socket.protocol)

    async def dispatch(self, message: SocketMessage) -> None:
        """A ``Connect`` or ``Disconnect`` to the socket; an event through the hooks."""
        if isinstance(message, EventReceived):
            await self.dispatch_event(message)
        else:
            await self._socket.dispatch(message)

    def dispatches_at_once(self, event: str) -> bool:
        """The hooks and the event's handler never wait."""
        return self._hooks.synchronous and self._socket.dispatches_at_once(event)

    def dispatch_event_at_once(self, message: EventReceived) -> None:
        """Run the hooks, then the handler if no middleware refused the event, all here."""
        socket = self._socket
        ack = NO_ACK if message.ack_id is None else socket._ack_sender(message.ack_id)
        ctx = socket._in_order_context(message, ack)
        hooks = self._hooks
        # The listeners inline (``admit_now`` is their plain loop): this runs for every event of the socket.
        for listener in hooks.incoming:
            listener.call_now(ctx)
        if hooks.middleware and not hooks.admit_now(ctx, listeners=False):
            return
        entry = socket._handler_for(message.event)
        if entry is not None:
            entry[0].call_now(ctx)

    async def dispatch_event(self, message: EventReceived) -> None:
        """Run the hooks, then the handler (in order, or beside for a concurrent one) if admitted."""
        socket = self._socket
        ack = self._ack(message)
        ctx = socket._in_order_context(message, ack)
        # Nothing else writes the in-order context meanwhile: the socket's actor is busy with this event.
        if not await self._hooks.admit(ctx):
            return
        entry = socket._handler_for(message.event)
        if entry is None:
            return
        handler, concurrent = entry
        if concurrent:
            own = socket._context(event=message.event, args=message.args, ack=ack)
            socket._actor.concurrently(message, lambda: handler(own))
            return
        await handler(ctx)

    def _ack(self, message: EventReceived) -> AckSender:
        return NO_ACK if message.ack_id is None else self._socket._ack_sender(message.ack_id)


class SocketHooks:
    """``Socket``'s base: registering catch-all listeners, per-packet middleware and the error handler.

    Listeners, middleware and error handlers take extractors as event handlers do (``Event``, ``Args``,
    ``Data[T]``, ``Socket``, ``AckSender`` ...); an error handler may also take the ``Exception``.
    """

    __slots__ = ("_hooks",)

    _hooks: EventHooks | None  # None until the first hook (set by the socket)

    if TYPE_CHECKING:  # what the socket provides
        _closing: bool

        def _redirect(self, hooks: EventHooks) -> None: ...
        def _event_handler(self, fn: Handler, kind: HandlerKind) -> EventHandler: ...
        def _count_outgoing(self, delta: int) -> None: ...

    def _hooks_to_change(self) -> EventHooks:
        hooks = self._hooks
        if hooks is None:
            hooks = self._hooks = EventHooks()
            self._redirect(hooks)
        return hooks

    def _compiled(self, fn: Handler, kind: HandlerKind = "event") -> CompiledHandler:
        return self._event_handler(fn, kind)[0]

    def on_any(self, listener: H) -> H:
        """Call *listener* for every event the client sends on this socket, before its handler and before
        the middleware (Node's ``socket.onAny``); usable as a decorator. It takes extractors as an event
        handler does (``def log(event: Event, args: Args) -> None``) and runs as the handlers do: a plain
        ``def`` at once, an ``async def`` in the socket's task (then every event of this socket does).
        An exception in it fails the event like a failing handler: logged, and the handler does not run.
        """
        hooks = self._hooks_to_change()
        hooks.incoming = (*hooks.incoming, self._compiled(listener))
        hooks.changed()
        return listener

    def prepend_any(self, listener: H) -> H:
        """``on_any``, but *listener* runs before the catch-all listeners already added."""
        hooks = self._hooks_to_change()
        hooks.incoming = (self._compiled(listener), *hooks.incoming)
        hooks.changed()
        return listener

    def off_any(self, listener: Handler | None = None) -> None:
        """Remove *listener* (every catch-all listener when ``None``), as Node's ``socket.offAny``."""
        hooks = self._hooks
        if hooks is not None:
            hooks.incoming = _without(hooks.incoming, listener)
            hooks.changed()

    def listeners_any(self) -> list[Handler]:
        """The catch-all listeners of incoming events, in the order they run."""
        return [] if self._hooks is None else [h.fn for h in self._hooks.incoming]

    def on_any_outgoing(self, listener: H) -> H:
        """Call *listener* for every event sent to this client: this socket's ``emit`` and
        ``emit_with_ack``, and the broadcasts that reach it (Node's ``socket.onAnyOutgoing``; acks are not
        events). It runs inside ``emit``, before the packet is queued, so it must be a plain ``def``; it
        takes ``Event``, ``Args``, ``Socket`` ... as a handler does. An exception in it is logged.

        Raises:
            HandlerSignatureError: *listener* is an ``async def``, or its parameters have no extractor.
        """
        self._outgoing_changed(lambda outgoing: (*outgoing, self._outgoing(listener)))
        return listener

    def prepend_any_outgoing(self, listener: H) -> H:
        """``on_any_outgoing``, but *listener* runs before the outgoing listeners already added."""
        self._outgoing_changed(lambda outgoing: (self._outgoing(listener), *outgoing))
        return listener

    def off_any_outgoing(self, listener: Handler | None = None) -> None:
        """Remove outgoing *listener* (every one when ``None``), as Node's ``socket.offAnyOutgoing``."""
        if self._hooks is not None:
            self._outgoing_changed(lambda outgoing: _without(outgoing, listener))

    def listeners_any_outgoing(self) -> list[Handler]:
        """The catch-all listeners of outgoing events, in the order they run."""
        return [] if self._hooks is None else [h.fn for h in self._hooks.outgoing]

    def use(self, middleware: H) -> H:
        """Run *middleware* on every event the client sends on this socket, after the catch-all listeners
        and the middleware added before, ahead of the event's handler (Node's per-packet ``socket.use``);
        usable as a decorator. It takes extractors as an event handler does (``Event``, ``Args``,
        ``Data[T]``, ``AckSender`` ...). Returning lets the event through; raising refuses it: the
        handler does not run and the exception goes to the error handler (``on_error``), which decides
        what the client hears (nothing by default; the refusal is logged). A ``Data[T]`` payload that does
        not convert skips the middleware, which then lets the event through.
        """
        hooks = self._hooks_to_change()
        hooks.middleware = (*hooks.middleware, self._compiled(middleware))
        hooks.changed()
        return middleware

    def on_error(self, handler: H) -> H:
        """Handle the events a middleware refused (Node's ``socket.on("error")``); usable as a decorator.
        It takes the ``Exception`` the middleware raised and the refused event's extractors (``Event``,
        ``Args``, ``AckSender``, ``Socket`` ...): ``def refused(socket: Socket, event: Event,
        error: Exception) -> None``. The last one registered is used. An exception in it is logged.
        """
        hooks = self._hooks_to_change()
        hooks.on_error = self._compiled(handler, "error")
        hooks.changed()
        return handler

    def _outgoing(self, listener: Handler) -> CompiledHandler:
        compiled = self._compiled(listener)
        if not compiled.synchronous:
            raise HandlerSignatureError(
                f"outgoing listener {compiled.name}() is an async def; it runs inside emit(), which never "
                "waits: declare it a plain def (start a task from it for slow work)"
            )
        return compiled

    def _outgoing_changed(
        self, change: Callable[[tuple[CompiledHandler, ...]], tuple[CompiledHandler, ...]]
    ) -> None:
        # Keeps the namespace's count of sockets with outgoing listeners (see notify_broadcast).
        hooks = self._hooks_to_change()
        had = bool(hooks.outgoing)
        hooks.outgoing = change(hooks.outgoing)
        if had != bool(hooks.outgoing) and not self._closing:  # a closing socket was counted out already
            self._count_outgoing(1 if hooks.outgoing else -1)

    def _release_hooks(self) -> None:
        # The socket left: its namespace no longer counts it.
        hooks = self._hooks
        if hooks is not None and hooks.outgoing:
            hooks.outgoing = ()
            self._count_outgoing(-1)


def _without(handlers: tuple[CompiledHandler, ...], fn: Handler | None) -> tuple[CompiledHandler, ...]:
    if fn is None:
        return ()
    return tuple(handler for handler in handlers if handler.fn is not fn)
