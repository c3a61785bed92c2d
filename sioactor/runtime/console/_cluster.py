"""The console's view of a process's link to the cluster's Redis (the actor ``cluster:<url>``, one per
worker), folded from its ``CLUSTER_*`` records: whether it is up and since when, the figures of its latest
``CLUSTER_STATS`` (members, requests in flight, messages in and out, by channel kind when the server counts
them, dropped, the publish queue), and its drops and losses as grouped errors.

A console attached late has seen no ``CLUSTER_CONNECTED``: the first ``CLUSTER_STATS`` says the link is up
(the link reports only while connected), with no time since when.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sioactor.actors._trace import TraceKind
from sioactor.runtime.console._entries import ErrorGroup, LogEntry, add_error
from sioactor.runtime.trace._record import TraceRecord

__all__ = ("ClusterState",)

_ERROR_GROUPS = 20
_CHANNEL_KINDS = 8  # a trace file could name any number: the link itself counts a handful


@dataclass(slots=True)
class ClusterState:
    """One cluster link as its trace records tell it.

    Attributes:
        connected: ``None`` until a record says.
        since: when it last connected or went down (``None``: before this console's first record).
        reason: why it is down (``None`` while up).
        channels: messages ``(in, out)`` by channel kind (``broadcast``, ``request``, ``response``, ...).
        depth: messages queued to publish, of ``capacity``.
    """

    name: str
    connected: bool | None = None
    since: float | None = None
    reason: str | None = None
    members: int | None = None
    pending: int = 0
    messages_in: int = 0
    messages_out: int = 0
    dropped: int = 0
    depth: int = 0
    capacity: int | None = None
    channels: dict[str, tuple[int, int]] = field(default_factory=dict)
    errors: dict[str, ErrorGroup] = field(default_factory=dict)  # by group, least recently seen first

    def apply(self, record: TraceRecord, entry: LogEntry) -> None:
        """Fold in one of the link's records (*entry*: its log line)."""
        event = record.event
        fields = event.fields if isinstance(event.fields, dict) else {}
        self.messages_in = _int(fields.get("in"), self.messages_in)
        self.messages_out = _int(fields.get("out"), self.messages_out)
        self.dropped = _int(fields.get("dropped"), self.dropped)
        if event.kind is TraceKind.CLUSTER_CONNECTED:
            self._now_connected(True, record.time, None)
        elif event.kind is TraceKind.CLUSTER_DISCONNECTED:
            self._now_connected(False, record.time, event.detail or "?")
        elif event.kind is TraceKind.CLUSTER_STATS:
            self._stats(fields, event.depth, event.capacity)
        if entry.error:
            add_error(self.errors, replace(entry, group=_group(entry)), _ERROR_GROUPS)

    def _now_connected(self, connected: bool, time: float, reason: str | None) -> None:
        # Each failed attempt to reconnect says so again: "since" stays at the first.
        if self.connected is not connected:
            self.since = time
        self.connected, self.reason = connected, reason

    def _stats(self, fields: dict[str, object], depth: int | None, capacity: int | None) -> None:
        if self.connected is None:
            self.connected = True
        members = fields.get("members")
        self.members = members if isinstance(members, int) else None
        self.pending = _int(fields.get("pending"), 0)
        self.depth = depth or 0
        self.capacity = capacity if capacity is not None else self.capacity
        channels = fields.get("channels")
        if isinstance(channels, dict):
            counts = {
                str(kind): (_int(count.get("in"), 0), _int(count.get("out"), 0))
                for kind, count in channels.items()
                if isinstance(count, dict)
            }
            self.channels = dict(sorted(counts.items())[:_CHANNEL_KINDS])


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _group(entry: LogEntry) -> str:
    # A drop's text is "<channel>: <reason>"; rooms' channels are countless, so the reason alone groups.
    text = entry.text.partition("#: ")[2] or entry.text
    return f"{entry.kind.value} {text}"
