"""``TraceRecord``: a trace event with the time it happened, and its JSON-lines form.

One line per record, a JSON object with the ``TraceEvent`` fields that are set plus ``t`` (wall-clock seconds)
and ``seq`` (the hub's counter: a gap tells a reader that events were lost). Control lines carry ``control``
instead of ``kind``: ``hello`` (a console attached), ``lost`` (``count`` events dropped for a slow reader).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from sioactor.actors._trace import TraceEvent, TraceKind

__all__ = ("TraceRecord", "decode_line", "encode_control", "encode_record")

_OPTIONAL = ("message", "depth", "capacity", "detail", "duration")


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
    return orjson.dumps(line, default=repr, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS)


def encode_control(control: str, **values: Any) -> bytes:
    """A control line (``hello``, ``lost``)."""
    return orjson.dumps({"control": control, **values}, option=orjson.OPT_APPEND_NEWLINE)


def decode_line(line: bytes | str) -> TraceRecord | dict[str, Any] | None:
    """A line back: a ``TraceRecord``, a control line's dict, or ``None`` for a line that is neither (a
    newer server's kind, garbage, a blank line): readers skip what they do not understand.
    """
    try:
        obj = orjson.loads(line)
        if not isinstance(obj, dict):
            return None
        if "control" in obj:
            return obj
        event = TraceEvent(
            kind=TraceKind(obj["kind"]),
            actor=str(obj["actor"]),
            actor_kind=str(obj["actor_kind"]),
            fields=obj.get("fields"),
            **{name: obj[name] for name in _OPTIONAL if name in obj},
        )
        return TraceRecord(time=float(obj["t"]), seq=int(obj.get("seq", 0)), event=event)
    except (orjson.JSONDecodeError, KeyError, ValueError, TypeError):
        return None
