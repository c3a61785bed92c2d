"""The engine session actor: one per Engine.IO client connection, with no task of its own while idle.

Its mailbox *is* the session's outbox (``_outbox.Outbox``, a list plus an event that exists only while
a reader waits) into which ``send`` puts message payloads without waiting (no extra hop for an emit), and from
which the transport in use reads: a long-poll GET takes everything queued; an ASGI WebSocket's writer
task (``pump``) takes entries one batch at a time; a direct WebSocket (``attach_writer``) is written by the
server's ``EngineScheduler``, which flushes every session with output once per wake. Control packets (ping,
pong, noop, close) travel in the same outbox, so they keep their order with the messages; the outbox has a
few slots of slack for them, and ``send`` enforces ``max_buffer_size`` on the total.

The heartbeat is the scheduler's too: the session asks it for a call at the state machine's next deadline (a
ping to send, a pong overdue, an upgrade timed out) and acts in ``on_deadline``. A write blocked on a client
that reads nothing, or a close that waits for a reader, runs in a short-lived task only while it waits.
Close is a fact recorded in the state machine plus the outbox closing; the scheduler then ``finish``es it:
flushes (or not), calls ``listener.on_close`` exactly once, and unregisters the session.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Literal

import anyio

from sioactor._errors import Closed, InternalChannelFull, ProtocolError
from sioactor.actors._failure_log import FailureLog
from sioactor.actors._trace import (
    MessageCounter,
    TraceEvent,
    TraceKind,
    Tracer,
    message_counter,
    wants_messages,
)
from sioactor.actors.engineio._api import EngineListener, Outgoing, RequestInfo, TransportName
from sioactor.actors.engineio._outbox import Outbox
from sioactor.actors.engineio._scheduler import EngineScheduler, Flushable
from sioactor.actors.engineio._session_config import (
    CLIENT_CLOSE,
    CLOSE,
    CONTROL_SLACK,
    FLUSHING_CLOSE,
    NOOP,
    PACKETS_PER_STEP,
    PING,
    DirectWriter,
    PollRefused,
    SessionConfig,
    SlowConsumerPolicy,
    TransportWriter,
)
from sioactor.actors.engineio._session_io import SessionWriting
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.protocol.engineio import Due, Packet, PacketType, SessionEvent, SessionStateMachine

__all__ = (
    "PACKETS_PER_STEP",
    "DirectWriter",
    "EngineSession",
    "PollRefused",
    "SessionConfig",
    "SlowConsumerPolicy",
    "TransportWriter",
)

# What a full outbox led to, per slow-consumer policy: the detail of its MAILBOX_FULL trace event.
_OVERFLOW_OUTCOME = {
    "error": "InternalChannelFull",
    "drop_oldest": "oldest dropped",
    "disconnect": "slow consumer closed",
}


class EngineSession(SessionWriting):
    """One Engine.IO session: implements ``EngineConnection`` for the layer above, serves the transports."""

    __slots__ = (
        "_clock",
        "_counter",
        "_done",
        "_drained",
        "_drained_event",
        "_failures",
        "_listener",
        "_log",
        "_on_done",
        "_outbox",
        "_scheduler",
        "_tracer",
        "close_reason",
        "config",
        "machine",
        "protocol",
        "request",
        "scheduled_at",
        "sid",
        "transport",
        "upgrade_abort",
    )

    def __init__(
        self,
        *,
        sid: str,
        protocol: Literal[3, 4],
        transport: TransportName,
        request: RequestInfo,
        config: SessionConfig,
        listener: EngineListener,
        scheduler: EngineScheduler,
        clock: Callable[[], float] = anyio.current_time,
        on_done: Callable[[EngineSession], None] | None = None,
        tracer: Tracer | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.sid = sid
        self.protocol: Literal[3, 4] = protocol
        self.transport: TransportName = transport
        self.request = request
        self.config = config
        self.close_reason: EngineCloseReason | None = None
        # Stops the upgrading WebSocket (cancels its reader or closes a direct socket) on upgrade timeout.
        self.upgrade_abort: Callable[[], None] | None = None
        self.machine = SessionStateMachine(
            protocol=protocol,
            websocket=transport == "websocket",
            now=clock(),
            ping_interval=config.ping_interval,
            ping_timeout=config.ping_timeout,
            upgrade_timeout=config.upgrade_timeout,
        )
        self._outbox = Outbox(CLOSE, scheduler.new_signal)
        self._listener = listener
        self._scheduler = scheduler
        self.scheduled_at = math.inf
        self._clock = clock
        self._on_done = on_done
        self._tracer = tracer
        # With a tracer that keeps counters, an enqueue is counted, not traced, unless someone watches this
        # session's messages: building a TraceEvent per outbound message is most of tracing's cost.
        self._counter: MessageCounter | None = (
            None
            if tracer is None
            else message_counter(tracer, sid, "engine_session", config.max_buffer_size, None)
        )
        self._log = logger or logging.getLogger("sioactor.engineio")
        self._failures: FailureLog | None = None  # made on the listener's first failure
        # Whether the outbox's last entry was taken; the event exists only while someone waits for it.
        self._drained = False
        self._drained_event: anyio.Event | None = None
        # A direct WebSocket the scheduler writes to; listed for a flush at most once at a time.
        self._writer: DirectWriter | None = None
        self._flush_listed = False
        # Exist only while a write waits for the client to read (the cancel scope of that wait).
        self._write_scope: anyio.CancelScope | None = None
        self._drain_scope: anyio.CancelScope | None = None
        self._done = False
        # Back-pressure on the client's input (see _session_io).
        self._held_poll: Flushable | None = None
        self._input_holds = 0
        self._room_waiters: list[Flushable] = []

    def __repr__(self) -> str:
        return f"<EngineSession {self.sid} {self.transport} {self.machine.state.value}>"

    # -- EngineConnection ----------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True until the session starts closing."""
        return self.close_reason is None

    def send(self, message: Outgoing) -> None:
        """Queue *message* for the client; never waits.

        Raises:
            InternalChannelFull: the outbox holds ``max_buffer_size`` entries that the transport cannot
                take now (policy ``"error"``).
            Closed: the session is closing or closed (or policy ``"disconnect"`` just closed it).
        """
        if self.close_reason is not None:
            raise Closed(self.sid, message)
        if len(self._outbox) >= self.config.max_buffer_size and not self.make_room():
            self._overflow(message)
        self._outbox.put(message)
        if self._tracer is not None:
            counter = self._counter  # the common traced case inline, as in ActorRef.tell
            if counter is not None and counter.on and not counter.detail:
                counter.queued(message, len(self._outbox))
            else:
                self._trace_enqueued(message)

    def _trace_enqueued(self, message: Outgoing) -> None:
        # The ENQUEUED event, if anybody wants it: send() has already counted the common case.
        counter, tracer = self._counter, self._tracer
        assert tracer is not None
        if counter.on if counter is not None else wants_messages(tracer):
            self._trace(TraceKind.ENQUEUED, message=type(message).__name__)

    def send_volatile(self, message: Outgoing) -> bool:
        """Queue *message* if the session is open and the outbox has room; return whether it was queued."""
        if self.close_reason is not None:
            return False
        if len(self._outbox) >= self.config.max_buffer_size and not self.make_room():
            self._trace(TraceKind.DROPPED, message=type(message).__name__)
            return False
        self._outbox.put(message)
        return True

    def close(self, reason: EngineCloseReason = EngineCloseReason.FORCED_CLOSE) -> None:
        """Start closing: flushes the outbox for a forced close, discards it otherwise. Idempotent.

        The rest (the flush, ``listener.on_close``) happens in the scheduler's task, never inside this call.
        """
        if self.close_reason is not None:
            return
        self.close_reason = reason
        self.machine.handle(SessionEvent.CLOSED)
        self._abort_upgrade()
        if reason in FLUSHING_CLOSE and self._has_reader(reason):
            self._control(CLOSE)
            if self._drain_scope is not None:
                self._drain_scope.deadline = self._clock() + self.config.flush_timeout
        else:
            self._outbox.clear()
            # A write blocked on a client that reads nothing is moot now.
            for scope in (self._write_scope, self._drain_scope):
                if scope is not None:
                    scope.cancel()
            if self.machine.poll_pending:
                self._control(NOOP if reason in CLIENT_CLOSE else CLOSE)
            self._mark_drained()
        self._outbox.close()
        self._wake_room_waiters()  # input waiting for room goes on, to find the session closed
        self._scheduler.forget(self)
        self._scheduler.finish_soon(self)

    def _has_reader(self, reason: EngineCloseReason) -> bool:
        # Flushing waits for a transport to read the outbox. At shutdown an idle polling session has none
        # (Node discards it); a forced close waits for the client's next poll, up to flush_timeout.
        waiting_poll = self.transport == "polling" and not self.machine.poll_pending
        return not (reason is EngineCloseReason.SERVER_SHUTTING_DOWN and waiting_poll)

    # -- life cycle: open, the scheduler's calls, teardown --------------------------------------------------

    def open(self) -> None:
        """The session is registered: call ``listener.on_open`` and start the heartbeat."""
        self._trace(TraceKind.SPAWNED)
        try:
            self._listener.on_open(self)
        except BaseException:
            self.close(EngineCloseReason.SERVER_SHUTTING_DOWN)
            self.abandon()
            raise
        self._scheduler.schedule(self, self.machine.next_deadline())

    def on_deadline(self, now: float) -> None:
        """The scheduler's call at the session's deadline: send a ping, or time the client or upgrade out."""
        due = self.machine.due(now)
        if due is Due.SEND_PING:
            self._control(PING)
            self.machine.ping_sent(now)
        elif due is Due.PING_TIMEOUT:
            self._log.info("engine.io session %s: ping timeout", self.sid)
            self._trace(TraceKind.HEARTBEAT_TIMEOUT)
            self.close(EngineCloseReason.PING_TIMEOUT)
        elif due is Due.UPGRADE_TIMEOUT:
            self._log.info("engine.io session %s: upgrade timed out", self.sid)
            self.upgrade_failed()
        self._scheduler.schedule(self, self.machine.next_deadline())

    def finish(self) -> None:
        """The scheduler's call after ``close``: flush what the close keeps, then tear the session down."""
        writer = self._writer
        if self._done or self._drain_scope is not None:
            return  # a waiting write finishes the close when it ends
        if writer is not None:
            if self._write_out(writer):
                self._scheduler.start_soon(self._wait_writable)
                return
            writer.end()
        elif not self._drained:
            self._scheduler.start_soon(self._wait_drained)
            return
        self.abandon()

    async def _wait_drained(self) -> None:
        # A close that keeps the outbox waits (bounded) for a poll or an ASGI writer to take the close packet.
        try:
            with anyio.move_on_after(self.config.flush_timeout):
                if not self._drained:
                    self._drained_event = anyio.Event()
                    await self._drained_event.wait()
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Tear the session down now (once): unregister it, call ``listener.on_close``, trace it."""
        if self._done:
            return
        self._done = True
        self.close(EngineCloseReason.SERVER_SHUTTING_DOWN)
        self._scheduler.forget(self)
        # What is still queued is left for a reader already waiting (a poll released with its noop or
        # close may not have run yet); the closed outbox takes nothing new.
        if self._on_done is not None:
            self._on_done(self)
        reason = self.close_reason or EngineCloseReason.SERVER_SHUTTING_DOWN
        try:
            self._listener.on_close(self, reason)
        except Exception:
            self._log.exception("engine.io session %s: listener.on_close failed", self.sid)
        if self._failures is not None:
            self._failures.close()
        self._trace(TraceKind.STOPPED, detail=reason.value)

    # -- what the transports call ----------------------------------------------------------------------------

    def expired(self) -> bool:
        """Close the session if its client missed its heartbeat deadline (the timer may be late)."""
        if self.close_reason is None and self.machine.expired(self._clock()):
            self._trace(TraceKind.HEARTBEAT_TIMEOUT)
            self.close(EngineCloseReason.PING_TIMEOUT)
        return self.close_reason is not None

    def receive(self, packet: Packet) -> None:
        """Handle one packet from the client, from whichever transport carries the session.

        A packet the protocol does not allow here closes the session with a parse error; nothing is raised.
        """
        try:
            self._receive(packet)
        except ProtocolError as exc:
            self.protocol_error(exc.reason)

    def _receive(self, packet: Packet) -> None:
        kind = packet.type
        if self.machine.refresh_due and kind is not PacketType.PONG:
            self.machine.packet_received(self._clock())
        if kind is PacketType.MESSAGE:
            self._deliver(packet.data)
        elif kind is PacketType.PONG and self.protocol == 4:
            self.machine.pong_received(self._clock())
        elif kind is PacketType.PING and self.protocol == 3:
            self.machine.client_pinged(self._clock())
            self._control(Packet(PacketType.PONG, packet.data))
        elif kind is PacketType.CLOSE:
            self.close(EngineCloseReason.TRANSPORT_CLOSE)
        elif kind is not PacketType.NOOP:
            self.protocol_error(f"unexpected {kind.name} packet from the client")

    def protocol_error(self, reason: str) -> None:
        """The client broke the protocol: log it, trace it, close with a parse error."""
        if self.close_reason is None:
            self._log.info("engine.io session %s: protocol error: %s", self.sid, reason)
            self._trace(TraceKind.PROTOCOL_ERROR, detail=reason)
            self.close(EngineCloseReason.PARSE_ERROR)

    def transport_error(self, reason: str) -> None:
        """The transport broke its contract (e.g. a message above ``max_payload``): log, trace, close."""
        if self.close_reason is None:
            self._log.info("engine.io session %s: transport error: %s", self.sid, reason)
            self._trace(TraceKind.PROTOCOL_ERROR, detail=reason)
            self.close(EngineCloseReason.TRANSPORT_ERROR)

    # -- the upgrade ----------------------------------------------------------------------------------------

    def websocket_attached(self) -> None:
        """A WebSocket arrived with this sid to upgrade the session.

        Raises:
            ProtocolError: the session is not on polling, or another upgrade is in progress.
        """
        if self.close_reason is not None:
            raise ProtocolError("session closed")
        self.machine.websocket_attached(self._clock())
        self._scheduler.schedule(self, self.machine.next_deadline())

    def probed(self) -> None:
        """The upgrading WebSocket sent ``2probe``: release a pending poll with a noop, as Node does."""
        self.machine.handle(SessionEvent.PROBED)
        if self.machine.poll_pending:
            self._control(NOOP)

    def upgraded(self) -> None:
        """The upgrading WebSocket sent ``5``: from now on the session's transport is the WebSocket."""
        self.machine.handle(SessionEvent.UPGRADED)
        self.transport = "websocket"
        self.upgrade_abort = None
        self._trace(TraceKind.UPGRADE, detail="polling -> websocket")

    def upgrade_failed(self) -> None:
        """The upgrading WebSocket closed, misbehaved or timed out: the session stays on polling."""
        if self.machine.upgrading:
            self.machine.handle(SessionEvent.UPGRADE_FAILED)
        self._abort_upgrade()

    def _abort_upgrade(self) -> None:
        abort, self.upgrade_abort = self.upgrade_abort, None
        if abort is not None:
            abort()

    # -- internals ------------------------------------------------------------------------------------------

    def _deliver(self, data: str | bytes) -> None:
        try:
            self._listener.on_message(self, data)
        except Exception as exc:
            # Repeats counted, not logged each: one request can carry a hundred thousand messages.
            if self._failures is None:
                subject = f"engine.io session {self.sid}: listener.on_message failed"
                self._failures = FailureLog(self._log, subject)
            self._failures.failed(exc)
            self._trace(TraceKind.HANDLER_FAILED, detail=repr(exc))

    def _overflow(self, message: Outgoing) -> None:
        policy = self.config.slow_consumer
        self._trace(TraceKind.MAILBOX_FULL, message=type(message).__name__, detail=_OVERFLOW_OUTCOME[policy])
        if policy == "drop_oldest":
            self._outbox.drop_oldest()
            self._trace(TraceKind.DROPPED)
            return
        if policy == "disconnect":
            self._log.info("engine.io session %s: outbox full, closing the slow consumer", self.sid)
            self.close(EngineCloseReason.SLOW_CONSUMER)
            raise Closed(self.sid, message)
        raise InternalChannelFull(self.sid, message)

    def _control(self, packet: Packet) -> None:
        # Control packets use the slack above max_buffer_size; if even that is full the client is not reading,
        # and the heartbeat will end the session, so dropping one is harmless.
        outbox = self._outbox
        if outbox.closed or len(outbox) >= self.config.max_buffer_size + CONTROL_SLACK:
            self._trace(TraceKind.DROPPED, message=packet.type.name)
        else:
            outbox.put(packet)

    def _mark_drained(self) -> None:
        self._drained = True
        if self._drained_event is not None:
            self._drained_event.set()

    def _trace(self, kind: TraceKind, *, message: str | None = None, detail: str | None = None) -> None:
        if self._tracer is not None:
            self._tracer.record(
                TraceEvent(
                    kind=kind,
                    actor=self.sid,
                    actor_kind="engine_session",
                    message=message,
                    depth=len(self._outbox),
                    capacity=self.config.max_buffer_size,
                    detail=detail,
                )
            )
