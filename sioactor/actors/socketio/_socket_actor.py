"""The socket actor: one ``Actor`` per socket, whose messages (``Connect``, events, then ``Disconnect``) are
dispatched to the runtime's ``Socket`` through ``SocketDispatcher``.

It adds Socket.IO's failure policy (a handler that raises is logged and traced, and the socket goes on with
its next event: one bad event must not disconnect a client) and what its trace says: the event name of each
message, the engine session, transport and protocol at spawn, and the disconnect reason at stop.

``SocketDispatcher`` is the seam: the ``Socket`` (and its handlers, extractors and contexts) lives in
``sioactor.runtime.socketio``, which this layer may not import; the actor sees only these few methods.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from sioactor.actors._actor import Actor
from sioactor.actors._failure_log import FailureLog
from sioactor.actors._ref import StopReason
from sioactor.actors._trace import TraceKind
from sioactor.actors.engineio._api import EngineConnection
from sioactor.actors.socketio._messages import Connect, EventReceived, SocketMessage
from sioactor.protocol._reasons import DisconnectReason

__all__ = ("SocketActor", "SocketDispatcher")

logger = logging.getLogger("sioactor.socketio")


class SocketDispatcher(Protocol):
    """What the socket actor hands its messages to: the runtime's ``Socket``, which holds the handlers."""

    @property
    def ns(self) -> str:
        """The namespace path, for the trace."""

    @property
    def conn(self) -> EngineConnection:
        """The engine connection, for the trace (its sid and transport)."""

    @property
    def protocol(self) -> int:
        """The Socket.IO protocol revision, for the trace."""

    async def dispatch(self, message: SocketMessage) -> None:
        """Handle a ``Connect``, an ``EventReceived`` or the final ``Disconnect``."""

    async def dispatch_event(self, message: EventReceived) -> None:
        """Run the event's handler (in order, or beside the mailbox for a concurrent one)."""

    def dispatches_at_once(self, event: str) -> bool:
        """Whether handling *event* certainly completes without suspending (``Actor.handles_now``)."""

    def dispatch_event_at_once(self, message: EventReceived) -> None:
        """``dispatch_event`` for an event that ``dispatches_at_once`` admitted, run to its end here."""


class SocketActor(Actor[SocketMessage]):
    """The actor of one socket (``socket:<ns>:<sid>``): ``Connect``, events, then ``Disconnect``."""

    kind = "socket"
    failure_kind = TraceKind.HANDLER_FAILED  # one event per failed handler, with the event's name

    def __init__(self, name: str, socket: SocketDispatcher, *, mailbox_size: int) -> None:
        super().__init__(name, mailbox_size=mailbox_size)
        self._socket = socket
        self.disconnect_reason: DisconnectReason | None = None  # set by Socket._close, for the trace
        self._failures: FailureLog | None = None  # made on the first failure

    def use_dispatcher(self, dispatcher: SocketDispatcher) -> None:
        """Hand the next messages to *dispatcher* instead (a wrapper of the socket that runs its hooks
        first); the message being handled, if any, finishes where it started."""
        self._socket = dispatcher

    async def handle(self, message: SocketMessage) -> None:
        """Hand *message* to the socket (an event straight to its dispatch: the per-message path).

        An event waits while its connection's outbox is full: its replies would not fit, and waiting here
        fills the inbox, which stops reading the client (see ``Socket._tell``). If the connection closes
        meanwhile, the event is dropped, as the queued ones are (the wait ends before the halt's
        cancellation can reach it, which would otherwise run the handler on a closed socket).
        """
        if type(message) is EventReceived:
            conn = self._socket.conn
            await conn.until_room()
            if self._halted or not conn.connected:  # closed while it waited: dropped, as the queued events
                return
            await self._socket.dispatch_event(message)
            return
        if type(message) is Connect:
            # Most sockets are idle after connecting, and the events of a busy one are mostly handled at
            # once: a drain lingering now would only be woken to end.
            self.skip_linger = True
        await self._socket.dispatch(message)

    def handles_now(self, message: SocketMessage) -> bool:
        """An event whose handler is a plain ``def`` (or that has none) is handled in the delivering task
        when the socket is idle (see ``Actor.tell_or_handle``); ``on_failure`` below never suspends."""
        return type(message) is EventReceived and self._socket.dispatches_at_once(message.event)

    def handle_at_once(self, message: SocketMessage) -> None:
        """The event straight to the socket's synchronous dispatch (``handles_now`` admitted only events)."""
        assert type(message) is EventReceived
        self._socket.dispatch_event_at_once(message)

    async def on_failure(self, exc: Exception) -> None:
        """Log a failed handler (the actor traced it as ``HANDLER_FAILED``), naming its event; keep the socket
        running.

        Repeats are counted, not logged each (``FailureLog``): one client can make a handler fail a hundred
        thousand times with one request, and a traceback each would stall every other client.
        """
        failing = self.failing
        event = failing.event if isinstance(failing, EventReceived) else type(failing).__name__
        failures = self._failures
        if failures is None:
            failures = self._failures = FailureLog(logger, f"{self.name}: a handler failed")
        failures.failed(exc, what=f"the handler of {event!r}")

    async def on_stop(self, reason: StopReason) -> None:
        """Log how many failures were only counted (see ``on_failure``)."""
        if self._failures is not None:
            self._failures.close()

    def trace_fields(self, message: SocketMessage) -> Mapping[str, Any] | None:
        """An event's name, ack id and arguments (the tracer drops ``args`` unless payloads are traced);
        the reason of a ``Disconnect``. A ``Connect``'s auth is never traced.
        """
        if isinstance(message, EventReceived):
            return {"event": message.event, "ack": message.ack_id, "args": message.args}
        if isinstance(message, Connect):
            return None
        return {"reason": message.reason.value}

    def spawn_fields(self) -> Mapping[str, Any]:
        """The engine session (its sid is its actor's name), transport and protocol of this socket."""
        conn = self._socket.conn
        return {
            "engine": conn.sid,
            "transport": conn.transport,
            "protocol": int(self._socket.protocol),
            "namespace": self._socket.ns,
        }

    def stop_detail(self, reason: StopReason) -> str:
        """Why the socket left (``client_ns_disconnect``, ``transport_close`` ...) rather than ``normal``."""
        if self.disconnect_reason is None or reason is not StopReason.NORMAL:
            return reason.value
        return self.disconnect_reason.value
