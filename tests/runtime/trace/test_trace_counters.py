"""The hub's message counters as handed to actors (``TraceHub.message_counter``): counts without events,
detail for selected actors, labels at flush time, and what a real actor under a real supervisor reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import pytest

from sioactor.actors._actor import Actor
from sioactor.actors._supervisor import Supervisor
from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.trace import StatsRecord, TraceHub, TraceRecord, TraceSubscription


@dataclass(frozen=True, slots=True)
class Chat:
    event: str


def describe(message: Any) -> Mapping[str, Any] | None:
    return {"event": message.event} if isinstance(message, Chat) else None


def items(sub: TraceSubscription) -> list[object]:
    found: list[object] = []
    while True:
        try:
            found.append(sub.receive_nowait())
        except anyio.WouldBlock:
            return found


def test_counts_go_into_the_stats_of_a_summarising_subscriber() -> None:
    hub = TraceHub()
    counter = hub.message_counter("socket:/:a", "socket", 8, describe)
    with hub.subscribe(messages=(), summaries=True) as sub:
        sub.receive_nowait()
        assert not counter.detail
        counter.enqueued(Chat("hello"), 2)
        counter.enqueued(Chat("bye"), 4)
        counter.handled(0.003, 1)
        hub.flush()
        (stats,) = items(sub)
        assert isinstance(stats, StatsRecord)
        (s,) = stats.actors
        assert (s.actor, s.actor_kind, s.enqueued, s.handled, s.messages) == (
            "socket:/:a",
            "socket",
            2,
            1,
            {"Chat": 2},
        )
        assert (s.depth, s.depth_max, s.capacity, s.handling, s.last) == (1, 4, 8, 0.003, "bye")
        assert counter.last == "bye"  # the message itself is not kept past the flush
        hub.flush()
        assert items(sub) == []  # idle since: nothing sent


def test_queued_counts_one_sort_of_message_without_types() -> None:
    hub = TraceHub()
    counter = hub.message_counter("E1", "engine_session", 128, None)
    with hub.subscribe(messages=(), summaries=True) as sub:
        sub.receive_nowait()
        counter.queued("4hello", 3)
        counter.queued("4bye", 1)
        hub.flush()
        (stats,) = items(sub)
        assert isinstance(stats, StatsRecord)
        (s,) = stats.actors
        assert (s.enqueued, s.messages, s.depth, s.depth_max) == (2, None, 1, 3)
        assert (s.capacity, s.last) == (128, "str")


def test_a_selected_actor_gets_detail_and_its_events_are_counted_once() -> None:
    hub = TraceHub()
    counter = hub.message_counter("socket:/:a", "socket", 8, describe)
    other = hub.message_counter("socket:/:b", "socket", 8, describe)
    with hub.subscribe(messages=(), summaries=True) as console:
        console.receive_nowait()
        console.select(["socket:/:a"])
        assert counter.detail
        assert not other.detail
        hub.record(
            TraceEvent(kind=TraceKind.ENQUEUED, actor="socket:/:a", actor_kind="socket", message="Chat")
        )
        hub.flush()
        record, stats = items(console)
        assert isinstance(record, TraceRecord)
        assert record.event.actor == "socket:/:a"
        assert isinstance(stats, StatsRecord)
        assert [s.enqueued for s in stats.actors] == [1]
        console.select([])
        assert not counter.detail


def test_the_counter_is_on_while_some_subscriber_wants_counts_or_records() -> None:
    hub = TraceHub()
    counter = hub.message_counter("e1", "engine_session")
    assert not counter.on
    with hub.subscribe(messages=(), summaries=True):
        assert counter.on
        assert not counter.detail
    assert not counter.on
    with hub.subscribe():  # every record, no summaries: the actor sends events (detail)
        assert counter.on
        assert counter.detail
    with hub.subscribe(messages=["other"]):  # records of other actors only
        assert not counter.on


def test_counters_are_bounded_and_an_evicted_one_is_off() -> None:
    hub = TraceHub(snapshot_actors=2)
    with hub.subscribe(messages=(), summaries=True):
        first = hub.message_counter("a", "socket")
        assert first.on
        hub.message_counter("b", "socket")
        hub.message_counter("c", "socket")
        assert not first.on  # its actor reports no more messages
        assert not first.detail


class Talker(Actor[Chat]):
    kind = "socket"

    def trace_fields(self, message: Chat) -> Mapping[str, Any] | None:
        return describe(message)


@pytest.mark.anyio
async def test_an_actor_under_a_hub_reports_counts_then_stops_after_them() -> None:
    hub = TraceHub()
    with hub.subscribe(messages=(), summaries=True) as sub:
        sub.receive_nowait()
        async with Supervisor(tracer=hub) as sup:
            ref = await sup.spawn(Talker("socket:/:t", mailbox_size=4, linger=0))
            for name in ("one", "two", "three"):
                ref.tell(Chat(name))
            with anyio.fail_after(5):
                await anyio.wait_all_tasks_blocked()
        found = items(sub)
    kinds = [type(i).__name__ if isinstance(i, StatsRecord) else i.event.kind for i in found]  # type: ignore[attr-defined]
    assert kinds == [TraceKind.SPAWNED, "StatsRecord", TraceKind.STOPPED]
    stats = found[1]
    assert isinstance(stats, StatsRecord)
    (s,) = stats.actors
    assert (s.enqueued, s.handled, s.messages, s.last, s.depth_max) == (3, 3, {"Chat": 3}, "three", 3)
    assert 0 <= s.handling_max <= s.handling
