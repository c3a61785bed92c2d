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

__all__ = ("TraceEvent", "TraceKind", "Tracer")


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
    # sioactor's actors (engine session, socket, namespace, rooms).
    ACK_SENT = "ack_sent"
    ACK_RECEIVED = "ack_received"
    ACK_TIMEOUT = "ack_timeout"
    ROOM_JOIN = "room_join"
    ROOM_LEAVE = "room_leave"
    UPGRADE = "upgrade"
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"
    PROTOCOL_ERROR = "protocol_error"
    HANDLER_FAILED = "handler_failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceEvent:
    """One observation about one actor.

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
    """A sink for trace events, injected by the runtime."""

    def record(self, event: TraceEvent) -> None:
        """Take one event. Called on the hot path from any actor's task: must not block and must not raise."""
