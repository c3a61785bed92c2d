"""The engine session's side for its transports: who takes the outbox, and when the client's input waits.

``EngineSession`` inherits it; it is split out only so each file reads on its own. Three kinds of reader take
the outbox: a long-poll GET (``poll``), the ASGI WebSocket's writer task (``pump``), and, for the embedded
server's direct WebSocket, the server's scheduler (``attach_writer`` then ``flush`` once per wake, with a
short-lived task only while the client leaves too much unread).

Back-pressure on the client's input. A client may send faster than its answers can be written, or than its
socket's handlers run: a burst of a thousand emits arrives in a few reads. Nothing it sent may be lost, and
the server's memory must stay bounded, so its input waits instead, where it costs nothing: in the kernel.

- The outbox bound counts only what the transport cannot take now. A ``send`` that finds the outbox at
  ``max_buffer_size`` first hands it to a transport that can take it at once (``make_room``: a direct
  WebSocket the kernel still accepts, a held long-poll); only if that leaves it full does the slow-consumer
  policy apply. So a reply, an ack or a broadcast into a healthy receiver never fails for lack of a writer
  turn: the events of one read are handled back to back, before any scheduler tick.
- Before each message from the client the transport asks ``accepts_input``: False while the outbox is at its
  bound or a mailbox the listener feeds is full (``hold_input`` .. ``release_input``, the socket's inbox).
  The transport then stops reading (a direct WebSocket keeps the rest of its read and pauses the socket, so
  TCP flow control throttles the client; a POST or an ASGI WebSocket reader awaits ``until_accepting``)
  and goes on once room is made (``when_accepting``: a take from the outbox, a release, or the close).
- A handler running in its socket's actor awaits ``until_room`` before each event while its outbox is full,
  so the actor, its inbox and then the connection slow down to the client's pace.

Only what others send a session (broadcasts, emits from other sockets, server tasks) can still find its
outbox full: the slow-consumer policy is for that receiver, which truly cannot keep up.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from sioactor.actors.engineio._outbox import Outbox
from sioactor.actors.engineio._scheduler import EngineScheduler, Flushable
from sioactor.actors.engineio._session_config import (
    CLOSE,
    NOOP,
    DirectWriter,
    PollRefused,
    SessionConfig,
    TransportWriter,
)
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.protocol.engineio import OutboxEntry, SessionStateMachine

__all__ = ("SessionWriting",)


class SessionWriting:
    """How the transports take a session's outbox; the state it uses is ``EngineSession``'s."""

    # Set by EngineSession.__init__; they exist while a write waits for the client (the wait's cancel scope).
    __slots__ = (
        "_drain_scope",
        "_flush_listed",
        "_held_poll",
        "_input_holds",
        "_room_waiters",
        "_write_scope",
        "_writer",
    )

    _writer: DirectWriter | None
    _flush_listed: bool
    _drain_scope: anyio.CancelScope | None
    _write_scope: anyio.CancelScope | None
    _held_poll: Flushable | None  # a long-poll held with no task (hold_poll), until answered or gone
    _input_holds: int  # mailboxes fed by this session's input that are full (hold_input)
    _room_waiters: list[Flushable]  # woken in the scheduler's next wake once room is made

    if TYPE_CHECKING:
        sid: str
        transport: str
        config: SessionConfig
        machine: SessionStateMachine
        close_reason: EngineCloseReason | None
        _outbox: Outbox
        _scheduler: EngineScheduler
        _clock: Callable[[], float]
        _log: logging.Logger
        _drained: bool
        scheduled_at: float

        def on_deadline(self, now: float) -> None: ...

        def close(self, reason: EngineCloseReason = EngineCloseReason.FORCED_CLOSE) -> None: ...
        def finish(self) -> None: ...
        def expired(self) -> bool: ...
        def _mark_drained(self) -> None: ...

    async def poll(self, watch: Callable[[], Awaitable[object]] | None = None) -> list[OutboxEntry] | None:
        """Serve one long-poll GET in the caller's task: wait for queued entries and take them all.

        *watch*, if given, runs while the poll waits and returns when the client has gone (an ASGI
        ``receive`` answering ``http.disconnect``); the poll then answers ``None`` and takes nothing.

        Raises:
            PollRefused: the session is closed or upgraded, or another GET is pending (which closes the
                session: the pending GET gets a close packet).
        """
        self._start_poll()
        try:
            if self.machine.polls_get_noop:
                return [NOOP]
            if watch is not None and not await self._outbox.wait_while(watch, self._scheduler.outside_tasks):
                return None
            return await self._take_batch(polling=True)
        finally:
            self.machine.end_poll()

    def hold_poll(self, held: Flushable) -> list[OutboxEntry] | None:
        """Serve one long-poll GET with no task waiting: the batch to answer with now, or ``None``: the
        poll is held, and *held*'s ``flush`` runs (in the scheduler's next wake) once an entry is queued or
        the outbox closes. That flush answers with ``take_held``; a client gone first ends it with
        ``release_held``. Raises ``PollRefused`` as ``poll`` does.
        """
        self._start_poll()
        if self.machine.polls_get_noop:
            self.machine.end_poll()
            return [NOOP]
        outbox = self._outbox
        if outbox or outbox.closed:
            return self.take_held()

        def ready() -> None:
            # Once: the flush takes whatever is queued by then, and sees a close that came meanwhile.
            outbox.notify(None)
            self._scheduler.flush_soon(held)

        outbox.notify(ready)
        self._held_poll = held
        return None

    def take_held(self) -> list[OutboxEntry]:
        """The held poll's answer (``[CLOSE]`` if the outbox closed empty); the poll ends."""
        self._outbox.notify(None)
        self._held_poll = None
        try:
            return self._take_ready(polling=True)
        finally:
            self.machine.end_poll()

    def release_held(self) -> None:
        """The held poll's client left before an answer: the poll ends, taking nothing."""
        self._outbox.notify(None)
        self._held_poll = None
        self.machine.end_poll()

    def _start_poll(self) -> None:
        open_elsewhere = self.close_reason is None and not self.machine.accepts_polling
        if self._drained or self.transport != "polling" or open_elsewhere:
            raise PollRefused("session closed or no longer polling")
        if not self.machine.start_poll():
            self._log.info("engine.io session %s: overlapping polls", self.sid)
            self.close(EngineCloseReason.MULTIPLE_POLLING)
            raise PollRefused("another poll is pending")

    async def next_batch(self) -> list[OutboxEntry]:
        """Serve the WebSocket writer: wait for queued entries and take those ready; ``[]`` once closed."""
        return await self._take_batch(polling=False)

    async def _take_batch(self, *, polling: bool) -> list[OutboxEntry]:
        await self._outbox.wait()
        return self._take_ready(polling=polling)

    def _take_ready(self, *, polling: bool) -> list[OutboxEntry]:
        # The outbox has entries or is closed (then, empty, it ends the transport).
        outbox = self._outbox
        if not outbox:
            self._mark_drained()
            return [CLOSE] if polling else []
        # A noop or close ends the batch; during a probed upgrade the rest stays queued for the WebSocket.
        first = outbox.peek()
        first_only = first is NOOP or first is CLOSE or (polling and self.machine.polls_get_noop)
        batch = outbox.take(first_only=first_only)
        if batch[-1] is CLOSE or (outbox.closed and not outbox):
            self._mark_drained()
        return batch

    # -- writing to a direct WebSocket (from the scheduler's task) ------------------------------------------

    def attach_writer(self, writer: DirectWriter) -> None:
        """From now on the scheduler writes the outbox to *writer* (a direct WebSocket), once per wake."""
        self._writer = writer
        self._outbox.on_put = self._list_for_flush
        if self._outbox:
            self._list_for_flush()

    def _list_for_flush(self) -> None:
        if not self._flush_listed:
            self._flush_listed = True
            self._scheduler.flush_soon(self)

    def flush(self) -> None:
        """The scheduler's call: write what is queued; if the client is not reading, wait in a task."""
        self._flush_listed = False
        writer = self._writer
        if writer is None or self.close_reason is not None or self._drain_scope is not None:
            return  # a closing session is finished by finish(); a waiting write resumes by itself
        if self._write_out(writer):
            self._scheduler.start_soon(self._wait_writable)

    def _write_out(self, writer: DirectWriter) -> bool:
        # Write every queued batch; True when the writer is left waiting for the client to read.
        outbox = self._outbox
        while outbox:
            batch = outbox.take(first_only=False)
            if not writer.write_now(batch):
                outbox.clear()
                return False
            if writer.blocked:
                return True
        return False

    async def _wait_writable(self) -> None:
        # Only while the client leaves too much unread. A client that never reads misses its pong too, and
        # the heartbeat closes it (cancelling this wait); a flushing close bounds it by flush_timeout.
        writer = self._writer
        assert writer is not None
        scope = self._drain_scope = anyio.CancelScope()
        if self.close_reason is not None:
            scope.deadline = self._clock() + self.config.flush_timeout
        try:
            with scope:
                await writer.drained()
        finally:
            self._drain_scope = None
        if scope.cancelled_caught:
            self._outbox.clear()  # the flush timed out or the close discards the rest
        if self.close_reason is not None:
            self.finish()
        elif not self._flush_listed:
            self.flush()

    # -- back-pressure: room in the outbox, and the client's input (see the module's docstring) --------------

    def make_room(self) -> bool:
        """The outbox is at ``max_buffer_size``: hand it to a transport that takes it now (a direct WebSocket
        whose kernel buffer has room, a held long-poll); True if that made room."""
        writer = self._writer
        if writer is not None:
            writable = self.close_reason is None and self._drain_scope is None and not writer.blocked
            if writable and self._write_out(writer):
                self._scheduler.start_soon(self._wait_writable)
        elif self._held_poll is not None:
            self._held_poll.flush()  # answers at once (take_held), not in the scheduler's next wake
        return len(self._outbox) < self.config.max_buffer_size

    def accepts_input(self) -> bool:
        """Whether the client's next message may be handled now: the outbox is below ``max_buffer_size``
        and no mailbox this session's input feeds is full. When False the transport stops reading."""
        if self._input_holds:
            return False
        return len(self._outbox) < self.config.max_buffer_size or self.make_room()

    def next_turn(self, resume: Flushable) -> None:
        """Call *resume*'s ``flush`` once, in the scheduler's next wake: after the event loop has turned. A
        transport that handed the session ``PACKETS_PER_STEP`` packets of one read waits for it, so that the
        others are served in between."""
        self._scheduler.flush_soon(resume)

    def when_accepting(self, resume: Flushable) -> None:
        """Call *resume*'s ``flush`` once, in the scheduler's next wake, after room is made (an outbox take,
        a ``release_input``) or the session closes; it checks ``accepts_input`` again and may wait anew."""
        self._room_waiters.append(resume)
        self._outbox.on_take = self._room_made
        if self.close_reason is not None:
            self._wake_room_waiters()

    async def until_accepting(self) -> None:
        """Wait until ``accepts_input`` or the session closes (a transport that reads in a task)."""
        while self.close_reason is None and not self.accepts_input():
            await self._room_change()

    async def until_room(self) -> None:
        """Wait until the outbox is below ``max_buffer_size`` or the session closes: a handler in its socket's
        actor waits here before each event, so the actor slows down to its client's pace."""
        while self.close_reason is None and len(self._outbox) >= self.config.max_buffer_size:
            await self._room_change()

    def hold_input(self) -> None:
        """A mailbox this session's input feeds is full: handle no more input until ``release_input``."""
        self._input_holds += 1

    def release_input(self) -> None:
        """The mailbox of a ``hold_input`` has room again."""
        self._input_holds -= 1
        if not self._input_holds:
            self._wake_room_waiters()

    async def _room_change(self) -> None:
        woken = _Woken()
        self.when_accepting(woken)
        await woken.event.wait()

    def _room_made(self) -> None:
        # The outbox's on_take, set only while someone waits for room.
        if len(self._outbox) < self.config.max_buffer_size:
            self._wake_room_waiters()

    def _wake_room_waiters(self) -> None:
        waiters, self._room_waiters = self._room_waiters, []
        self._outbox.on_take = None
        for waiter in waiters:
            self._scheduler.flush_soon(waiter)

    # -- writing to an ASGI WebSocket (from the transport's writer task) ------------------------------------

    async def pump(self, writer: TransportWriter) -> None:
        """Write the outbox to *writer* until the session ends, then ``end`` it (the caller's task)."""
        try:
            while batch := await self.next_batch():
                if not await self._write(writer, batch):
                    break
        finally:
            await writer.end()

    async def _write(self, writer: TransportWriter, batch: list[OutboxEntry]) -> bool:
        # A client that stops reading blocks the write; it is dead once its heartbeat deadline passes.
        with anyio.move_on_after(self._delay(self.machine.liveness_deadline())) as scope:
            self._write_scope = scope
            try:
                return await writer.write_batch(batch)
            finally:
                self._write_scope = None
        if scope.cancelled_caught:
            self.expired()
        return False

    def _delay(self, deadline: float) -> float:
        return deadline - self._clock() if deadline != math.inf else math.inf


class _Woken:
    """A room waiter that sets an event (for the waits of a task)."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = anyio.Event()

    def flush(self) -> None:
        self.event.set()
