"""The tracer hook points: what actors report, and the interface a tracing sink implements.

The runtime injects a ``Tracer`` (a console, a log, a test's list); the actor system and sioactor's actors
call ``tracer.record(event)`` at each hook point. With no tracer attached the hook is ``None`` and the cost of
every hook point is one branch (``if tracer is not None``): no ``TraceEvent`` is ever built.

The per-message hook points (``ENQUEUED``, ``HANDLED``) are the hot ones: a ``TraceEvent`` with its ``fields``
and two event-loop clock reads cost a large part of an echo's handling, on every message. So a
tracer may hand each actor a ``MessageCounter`` when it opens (``message_counter``): the actor then reports a
message as two or three attribute updates on it, and builds the ``TraceEvent`` only while the counter's
``detail`` is set (somebody watches this actor's messages one by one).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ("MessageCounter", "TraceEvent", "TraceKind", "Tracer", "message_counter", "wants_messages")


class TraceKind(enum.Enum):
    """What happened. The actor system reports the first group; sioactor's actors report the rest."""

    # The actor system (actors/_actor.py, actors/_ref.py).
    SPAWNED = "spawned"
    STOPPED = "stopped"
    ENQUEUED = "enqueued"
    HANDLED = "handled"
    MAILBOX_FULL = "mailbox_full"
    CLOSED = "closed"
    DROPPED = "dropped"
    FAILED = "failed"
    # sioactor's actors (engine session, socket, namespace, rooms). Acks, seen from the server: it sends an
    # event that asks for an ack (ACK_REQUESTED), and the client's ACK arrives (ACK_RECEIVED) or does not in
    # time (ACK_TIMEOUT); the client asks for one and the server's ACK goes out (ACK_SENT). ``detail`` is the
    # ack id in all four. BROADCAST is one packet sent to the sockets a room selection matched (traced by the
    # namespace, ``fields``: event, rooms, receivers, failed).
    ACK_SENT = "ack_sent"
    ACK_RECEIVED = "ack_received"
    ACK_TIMEOUT = "ack_timeout"
    ACK_REQUESTED = "ack_requested"
    BROADCAST = "broadcast"
    ROOM_JOIN = "room_join"
    ROOM_LEAVE = "room_leave"
    UPGRADE = "upgrade"
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"
    PROTOCOL_ERROR = "protocol_error"
    HANDLER_FAILED = "handler_failed"
    # The runtime's loop watchdog: a handler of this actor held the event loop for ``duration`` seconds.
    LOOP_STALL = "loop_stall"
    # A cluster adapter (actor ``cluster:<url>``): its connection to the cluster was made (again:
    # subscriptions restored) or lost (``detail``: why), a message on a cluster channel it could not read was
    # dropped, and every few seconds its figures (``fields``: members, requests in flight, messages in/out,
    # dropped; depth and capacity: its publish queue).
    CLUSTER_DISCONNECTED = "cluster_disconnected"
    CLUSTER_CONNECTED = "cluster_connected"
    CLUSTER_DROPPED = "cluster_dropped"
    CLUSTER_STATS = "cluster_stats"


# Not frozen, deliberately: a frozen dataclass assigns each field through ``object.__setattr__``, which makes
# building one, on every traced message, several times dearer than a plain slotted one. Treat it as
# immutable: a sink that wants to change an event (redaction) builds a new one with ``dataclasses.replace``.
@dataclass(slots=True, kw_only=True)
class TraceEvent:
    """One observation about one actor. Do not mutate one after handing it to ``Tracer.record``.

    Attributes:
        kind: what happened.
        actor: the actor's name (unique enough to tell actors apart in a console, e.g. a sid).
        actor_kind: the actor's class-level kind (``"engine_session"``, ``"socket"`` ...).
        message: the type name of the message concerned, when there is one.
        depth: the mailbox fill after the event, when it is known.
        capacity: the mailbox capacity, when it is known.
        detail: free text: a stop reason, an exception's repr, a room name.
        duration: seconds spent handling a message (``HANDLED``), on a monotonic clock (the event loop's, or
            the ``MessageCounter.clock`` of a tracer that keeps counters).
        fields: anything else a hook point wants to report.
    """

    kind: TraceKind
    actor: str
    actor_kind: str
    message: str | None = None
    depth: int | None = None
    capacity: int | None = None
    detail: str | None = None
    duration: float | None = None
    fields: Mapping[str, Any] | None = None


class Tracer(Protocol):
    """A sink for trace events, injected by the runtime.

    A tracer may also have a bool attribute ``messages_wanted``: while it is false, the per-message hook
    points (``ENQUEUED``, ``HANDLED``) skip building their events (see ``wants_messages``).
    """

    def record(self, event: TraceEvent) -> None:
        """Take one event. Called on the hot path from any actor's task: must not block and must not raise."""


def wants_messages(tracer: Tracer) -> bool:
    """Whether *tracer* takes per-message events now: its ``messages_wanted`` if it has one, else True. A
    hub with nobody subscribed says no, so an untraced message costs this check, not an event it would drop.
    """
    wanted: bool = getattr(tracer, "messages_wanted", True)
    return wanted


class MessageCounter(Protocol):
    """One actor's per-message counts, kept by its tracer: what the actor reports instead of building an
    ``ENQUEUED`` / ``HANDLED`` event. Per message the actor reads ``on`` (false: nothing to do), then
    ``detail`` (true: build the event for ``Tracer.record``), else calls ``enqueued`` / ``handled``. Both
    methods must be cheap and must not raise.
    """

    @property
    def on(self) -> bool:
        """False while the tracer wants nothing about this actor's messages: report (and time) none."""

    @property
    def detail(self) -> object:
        """Truthy while per-message events of this actor are wanted: the actor then builds them and calls
        ``Tracer.record`` (which counts them too) instead of calling the methods below.
        """

    @property
    def clock(self) -> Callable[[], float]:
        """A cheap monotonic clock (seconds) to time the handling of a message with."""

    def enqueued(self, message: object, depth: int) -> None:
        """*message* was accepted; *depth* messages wait in the mailbox now."""

    def queued(self, message: object, depth: int) -> None:
        """As ``enqueued``, for an actor whose messages are all of one sort (an engine session's outgoing
        packets): counted, not counted by type, which saves a dict update per message.
        """

    def handled(self, duration: float, depth: int) -> None:
        """A message was handled in *duration* seconds (of ``clock``); *depth* messages wait now."""


def message_counter(
    tracer: Tracer,
    actor: str,
    actor_kind: str,
    capacity: int | None,
    describe: Callable[[Any], Mapping[str, Any] | None] | None,
) -> MessageCounter | None:
    """The counter *tracer* keeps for a new actor, if it keeps counters (an optional ``message_counter``
    method with these parameters); ``None`` otherwise, and every message is then reported as an event.
    *describe* is the actor's ``trace_fields``, which the tracer may call later to label the counts.
    """
    make: Callable[..., MessageCounter | None] | None = getattr(tracer, "message_counter", None)
    return None if make is None else make(actor, actor_kind, capacity, describe)
