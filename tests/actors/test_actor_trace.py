"""The trace an actor leaves with a tracer attached, and the absence of events without one."""

from __future__ import annotations

import anyio
import pytest
from _actor_helpers import Boom, Hold, Note, Recorder, Resilient
from trace_fakes import ListTracer

from sioactor._errors import Closed, InternalChannelFull
from sioactor.actors._supervisor import Supervisor
from sioactor.actors._trace import TraceEvent, TraceKind

pytestmark = pytest.mark.anyio

K = TraceKind


async def test_event_sequence_of_a_normal_life() -> None:
    tracer = ListTracer()
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(Recorder("r", mailbox_size=1))
        hold = Hold()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
            ref.tell(hold)
            await hold.entered.wait()
        ref.tell(Note(text="a"))
        with pytest.raises(InternalChannelFull):
            ref.tell(Note(text="b"))
        hold.release.set()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        ref.stop()
        with pytest.raises(Closed):
            ref.tell(Note(text="c"))
    assert tracer.kinds() == [
        K.SPAWNED,
        K.ENQUEUED,  # the hold, queued for the drain task it starts
        K.ENQUEUED,  # a
        K.MAILBOX_FULL,  # b
        K.HANDLED,  # hold
        K.HANDLED,  # a
        K.CLOSED,  # c
        K.STOPPED,
    ]
    events = tracer.events
    assert {(e.actor, e.actor_kind, e.capacity) for e in events} == {("r", "recorder", 1)}
    assert [(e.message, e.depth) for e in events[1:4]] == [("Hold", 1), ("Note", 1), ("Note", 1)]
    handled = [e for e in events if e.kind is K.HANDLED]
    assert all(e.duration is not None and e.duration >= 0 for e in handled)
    assert [e.message for e in handled] == ["Hold", "Note"]
    assert events[-1].detail == "normal"


async def test_failure_then_drop_then_stop_is_traced() -> None:
    tracer = ListTracer()
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(Recorder("r"))
        hold = Hold()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
            ref.tell(hold)
            await hold.entered.wait()
        ref.tell(Boom())
        ref.tell(Note(text="never"))
        hold.release.set()
    tail = [(e.kind, e.message, e.detail) for e in tracer.events if e.kind not in (K.ENQUEUED, K.SPAWNED)]
    assert tail == [
        (K.HANDLED, "Hold", None),
        (K.FAILED, "Boom", "RuntimeError('boom')"),
        (K.DROPPED, "Note", None),
        (K.STOPPED, None, "failed"),
    ]


async def test_an_absorbed_failure_keeps_the_actor_running() -> None:
    tracer = ListTracer()
    actor = Resilient("r")
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(actor)
        ref.tell(Boom())
        ref.tell(Note(text="after"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert not ref.closed
    assert [type(m).__name__ for m in actor.handled] == ["Boom", "Note"]
    assert K.FAILED in tracer.kinds()
    assert tracer.kinds()[-1] is K.STOPPED


async def test_no_tracer_no_events() -> None:
    built: list[object] = []

    class Spy(TraceEvent):
        __slots__ = ()

        def __post_init__(self) -> None:
            built.append(self)

    # TraceEvent construction is the cost we promise not to pay: count any construction by patching the class
    # the hook points use.
    import sioactor.actors._actor_trace as actor_module
    import sioactor.actors._ref as ref_module

    saved = actor_module.TraceEvent, ref_module.TraceEvent
    actor_module.TraceEvent = ref_module.TraceEvent = Spy  # type: ignore[misc]
    try:
        async with Supervisor() as sup:
            ref = await sup.spawn(Recorder("r", mailbox_size=1))
            with anyio.fail_after(5):
                await anyio.wait_all_tasks_blocked()
            ref.tell(Note(text="handed off"))
            ref.tell(Note(text="buffered"))
            with pytest.raises(InternalChannelFull):
                ref.tell(Note(text="full"))
            with anyio.fail_after(5):
                await anyio.wait_all_tasks_blocked()
            ref.tell(Boom())  # a failure, a drop-free stop
            with anyio.fail_after(5):
                await anyio.wait_all_tasks_blocked()
            with pytest.raises(Closed):
                ref.tell(Note(text="closed"))
    finally:
        actor_module.TraceEvent, ref_module.TraceEvent = saved
    assert built == []


async def test_the_spy_would_see_events() -> None:
    # The counterpart of test_no_tracer_no_events: with a tracer, the same life builds events.
    tracer = ListTracer()
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(Recorder("r", mailbox_size=1))
        ref.tell(Note(text="x"))
    assert tracer.kinds()[0] is K.SPAWNED
    assert len(tracer.events) >= 3
