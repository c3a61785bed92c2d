"""The tracer hook points: what actors report, and the interface a tracing sink implements.

The runtime injects a ``Tracer`` (a console, a log, a test's list); the actor system and sioactor's actors
call ``tracer.record(event)`` at each hook point. With no tracer attached the hook is ``None`` and the cost of
every hook point is one branch (``if tracer is not None``): no ``TraceEvent`` is ever built.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ("TraceEvent", "TraceKind", "Tracer", "wants_messages")


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


# Not frozen, deliberately: a frozen dataclass assigns each field through ``object.__setattr__``, which made
# building one cost ~1.3 us on every traced message; a plain slotted one costs ~0.5 us. Treat it as immutable:
# a sink that wants to change an event (redaction) builds a new one with ``dataclasses.replace``.
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
        duration: seconds spent handling a message (``HANDLED``), on the event loop's clock.
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
