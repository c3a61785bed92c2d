"""The console's model: what the trace says about the server, as plain data (no I/O, no rendering).

``ConsoleModel.apply(record)`` folds one ``TraceRecord`` in, ``apply_stats`` one ``StatsRecord`` (the
per-actor message counters a server flushes a few times a second); views read the result. Message counts,
rates and handling times come from the stats once the stream has any (``summarised``: a live endpoint, a
summarising recorder), else from the per-message records (an older or a full recording); per-message records
always feed the log. Times are the records'
own, so a replay shows the rates it had when recorded; ``tick(now)`` lets a live console age its rates while
the trace is quiet. Everything is bounded: the log, each socket's recent messages, and stopped actors (the
oldest are forgotten once ``_KEEP_STOPPED`` have piled up).
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from sioactor.actors._trace import TraceKind
from sioactor.runtime.console._cluster import ClusterState
from sioactor.runtime.console._entries import ErrorGroup, LogEntry, add_error
from sioactor.runtime.trace._record import FAULT_KINDS, ActorStats, StatsRecord, TraceRecord

__all__ = (
    "ERROR_KINDS",
    "ActorState",
    "ClusterState",
    "ConsoleModel",
    "ErrorGroup",
    "LogEntry",
    "SlidingRate",
    "SocketState",
)
ERROR_KINDS = FAULT_KINDS
_MESSAGE_KINDS = (TraceKind.ENQUEUED, TraceKind.HANDLED)
_LOG_SIZE = 5000
_RECENT_SIZE = 50
_KEEP_STOPPED = 200
RATE_WINDOW = 5.0


class SlidingRate:
    """Events per second over the last ``window`` seconds (of record time)."""

    __slots__ = ("_counts", "_total", "window")

    def __init__(self, window: float = RATE_WINDOW) -> None:
        self.window = window
        self._counts: deque[tuple[float, int]] = deque()
        self._total = 0

    def add(self, time: float, count: int = 1) -> None:
        """Count *count* events at *time*."""
        if count:
            self._counts.append((time, count))
            self._total += count

    def rate(self, now: float) -> float:
        """The rate at *now*, forgetting events older than the window."""
        counts = self._counts
        while counts and counts[0][0] <= now - self.window:
            self._total -= counts.popleft()[1]
        return self._total / self.window


@dataclass(slots=True)
class ActorState:
    """One actor as the trace shows it: mailbox fill, counts, rate, and whether it still runs."""

    name: str
    kind: str
    alive: bool = True
    depth: int = 0
    capacity: int | None = None
    enqueued: int = 0
    handled: int = 0
    failures: int = 0
    full: int = 0
    stop_reason: str | None = None
    rate: SlidingRate = field(default_factory=SlidingRate)
    depth_max: int | None = None
    handling: float = 0.0
    handling_max: float = 0.0
    last: str | None = None

    @property
    def handling_mean(self) -> float | None:
        """Mean seconds per handled message, when the trace said how long (stats only)."""
        return self.handling / self.handled if self.handled and self.handling else None


@dataclass(slots=True)
class SocketState:
    """One Socket.IO socket (a ``socket:<ns>:<sid>`` actor) and what the trace told about it."""

    name: str
    namespace: str
    sid: str
    engine: str | None = None
    transport: str | None = None
    protocol: int | None = None
    rooms: set[str] = field(default_factory=set)
    pending_acks: dict[str, float] = field(default_factory=dict)
    recent: deque[LogEntry] = field(default_factory=lambda: deque(maxlen=_RECENT_SIZE))
    errors: dict[str, ErrorGroup] = field(default_factory=dict)  # by group, least recently seen first

    def add_error(self, entry: LogEntry) -> None:
        """Count *entry* in its group (a new group past ``_RECENT_SIZE`` forgets the stalest)."""
        add_error(self.errors, entry, _RECENT_SIZE)


def split_socket_name(name: str) -> tuple[str, str] | None:
    """``socket:/chat:SID`` → ``("/chat", "SID")``; ``None`` for any other actor name."""
    if not name.startswith("socket:"):
        return None
    namespace, _, sid = name[len("socket:") :].rpartition(":")
    return (namespace, sid) if namespace and sid else None


def parse_rooms(detail: str | None, fields: object) -> set[str]:
    """The rooms of a join/leave: ``fields["rooms"]`` if given, else the ``repr`` in *detail* (older
    traces). A leave of every room has ``fields["rooms"]`` null: see ``_socket_event``.
    """
    value: object = fields.get("rooms") if isinstance(fields, dict) else None
    if value is None and detail:
        try:
            value = ast.literal_eval(detail)
        except (ValueError, SyntaxError):
            value = detail
    if isinstance(value, str):
        return {value}
    if isinstance(value, list | tuple | set | frozenset):
        return {str(room) for room in value}
    return set()


class ConsoleModel:
    """Actors, sockets, rooms, the message log and the summary counters, built from trace records."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new server: the console reconnected)."""
        self.actors: dict[str, ActorState] = {}
        self.sockets: dict[str, SocketState] = {}
        self.clusters: dict[str, ClusterState] = {}  # by link actor (``cluster:<url>``)
        self.log: deque[LogEntry] = deque(maxlen=_LOG_SIZE)
        self.now = 0.0
        self.records = 0
        self.lost = 0
        self.errors = 0
        self.mailbox_full = 0
        self.rate_in = SlidingRate()
        self.rate_out = SlidingRate()
        self._stopped: deque[str] = deque()
        self.upgraded: set[str] = set()
        self.summarised = False
        self.engine_sockets: dict[str, list[str]] = {}  # engine session → its sockets' actor names
        self._totals: dict[str, tuple[int, int]] = {}  # worker mark → its errors and full mailboxes at attach

    def tick(self, now: float) -> None:
        """Advance the model's clock without a record (a live console on a quiet server)."""
        self.now = max(self.now, now)

    def apply_totals(self, totals: object, worker: str = "") -> None:
        """The server's counts of each record kind since it started (a ``hello``'s ``totals``), so that a
        console attached late shows the same error counts as one attached from the start. Each *worker* of
        a multi-worker server (its mark) has its own, which replace that worker's previous ones."""
        if not isinstance(totals, dict):
            return
        counts = {kind: int(totals.get(kind.value, 0) or 0) for kind in ERROR_KINDS}
        errors, full = sum(counts.values()), counts[TraceKind.MAILBOX_FULL]
        old_errors, old_full = self._totals.get(worker, (0, 0))
        self._totals[worker] = (errors, full)
        self.errors += errors - old_errors
        self.mailbox_full += full - old_full

    def forget_worker(self, mark: str) -> None:
        """Forget the actors of the worker whose names end with *mark* (it restarted, or the console
        reconnected to it: its hello's snapshot tells them again)."""
        for name in [name for name in self.actors if name.endswith(mark)]:
            del self.actors[name]
            self.sockets.pop(name, None)
            self.clusters.pop(name, None)
            self.engine_sockets.pop(name, None)
            self.upgraded.discard(name)
        self._stopped = deque(name for name in self._stopped if not name.endswith(mark))

    def note_lost(self, count: int) -> None:
        """The source reported *count* records it could not deliver."""
        self.lost += count

    def apply_all(self, records: Iterable[TraceRecord]) -> None:
        """Fold in several records."""
        for record in records:
            self.apply(record)

    def apply(self, record: TraceRecord) -> None:
        """Fold in one record."""
        event = record.event
        self.records += 1
        self.now = max(self.now, record.time)
        actor = self._actor(event.actor, event.actor_kind)
        if event.depth is not None:
            actor.depth = event.depth
        if event.capacity is not None:
            actor.capacity = event.capacity
        socket = self.sockets.get(event.actor)
        if socket is None and event.kind is TraceKind.SPAWNED:
            socket = self._new_socket(event.actor, event.fields)
        self._count(actor, socket, record)
        entry = self._entry(record, socket)
        self.log.append(entry)
        if event.actor_kind == "cluster":
            self.clusters.setdefault(event.actor, ClusterState(event.actor)).apply(record, entry)
        if socket is not None:
            self._show_on(socket, entry)
        elif event.actor_kind == "engine_session":
            # A session's outbox belongs to its sockets' clients: its records show in their views too.
            for name in self.engine_sockets.get(event.actor, ()):
                mine = self.sockets.get(name)
                if mine is not None:
                    self._show_on(mine, entry)

    @staticmethod
    def _show_on(socket: SocketState, entry: LogEntry) -> None:
        socket.recent.append(entry)
        if entry.error:
            socket.add_error(entry)

    def apply_stats(self, record: StatsRecord) -> None:
        """Fold in one flush of message counters: from now on counts come from stats, not from records. A
        ``totals`` record is the server's counts so far (sent to a console as it attaches): they set
        the counts rather than add to them, and no rate."""
        self.summarised = True
        self.now = max(self.now, record.time)
        for stats in record.actors:
            actor = self._actor(stats.actor, stats.actor_kind)
            if record.totals:
                actor.enqueued, actor.handled, actor.handling = stats.enqueued, stats.handled, stats.handling
                actor.handling_max = stats.handling_max
            else:
                self._fold_stats(actor, stats, record.time)

    def _fold_stats(self, actor: ActorState, stats: ActorStats, time: float) -> None:
        actor.enqueued += stats.enqueued
        actor.handled += stats.handled
        actor.rate.add(time, stats.enqueued)
        actor.handling += stats.handling
        actor.handling_max = max(actor.handling_max, stats.handling_max)
        actor.depth_max = stats.depth_max  # the peak of the last interval: a gauge's recent high-water mark
        if stats.depth is not None:
            actor.depth = stats.depth
        if stats.capacity is not None:
            actor.capacity = stats.capacity
        if stats.last is not None:
            actor.last = stats.last
        # Out: packets queued for clients (engine session outboxes); in: events from clients.
        if actor.kind == "engine_session":
            self.rate_out.add(time, stats.enqueued)
        elif stats.messages:
            self.rate_in.add(time, stats.messages.get("EventReceived", 0))

    # --- folding ----------------------------------------------------------------------------------------

    def _actor(self, name: str, kind: str) -> ActorState:
        actor = self.actors.get(name)
        if actor is None:
            actor = self.actors[name] = ActorState(name, kind)
        return actor

    def _new_socket(self, name: str, fields: object) -> SocketState | None:
        parts = split_socket_name(name)
        if parts is None:
            return None
        info = fields if isinstance(fields, dict) else {}
        socket = SocketState(
            name,
            parts[0],
            parts[1],
            engine=info.get("engine"),
            transport=info.get("transport"),
            protocol=info.get("protocol"),
        )
        socket.rooms.add(parts[1])
        self.sockets[name] = socket
        if socket.engine is not None:
            self.engine_sockets.setdefault(socket.engine, []).append(name)
        return socket

    def _count(self, actor: ActorState, socket: SocketState | None, record: TraceRecord) -> None:
        event, kind = record.event, record.event.kind
        if kind in _MESSAGE_KINDS and self.summarised:
            pass  # counted by the stats: this record is for the log
        elif kind is TraceKind.ENQUEUED:
            actor.enqueued += 1
            actor.rate.add(record.time)
            # Out: packets queued for a client (an engine session's outbox); in: events from clients.
            if actor.kind == "engine_session":
                self.rate_out.add(record.time)
            elif event.message == "EventReceived":
                self.rate_in.add(record.time)
        elif kind is TraceKind.HANDLED:
            actor.handled += 1
        elif kind is TraceKind.SPAWNED:
            actor.alive = True
        elif kind is TraceKind.STOPPED:
            self._stopped_actor(actor, event.detail)
        elif kind is TraceKind.UPGRADE:
            self.upgraded.add(actor.name)
        if kind in ERROR_KINDS:
            self.errors += 1
            actor.failures += 1
        if kind is TraceKind.MAILBOX_FULL:
            self.mailbox_full += 1
            actor.full += 1
        if socket is not None:
            self._socket_event(socket, record)

    def _socket_event(self, socket: SocketState, record: TraceRecord) -> None:
        event, kind = record.event, record.event.kind
        if kind is TraceKind.ROOM_JOIN:
            socket.rooms |= parse_rooms(event.detail, event.fields)
        elif kind is TraceKind.ROOM_LEAVE:
            if isinstance(event.fields, dict) and event.fields.get("rooms", ()) is None:
                socket.rooms.clear()  # leave_all: the own-id room too
            else:
                socket.rooms -= parse_rooms(event.detail, event.fields)
        elif kind is TraceKind.ACK_REQUESTED and event.detail is not None:
            socket.pending_acks[event.detail] = record.time
        elif kind in (TraceKind.ACK_RECEIVED, TraceKind.ACK_TIMEOUT) and event.detail is not None:
            socket.pending_acks.pop(event.detail, None)
        elif kind is TraceKind.STOPPED:
            socket.pending_acks.clear()  # the server failed them with AckClosed

    def _stopped_actor(self, actor: ActorState, reason: str | None) -> None:
        actor.alive = False
        actor.stop_reason = reason
        self._stopped.append(actor.name)
        while len(self._stopped) > _KEEP_STOPPED:
            gone = self._stopped.popleft()
            stale = self.actors.get(gone)
            if stale is not None and not stale.alive:
                del self.actors[gone]
                self.upgraded.discard(gone)
                self.engine_sockets.pop(gone, None)
                socket = self.sockets.pop(gone, None)
                if socket is not None and socket.engine in self.engine_sockets:
                    self._unlink(socket.engine, gone)

    def _unlink(self, engine: str, socket: str) -> None:
        names = self.engine_sockets[engine]
        if socket in names:
            names.remove(socket)
        if not names:
            del self.engine_sockets[engine]

    def _entry(self, record: TraceRecord, socket: SocketState | None) -> LogEntry:
        event = record.event
        fields = event.fields if isinstance(event.fields, dict) else {}
        name = fields.get("event")
        error = event.kind in ERROR_KINDS
        return LogEntry(
            time=record.time,
            seq=record.seq,
            kind=event.kind,
            actor=event.actor,
            actor_kind=event.actor_kind,
            namespace=None if socket is None else socket.namespace,
            sid=_sid_of(event.actor, event.actor_kind, socket),
            event=None if name is None else str(name),
            text=(self._owners(event.actor) if error and socket is None else "") + describe(record),
            error=error,
            group=f"{event.kind.value} {name} {_error_type(event.detail)}" if error else "",
        )

    def _owners(self, engine: str) -> str:
        # An engine session's error names the sockets whose client it is (a slow consumer's outbox).
        sids = [name.rpartition(":")[2] for name in self.engine_sockets.get(engine, ())]
        return f"socket {', '.join(sids)}: " if sids else ""

    # --- queries ----------------------------------------------------------------------------------------

    def live_sockets(self) -> list[SocketState]:
        """Sockets whose actor still runs, by namespace then sid."""
        alive = [s for s in self.sockets.values() if self.actors[s.name].alive]
        return sorted(alive, key=lambda s: (s.namespace, s.sid))

    def namespaces(self) -> dict[str, list[SocketState]]:
        """Live sockets grouped by namespace."""
        grouped: dict[str, list[SocketState]] = {}
        for socket in self.live_sockets():
            grouped.setdefault(socket.namespace, []).append(socket)
        return grouped

    def rooms(self, namespace: str) -> dict[str, list[str]]:
        """Room → member sids in *namespace* (each socket's own-sid room left out)."""
        rooms: dict[str, list[str]] = {}
        for socket in self.namespaces().get(namespace, []):
            for room in socket.rooms - {socket.sid}:
                rooms.setdefault(room, []).append(socket.sid)
        return dict(sorted(rooms.items()))

    def engine_sessions(self) -> list[ActorState]:
        """Live engine sessions."""
        return [a for a in self.actors.values() if a.kind == "engine_session" and a.alive]

    def other_actors(self) -> list[ActorState]:
        """Live actors that are neither sockets, engine sessions nor cluster links (those have a panel)."""
        skip = {"socket", "engine_session", "client", "cluster"}
        return [a for a in self.actors.values() if a.kind not in skip and a.alive]

    def transport_of(self, socket: SocketState) -> str:
        """``websocket`` once the socket's engine session upgraded, else the transport it started on (``?``
        when the trace did not say).
        """
        if socket.engine is not None and socket.engine in self.upgraded:
            return "websocket"
        return socket.transport or "?"


def _sid_of(actor: str, kind: str, socket: SocketState | None) -> str | None:
    # A log line's sid: the socket's, or an engine session's own (the sid filter matches either).
    if socket is not None:
        return socket.sid
    return actor if kind == "engine_session" else None


def _error_type(detail: str | None) -> str:
    # ``InternalChannelFull('socket:/:x', ...)`` → ``InternalChannelFull``: the arguments differ each time.
    if not detail:
        return ""
    head = detail.split("(", 1)[0]
    return head if head.isidentifier() else detail[:40]


def describe(record: TraceRecord) -> str:
    """A one-line summary of a record for the log."""
    event = record.event
    parts = [event.kind.value]
    fields = event.fields if isinstance(event.fields, dict) else {}
    if "event" in fields:
        parts.append(repr(fields["event"]))
    if event.message:
        parts.append(event.message)
    if event.depth is not None and event.capacity:
        parts.append(f"{event.depth}/{event.capacity}")
    if event.duration is not None:
        parts.append(f"{event.duration * 1e3:.2f} ms")
    if "size" in fields:
        parts.append(f"{fields['size']} B")
    if event.detail:
        parts.append(event.detail if len(event.detail) <= 120 else event.detail[:117] + "...")
    return " ".join(parts)
