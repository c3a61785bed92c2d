"""The hub: stamping, fan-out, redaction, and bounded subscribers that drop instead of blocking."""

from __future__ import annotations

import itertools
from pathlib import Path

import anyio
import pytest

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.trace import (
    ActorStats,
    StatsRecord,
    TraceHub,
    TraceRecord,
    TraceSubscription,
    decode_line,
    encode_control,
    encode_record,
    encode_stats,
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


def test_payloads_with_keys_ints_or_depth_json_cannot_hold_become_repr() -> None:
    # What a msgpack client may send as event arguments (a JSON one big integers and deep arrays): orjson
    # refuses them (bytes and tuple keys, integers past 64 bits, nesting past 255) rather than call default.
    deep: list[object] = []
    for _ in range(300):
        deep = [deep]
    args = [{b"k": 1}, {(1, 2): 3}, 2**64, -(2**63) - 1, {2**70: "v"}, deep, {"fine": [1, None]}]
    record = TraceRecord(time=1.0, seq=1, event=event(fields={"event": "echo", "args": args}))
    decoded = decode_line(encode_record(record))
    assert isinstance(decoded, TraceRecord)
    shown = decoded.event.fields["args"]
    assert shown[:5] == [
        {"b'k'": 1},
        {"(1, 2)": 3},
        "18446744073709551616",
        "-9223372036854775809",
        {repr(2**70): "v"},
    ]
    assert "[[[[" in str(shown[5])
    assert shown[6] == {"fine": [1, None]}


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


def handled(actor: str, duration: float, depth: int) -> TraceEvent:
    return TraceEvent(
        kind=TraceKind.HANDLED, actor=actor, actor_kind="socket", duration=duration, depth=depth, capacity=8
    )


def test_summaries_count_messages_per_actor_and_flush_only_busy_actors() -> None:
    clock = fake_clock()
    hub = TraceHub(clock=lambda: next(clock))
    with hub.subscribe(messages=(), summaries=True) as sub:
        marker = sub.receive_nowait()
        assert isinstance(marker, StatsRecord)
        assert marker.actors == ()
        hub.record(event(1, message="EventReceived", depth=3))
        hub.record(event(1, message="EventReceived", depth=1, fields={"event": "chat"}))
        hub.record(handled("socket:/:s1", 0.002, 0))
        hub.record(handled("socket:/:s1", 0.004, 5))
        with pytest.raises(anyio.WouldBlock):
            sub.receive_nowait()  # counted, no record per message
        hub.flush()
        stats = sub.receive_nowait()
        assert isinstance(stats, StatsRecord)
        (s1,) = stats.actors
        assert (s1.enqueued, s1.handled, s1.messages) == (2, 2, {"EventReceived": 2})
        assert (s1.depth, s1.depth_max, s1.capacity, s1.last) == (5, 5, 8, "chat")
        assert (s1.handling, s1.handling_max) == (pytest.approx(0.006), 0.004)
        assert stats.interval > 0
        hub.flush()  # nobody was busy: nothing sent
        with pytest.raises(anyio.WouldBlock):
            sub.receive_nowait()
        hub.record(event(1, message="Emit"))
        hub.flush()
        (again,) = sub.receive_nowait().actors  # type: ignore[union-attr]
        assert (again.enqueued, again.handled, again.messages, again.depth_max) == (1, 0, {"Emit": 1}, None)


def test_last_counts_go_out_before_the_stopped_record() -> None:
    hub = TraceHub()
    with hub.subscribe(messages=(), summaries=True) as sub:
        sub.receive_nowait()
        hub.record(event(1))
        hub.record(TraceEvent(kind=TraceKind.STOPPED, actor="socket:/:s1", actor_kind="socket"))
        hub.flush()
        stats, stopped = sub.receive_nowait(), sub.receive_nowait()
        assert isinstance(stats, StatsRecord)
        assert [s.enqueued for s in stats.actors] == [1]
        assert isinstance(stopped, TraceRecord)
        assert stopped.event.kind is TraceKind.STOPPED
        with pytest.raises(anyio.WouldBlock):
            sub.receive_nowait()


def test_message_records_only_for_selected_actors() -> None:
    hub = TraceHub()
    with hub.subscribe(messages=["socket:/:s1"]) as one, hub.subscribe(messages=["kind:socket"]) as every:
        hub.record(event(1))
        hub.record(event(2))
        assert [r.event.actor for r in drain(one)] == ["socket:/:s1"]
        assert [r.event.actor for r in drain(every)] == ["socket:/:s1", "socket:/:s2"]
        one.select(["socket:/:s2", "x" * 10_000])  # an overlong pattern is ignored
        assert one.messages == ("socket:/:s2",)
        hub.record(event(1))
        hub.record(event(2))
        assert [r.event.actor for r in drain(one)] == ["socket:/:s2"]


def drain(sub: TraceSubscription) -> list[TraceRecord]:
    items = []
    while True:
        try:
            item = sub.receive_nowait()
        except anyio.WouldBlock:
            return items
        assert isinstance(item, TraceRecord)
        items.append(item)


def test_stats_line_round_trip() -> None:
    stats = ActorStats(actor="E", actor_kind="engine_session", enqueued=3, messages={"str": 3}, depth=2)
    record = StatsRecord(time=2.0, interval=0.25, actors=(stats,))
    assert decode_line(encode_stats(record)) == record
    assert decode_line(b'{"t": 1, "stats": 0.25, "actors": [1]}') is None


@pytest.mark.anyio
async def test_summarising_recorder_writes_counts_and_replays(tmp_path: Path) -> None:
    hub = TraceHub()
    path = tmp_path / "trace.jsonl"
    with anyio.fail_after(5):
        async with record_trace(hub, path, summaries=True):
            hub.record(TraceEvent(kind=TraceKind.SPAWNED, actor="socket:/:s1", actor_kind="socket"))
            for _ in range(5):
                hub.record(event(1, message="EventReceived"))
    items = [decode_line(line) for line in path.read_bytes().splitlines()]
    assert [type(i).__name__ for i in items] == ["StatsRecord", "TraceRecord", "StatsRecord"]
    assert items[2].actors[0].enqueued == 5  # type: ignore[union-attr]
