"""Tracers that keep message counters: the actor reports a message to its counter instead of building
``ENQUEUED`` / ``HANDLED`` events, unless the counter asks for detail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import anyio
import pytest
from _actor_helpers import Hold, Note, Recorder
from trace_fakes import ListTracer

from sioactor.actors._supervisor import Supervisor
from sioactor.actors._trace import TraceKind

pytestmark = pytest.mark.anyio

K = TraceKind


class FakeCounter:
    """A ``MessageCounter`` that lists the calls; ``detail`` is switched by the test."""

    def __init__(self, describe: Callable[[Any], Mapping[str, Any] | None] | None) -> None:
        self.on = True
        self.detail = False
        self.describe = describe
        self.calls: list[tuple[str, object, int]] = []
        self.ticks = 0.0

    def clock(self) -> float:
        self.ticks += 1.0  # every read a second later: a handling takes exactly one "second"
        return self.ticks

    def enqueued(self, message: object, depth: int) -> None:
        self.calls.append(("enqueued", type(message).__name__, depth))

    def queued(self, message: object, depth: int) -> None:
        self.calls.append(("queued", type(message).__name__, depth))

    def handled(self, duration: float, depth: int) -> None:
        self.calls.append(("handled", duration, depth))


class CountingTracer(ListTracer):
    """A list tracer that also hands each actor a counter."""

    def __init__(self, *, detail: bool = False) -> None:
        super().__init__()
        self.detail = detail
        self.counters: dict[str, FakeCounter] = {}
        self.opened: list[tuple[str, str, int | None]] = []

    def message_counter(
        self,
        actor: str,
        actor_kind: str,
        capacity: int | None,
        describe: Callable[[Any], Mapping[str, Any] | None] | None,
    ) -> FakeCounter:
        self.opened.append((actor, actor_kind, capacity))
        counter = self.counters[actor] = FakeCounter(describe)
        counter.detail = self.detail
        return counter


async def test_messages_go_to_the_counter_not_into_events() -> None:
    tracer = CountingTracer()
    actor = Recorder("r", mailbox_size=4)
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(actor)
        hold = Hold()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
            ref.tell(hold)
            await hold.entered.wait()
        ref.tell(Note(text="a"))
        hold.release.set()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
    assert tracer.opened == [("r", actor.kind, 4)]
    assert tracer.kinds() == [K.SPAWNED, K.STOPPED]  # no per-message event was built
    calls = tracer.counters["r"].calls
    assert calls[0][:2] == ("enqueued", "Hold")
    assert calls[1:] == [("enqueued", "Note", 1), ("handled", 1.0, 1), ("handled", 1.0, 0)]


async def test_a_counter_that_wants_detail_gets_events_instead() -> None:
    tracer = CountingTracer(detail=True)
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(Recorder("r"))
        ref.tell(Note(text="a"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
    assert tracer.counters["r"].calls == []
    assert tracer.kinds() == [K.SPAWNED, K.ENQUEUED, K.HANDLED, K.STOPPED]
    handled = tracer.events[2]
    assert (handled.message, handled.duration, handled.depth) == ("Note", 1.0, 0)  # timed on counter.clock


async def test_detail_can_change_while_the_actor_runs() -> None:
    tracer = CountingTracer()
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(Recorder("r"))
        counter = tracer.counters["r"]
        ref.tell(Note(text="counted"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        counter.detail = True
        ref.tell(Note(text="traced"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
    assert [c[0] for c in counter.calls] == ["enqueued", "handled"]
    assert tracer.kinds() == [K.SPAWNED, K.ENQUEUED, K.HANDLED, K.STOPPED]


class Described(Recorder):
    def trace_fields(self, message: Any) -> Mapping[str, Any] | None:
        return {"event": getattr(message, "text", None)}


async def test_a_counter_gets_the_actors_trace_fields() -> None:
    tracer = CountingTracer()
    async with Supervisor(tracer=tracer) as sup:
        await sup.spawn(Described("r"))
    describe = tracer.counters["r"].describe
    assert describe is not None
    assert describe(Note(text="x")) == {"event": "x"}


async def test_a_tracer_without_counters_still_gets_every_event() -> None:
    tracer = ListTracer()
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(Recorder("r"))
        ref.tell(Note(text="a"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
    assert tracer.kinds() == [K.SPAWNED, K.ENQUEUED, K.HANDLED, K.STOPPED]


async def test_a_counter_that_is_off_gets_nothing_and_no_time_is_read() -> None:
    tracer = CountingTracer()
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(Recorder("r"))
        counter = tracer.counters["r"]
        counter.on = False
        ref.tell(Note(text="a"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
    assert (counter.calls, counter.ticks) == ([], 0.0)
    assert tracer.kinds() == [K.SPAWNED, K.STOPPED]
