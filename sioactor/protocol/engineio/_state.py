"""The Engine.IO session state machine: which transport carries the session, the upgrade, the heartbeat.

Sans-IO: no clock, no tasks. Callers pass the current time (seconds, any monotonic origin) into every
method that needs one and ask ``next_deadline()`` when to call ``due()`` again.

Why one table. A session moves through few states, but they are reached from several concurrent actors
(a long-poll GET, a POST, a WebSocket reader, the heartbeat timer). Keeping every legal move in
``_TRANSITIONS`` means an unexpected event (an ``upgrade`` packet without a probe, a second WebSocket while
one is upgrading) is refused in exactly one place, with a ``ProtocolError`` whose reason says what happened,
instead of silently confusing two transports.

                                                          ┌─2probe─┐
                                                          ▼        │
    POLLING ──ws attached──▶ UPGRADE_PENDING ──2probe──▶ UPGRADE_PROBED ──5──▶ WEBSOCKET
       ▲                          │                          │
       └──────upgrade failed──────┴──────────────────────────┘
    any state but CLOSED ──close──▶ CLOSED

A repeated ``2probe`` is answered again, as Node's engine.io answers every probe of an upgrading WebSocket.

Heartbeat, as Node's engine.io does it. Protocol 4: the server pings ``ping_interval`` after the open (and
after each pong); the client must pong within ``ping_timeout`` of the ping. Protocol 3: the client pings; the
session times out ``ping_interval + ping_timeout`` after the open or the last client ping. An upgrade must
complete within ``upgrade_timeout`` of the WebSocket attaching.
"""

from __future__ import annotations

import enum
import math

from sioactor._errors import ProtocolError

__all__ = ("Due", "SessionEvent", "SessionState", "SessionStateMachine")


class SessionState(enum.Enum):
    """Where a session is in its life."""

    POLLING = "polling"
    UPGRADE_PENDING = "upgrade pending"
    UPGRADE_PROBED = "upgrade probed"
    WEBSOCKET = "websocket"
    CLOSED = "closed"


class SessionEvent(enum.Enum):
    """What can move a session from one state to another."""

    WS_ATTACHED = "websocket attached"
    PROBED = "probe received"
    UPGRADED = "upgrade received"
    UPGRADE_FAILED = "upgrade failed"
    CLOSED = "closed"


class Due(enum.Enum):
    """What the heartbeat timer must do now (the answer of ``due()``)."""

    NOTHING = "nothing"
    SEND_PING = "send ping"
    PING_TIMEOUT = "ping timeout"
    UPGRADE_TIMEOUT = "upgrade timeout"


_S = SessionState
_E = SessionEvent
_TRANSITIONS: dict[tuple[SessionState, SessionEvent], SessionState] = {
    (_S.POLLING, _E.WS_ATTACHED): _S.UPGRADE_PENDING,
    (_S.UPGRADE_PENDING, _E.PROBED): _S.UPGRADE_PROBED,
    (_S.UPGRADE_PROBED, _E.PROBED): _S.UPGRADE_PROBED,
    (_S.UPGRADE_PROBED, _E.UPGRADED): _S.WEBSOCKET,
    (_S.UPGRADE_PENDING, _E.UPGRADE_FAILED): _S.POLLING,
    (_S.UPGRADE_PROBED, _E.UPGRADE_FAILED): _S.POLLING,
    **{(state, _E.CLOSED): _S.CLOSED for state in _S if state is not _S.CLOSED},
}
_UPGRADING = frozenset({_S.UPGRADE_PENDING, _S.UPGRADE_PROBED})


class SessionStateMachine:
    """One session's transport state, pending-request flags and heartbeat deadlines.

    Attributes:
        state: the current ``SessionState``.
        poll_pending: a long-poll GET is waiting for packets.
        post_pending: a POST is being read.
        refresh_due: a ping awaits its pong and no other packet came since (protocol 4): the next one
            that comes moves the pong deadline (``packet_received``).
    """

    __slots__ = (
        "_next_ping",
        "_pong_deadline",
        "_upgrade_deadline",
        "ping_interval",
        "ping_timeout",
        "poll_pending",
        "post_pending",
        "protocol",
        "refresh_due",
        "state",
        "upgrade_timeout",
    )

    def __init__(
        self,
        *,
        protocol: int,
        websocket: bool,
        now: float,
        ping_interval: float,
        ping_timeout: float,
        upgrade_timeout: float,
    ) -> None:
        self.protocol = protocol
        self.state = _S.WEBSOCKET if websocket else _S.POLLING
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.upgrade_timeout = upgrade_timeout
        self.poll_pending = False
        self.post_pending = False
        self.refresh_due = False
        self._upgrade_deadline = math.inf
        if protocol == 3:
            self._next_ping = math.inf
            self._pong_deadline = now + ping_interval + ping_timeout
        else:
            self._next_ping = now + ping_interval
            self._pong_deadline = math.inf

    # -- transitions ---------------------------------------------------------------------------------------

    def handle(self, event: SessionEvent) -> SessionState:
        """Apply *event*; return the new state.

        Raises:
            ProtocolError: *event* is not legal in the current state (the table has no such move).
        """
        new = _TRANSITIONS.get((self.state, event))
        if new is None:
            raise ProtocolError(f"{event.value} is not allowed while the session is {self.state.value}")
        self.state = new
        if new is not _S.UPGRADE_PENDING and new is not _S.UPGRADE_PROBED:
            self._upgrade_deadline = math.inf
        return new

    def websocket_attached(self, now: float) -> None:
        """A WebSocket with this sid arrived to upgrade the session; start the upgrade timer."""
        self.handle(_E.WS_ATTACHED)
        self._upgrade_deadline = now + self.upgrade_timeout

    @property
    def closed(self) -> bool:
        """The session has closed."""
        return self.state is _S.CLOSED

    @property
    def upgrading(self) -> bool:
        """A WebSocket is attached but the upgrade has not completed."""
        return self.state in _UPGRADING

    @property
    def polls_get_noop(self) -> bool:
        """A long-poll must be answered with a noop at once: the client has probed a WebSocket."""
        return self.state is _S.UPGRADE_PROBED

    @property
    def accepts_polling(self) -> bool:
        """HTTP requests for this session are allowed (it has not moved to WebSocket)."""
        return self.state is _S.POLLING or self.state in _UPGRADING

    # -- polling requests ----------------------------------------------------------------------------------

    def start_poll(self) -> bool:
        """A GET arrived. Return False (and change nothing) when another GET is already pending."""
        if self.poll_pending:
            return False
        self.poll_pending = True
        return True

    def end_poll(self) -> None:
        """The pending GET was answered."""
        self.poll_pending = False

    def start_post(self) -> bool:
        """A POST arrived. Return False when another POST is still being read (Node: data request overlap)."""
        if self.post_pending:
            return False
        self.post_pending = True
        return True

    def end_post(self) -> None:
        """The POST was read and answered."""
        self.post_pending = False

    # -- heartbeat -----------------------------------------------------------------------------------------

    def ping_sent(self, now: float) -> None:
        """The server sent a ping (protocol 4): the pong is due within ``ping_timeout``."""
        # Counted from when the ping was due, so a late timer does not give the client extra time.
        self._pong_deadline = min(now, self._next_ping) + self.ping_timeout
        self._next_ping = math.inf
        self.refresh_due = True

    def packet_received(self, now: float) -> None:
        """A packet other than the pong came while a ping awaits it (``refresh_due``): the client is alive,
        so its pong is due ``ping_timeout`` from now, once per ping, as in Node's engine.io. A client whose
        pong waits behind a burst of its own events is thus not timed out while the server works through
        them; a client that sends nothing gets no extra time."""
        self.refresh_due = False
        self._pong_deadline = max(self._pong_deadline, now + self.ping_timeout)

    def pong_received(self, now: float) -> None:
        """The client answered a ping (protocol 4): the next ping is due ``ping_interval`` from now.

        Raises:
            ProtocolError: the client speaks protocol 3, where the server never pings.
        """
        if self.protocol == 3:
            raise ProtocolError("pong from an Engine.IO v3 client (invalid heartbeat direction)")
        self._pong_deadline = math.inf
        self._next_ping = now + self.ping_interval
        self.refresh_due = False

    def client_pinged(self, now: float) -> None:
        """The client pinged (protocol 3): the session lives ``ping_interval + ping_timeout`` longer.

        Raises:
            ProtocolError: the client speaks protocol 4, where only the server pings.
        """
        if self.protocol != 3:
            raise ProtocolError("ping from an Engine.IO v4 client (invalid heartbeat direction)")
        self._pong_deadline = now + self.ping_interval + self.ping_timeout

    def next_deadline(self) -> float:
        """The earliest time at which ``due()`` may answer something else than ``Due.NOTHING``."""
        if self.state is _S.CLOSED:
            return math.inf
        return min(self._next_ping, self._pong_deadline, self._upgrade_deadline)

    def expired(self, now: float) -> bool:
        """The client missed its heartbeat deadline: the session is dead even if no timer has fired yet."""
        return now >= self.liveness_deadline()

    def liveness_deadline(self) -> float:
        """When the client is dead if nothing changes: its pong overdue, or a ping it could not be sent."""
        return min(self._pong_deadline, self._next_ping + self.ping_timeout)

    def due(self, now: float) -> Due:
        """What the timer must do at *now*; ``SEND_PING`` expects a ``ping_sent(now)`` once it is sent."""
        if self.state is _S.CLOSED:
            return Due.NOTHING
        if now >= self._pong_deadline:
            return Due.PING_TIMEOUT
        if now >= self._upgrade_deadline:
            self._upgrade_deadline = math.inf
            return Due.UPGRADE_TIMEOUT
        if now >= self._next_ping:
            return Due.SEND_PING
        return Due.NOTHING
