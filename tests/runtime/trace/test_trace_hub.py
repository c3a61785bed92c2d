"""The hub: stamping, fan-out, redaction, and bounded subscribers that drop instead of blocking."""

from __future__ import annotations

import itertools
from pathlib import Path

import anyio
import pytest

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.trace import (
    TraceHub,
    TraceRecord,
    decode_line,
    encode_control,
    encode_record,
    record_trace,
)


def event(n: int = 0, **kw: object) -> TraceEvent:
    return TraceEvent(kind=TraceKind.ENQUEUED, actor=f"socket:/:s{n}", actor_kind="socket", **kw)  # type: ignore[arg-type]


def fake_clock() -> itertools.count[float]:
    return itertools.count(100.0, 0.5)


def test_no_subscriber_records_nothing() -> None:
    hub = TraceHub()
    hub.record(event())
    with hub.subscribe() as sub:
        hub.record(event(1))
        assert sub.receive_nowait().event.actor == "socket:/:s1"
        with pytest.raises(anyio.WouldBlock):
            sub.receive_nowait()
    assert hub.subscribers == 0


def test_records_are_stamped_and_numbered_for_every_subscriber() -> None:
    clock = fake_clock()
    hub = TraceHub(clock=lambda: next(clock))
    with hub.subscribe() as a, hub.subscribe() as b:
        hub.record(event(1))
        hub.record(event(2))
        for sub in (a, b):
            first, second = sub.receive_nowait(), sub.receive_nowait()
            assert (first.time, first.seq, second.time, second.seq) == (100.0, 1, 100.5, 2)


def test_stalled_subscriber_drops_and_counts_while_others_get_everything() -> None:
    hub = TraceHub()
    with hub.subscribe(buffer=3) as slow, hub.subscribe(buffer=100) as fast:
        for n in range(10):
            hub.record(event(n))
        assert slow.dropped == 7
        assert slow.take_lost() == 7
        assert slow.take_lost() == 0
        assert [slow.receive_nowait().seq for _ in range(3)] == [1, 2, 3]
        assert [fast.receive_nowait().seq for _ in range(10)] == list(range(1, 11))
        assert fast.dropped == 0


def test_payloads_removed_unless_asked_and_secrets_always() -> None:
    fields = {"event": "chat", "args": ["hi"], "auth": {"token": "s3cret"}}
    quiet, loud = TraceHub(), TraceHub(trace_payloads=True)
    with quiet.subscribe() as q, loud.subscribe() as lo:
        quiet.record(event(fields=fields))
        loud.record(event(fields=fields))
        assert q.receive_nowait().event.fields == {"event": "chat"}
        assert lo.receive_nowait().event.fields == {"event": "chat", "args": ["hi"]}


def test_json_line_round_trip_and_unknown_lines() -> None:
    record = TraceRecord(time=1.5, seq=7, event=event(3, depth=2, capacity=8, fields={"event": "x"}))
    line = encode_record(record)
    assert line.endswith(b"\n")
    assert decode_line(line) == record
    assert decode_line(encode_control("lost", count=4)) == {"control": "lost", "count": 4}
    assert decode_line(b'{"t":1,"kind":"from_the_future","actor":"a","actor_kind":"b"}') is None
    assert decode_line(b"not json") is None
    assert decode_line(b"[1]") is None


def test_fields_json_cannot_hold_become_repr() -> None:
    record = TraceRecord(time=1.0, seq=1, event=event(fields={"rooms": frozenset({"a"})}))
    decoded = decode_line(encode_record(record))
    assert isinstance(decoded, TraceRecord)
    assert decoded.event.fields == {"rooms": "frozenset({'a'})"}


@pytest.mark.anyio
async def test_recorder_writes_json_lines(tmp_path: Path) -> None:
    hub = TraceHub()
    path = tmp_path / "trace.jsonl"
    with anyio.fail_after(5):
        async with record_trace(hub, path):
            for n in range(5):
                hub.record(event(n))
            await anyio.wait_all_tasks_blocked()
            hub.record(event(5))
    lines = [decode_line(line) for line in path.read_bytes().splitlines()]
    actors = [r.event.actor for r in lines if isinstance(r, TraceRecord)]
    assert actors == [f"socket:/:s{n}" for n in range(6)]
    assert hub.subscribers == 0


def test_snapshot_is_bounded_per_actor_and_in_actors() -> None:
    hub = TraceHub(snapshot_actors=3)

    def state(kind: TraceKind, actor: str) -> TraceEvent:
        return TraceEvent(kind=kind, actor=actor, actor_kind="socket")

    for n in range(5):  # five actors spawn and never report their stop
        hub.record(state(TraceKind.SPAWNED, f"a{n}"))
    for _ in range(100):
        hub.record(state(TraceKind.ROOM_JOIN, "a4"))
    kept = hub.snapshot()
    assert sorted({r.event.actor for r in kept}) == ["a2", "a3", "a4"]  # the oldest spawns forgotten
    a4 = [r.event.kind for r in kept if r.event.actor == "a4"]
    assert a4[0] is TraceKind.SPAWNED
    assert len(a4) == 32
    hub.record(state(TraceKind.STOPPED, "a4"))
    assert {r.event.actor for r in hub.snapshot()} == {"a2", "a3"}
