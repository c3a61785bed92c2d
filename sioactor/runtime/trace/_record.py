"""``TraceRecord`` (a trace event with the time it happened), ``StatsRecord`` (per-actor message counters
over a short interval) and their JSON-lines form.

One line per record, a JSON object with the ``TraceEvent`` fields that are set plus ``t`` (wall-clock seconds)
and ``seq`` (the hub's counter: records come in ``seq`` order; a gap is a record this reader did not ask for
or lost). A stats line has ``stats`` (the seconds it covers) and ``actors`` (one object per actor that
enqueued or handled messages in that time) instead of ``kind``. Control lines carry ``control``: ``hello``
(a console attached), ``lost`` (``count`` records dropped for a slow reader), ``refused``; a console sends
``messages`` (``actors``: the glob patterns whose per-message records it wants).

A server of several workers (``ServerConfig.workers``) serves one stream per worker, each at
``worker_address(address, index)``: worker 0 at the configured address, worker *i* at ``PORT + i`` or
``unix:/PATH.i``. Each ``hello`` then carries ``worker`` (its index), ``workers`` (the count) and
``endpoints`` (every worker's address, or ``null`` when the port was 0 and so none can be derived), so a
console attached to any one worker finds the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson

from sioactor.actors._trace import TraceEvent, TraceKind

__all__ = (
    "FAULT_KINDS",
    "ActorStats",
    "StatsRecord",
    "TraceItem",
    "TraceRecord",
    "decode_line",
    "encode_control",
    "encode_item",
    "encode_record",
    "encode_stats",
    "worker_address",
)

_OPTIONAL = ("message", "depth", "capacity", "detail", "duration")

# The kinds that report something gone wrong: the console's errors, the totals a server keeps of them.
FAULT_KINDS = frozenset(
    {
        TraceKind.FAILED,
        TraceKind.HANDLER_FAILED,
        TraceKind.PROTOCOL_ERROR,
        TraceKind.MAILBOX_FULL,
        TraceKind.CLOSED,
        TraceKind.ACK_TIMEOUT,
        TraceKind.HEARTBEAT_TIMEOUT,
        TraceKind.LOOP_STALL,
        TraceKind.CLUSTER_DISCONNECTED,
        TraceKind.CLUSTER_DROPPED,
    }
)


# Not frozen for the same reason as ``TraceEvent``: one is built per traced message; treat it as immutable.
@dataclass(slots=True, kw_only=True)
class TraceRecord:
    """One trace event as a sink sees it (shared by every subscriber: do not mutate it).

    Attributes:
        time: wall-clock seconds (``time.time()``) when the hub took the event.
        seq: the hub's running count; a reader's consecutive records differ by 1 unless some were lost.
        event: the event itself.
    """

    time: float
    seq: int
    event: TraceEvent


# Not frozen either: a flush builds one per active actor, four times a second. Treat it as immutable.
@dataclass(slots=True, kw_only=True)
class ActorStats:
    """What one actor's per-message events added up to over a ``StatsRecord``'s interval.

    Attributes:
        actor: the actor's name.
        actor_kind: its kind.
        enqueued: messages put in its mailbox.
        handled: messages it finished handling.
        messages: ``enqueued`` by message type name (``EventReceived``, ``str`` ...).
        depth: the mailbox fill at the last event (``None``: no event said).
        depth_max: the highest fill an event reported in the interval.
        capacity: the mailbox capacity, when known.
        handling: seconds spent handling the ``handled`` messages, in total.
        handling_max: the longest single handling, in seconds.
        last: the last message's event name (``fields["event"]``), else its type name.
    """

    actor: str
    actor_kind: str
    enqueued: int = 0
    handled: int = 0
    messages: dict[str, int] | None = None
    depth: int | None = None
    depth_max: int | None = None
    capacity: int | None = None
    handling: float = 0.0
    handling_max: float = 0.0
    last: str | None = None


@dataclass(slots=True, kw_only=True)
class StatsRecord:
    """The message counters of the actors that were busy during the last *interval* seconds.

    Attributes:
        time: wall-clock seconds when the hub flushed the counters.
        interval: the seconds the counts cover (``0`` in the first records of a summarised stream, which
            tell the reader that per-message counts come as stats from now on).
        actors: one entry per busy actor.
        totals: the first records of a summarised stream: each actor's counts since summaries began, to
            start from rather than add (so subscribers that came at different times count alike).
    """

    time: float
    interval: float
    actors: tuple[ActorStats, ...] = ()
    totals: bool = False


TraceItem = TraceRecord | StatsRecord
"""What a subscription yields."""

_STAT_FIELDS = ("messages", "depth", "depth_max", "capacity", "last")


def encode_record(record: TraceRecord) -> bytes:
    """The record as one JSON line (ending in ``\\n``). Field values that JSON cannot hold become ``repr``."""
    event = record.event
    line: dict[str, Any] = {
        "t": record.time,
        "seq": record.seq,
        "kind": event.kind.value,
        "actor": event.actor,
        "actor_kind": event.actor_kind,
    }
    for name in _OPTIONAL:
        value = getattr(event, name)
        if value is not None:
            line[name] = value
    if event.fields:
        line["fields"] = dict(event.fields)
    try:
        return orjson.dumps(line, default=repr, option=_RECORD_OPTIONS)
    except TypeError:
        # What orjson refuses rather than hand to default: keys that are not str, int, float, bool or None
        # (a msgpack client's bytes keys), integers past 64 bits, nesting past 255 levels. A client sends
        # these as event arguments, so the line is written with them as repr, not the recorder stopped.
        return orjson.dumps(_json_safe(line, 0), default=repr, option=_RECORD_OPTIONS)


_RECORD_OPTIONS: Final = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
_SAFE_DEPTH: Final = 200  # under orjson's limit of 255, with room for the line's own levels
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1


def _json_safe(value: Any, depth: int) -> Any:
    """*value* with every dict key a str, every integer within 64 bits, and anything nested deeper than
    ``_SAFE_DEPTH`` as its repr."""
    if depth > _SAFE_DEPTH:
        return repr(value)
    if isinstance(value, dict):
        return {
            key if type(key) is str else repr(key): _json_safe(item, depth + 1) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_json_safe(item, depth + 1) for item in value]
    if type(value) is int and not _INT64_MIN <= value <= _UINT64_MAX:
        return repr(value)
    return value


def encode_stats(record: StatsRecord) -> bytes:
    """The stats record as one JSON line; counters that are zero or unknown are left out."""
    actors = []
    for stats in record.actors:
        entry: dict[str, Any] = {"actor": stats.actor, "actor_kind": stats.actor_kind}
        for name in ("enqueued", "handled", "handling", "handling_max"):
            if value := getattr(stats, name):
                entry[name] = value
        for name in _STAT_FIELDS:
            value = getattr(stats, name)
            if value is not None:
                entry[name] = value
        actors.append(entry)
    line = {"t": record.time, "stats": record.interval, "actors": actors}
    if record.totals:
        line["totals"] = True
    return orjson.dumps(line, default=repr, option=orjson.OPT_APPEND_NEWLINE)


def encode_item(item: TraceItem) -> bytes:
    """A ``TraceRecord`` or a ``StatsRecord`` as one JSON line."""
    return encode_record(item) if isinstance(item, TraceRecord) else encode_stats(item)


def encode_control(control: str, **values: Any) -> bytes:
    """A control line (``hello``, ``lost``)."""
    return orjson.dumps({"control": control, **values}, option=orjson.OPT_APPEND_NEWLINE)


def worker_address(address: str, index: int) -> str:
    """Where worker *index* of a multi-worker server serves its trace when the server's endpoint is
    *address* (``HOST:PORT``, ``PORT`` or ``unix:/PATH``): ``PORT + index``, ``unix:/PATH.index``; worker 0
    serves at *address* itself. A port of 0 stays 0 (each worker takes a free port of its own)."""
    if index == 0:
        return address
    if address.startswith("unix:"):
        return f"{address}.{index}"
    host, colon, port = address.rpartition(":")
    if int(port) == 0:
        return address
    return f"{host}{colon}{int(port) + index}"


def decode_line(line: bytes | str) -> TraceItem | dict[str, Any] | None:
    """A line back: a ``TraceRecord``, a ``StatsRecord``, a control line's dict, or ``None`` for a line that
    is none of those (a newer server's kind, garbage, a blank line): readers skip what they do not understand.
    """
    try:
        obj = orjson.loads(line)
        if not isinstance(obj, dict):
            return None
        if "control" in obj:
            return obj
        if "stats" in obj:
            return _decode_stats(obj)
        event = TraceEvent(
            kind=TraceKind(obj["kind"]),
            actor=str(obj["actor"]),
            actor_kind=str(obj["actor_kind"]),
            fields=obj.get("fields"),
            **{name: obj[name] for name in _OPTIONAL if name in obj},
        )
        return TraceRecord(time=float(obj["t"]), seq=int(obj.get("seq", 0)), event=event)
    except (orjson.JSONDecodeError, KeyError, ValueError, TypeError, AttributeError):
        return None


def _decode_stats(obj: dict[str, Any]) -> StatsRecord:
    actors = []
    for entry in obj.get("actors", ()):
        messages = entry.get("messages")
        actors.append(
            ActorStats(
                actor=str(entry["actor"]),
                actor_kind=str(entry["actor_kind"]),
                enqueued=int(entry.get("enqueued", 0)),
                handled=int(entry.get("handled", 0)),
                messages=None if messages is None else {str(k): int(v) for k, v in messages.items()},
                depth=entry.get("depth"),
                depth_max=entry.get("depth_max"),
                capacity=entry.get("capacity"),
                handling=float(entry.get("handling", 0.0)),
                handling_max=float(entry.get("handling_max", 0.0)),
                last=entry.get("last"),
            )
        )
    return StatsRecord(
        time=float(obj["t"]),
        interval=float(obj["stats"]),
        actors=tuple(actors),
        totals=obj.get("totals") is True,
    )
