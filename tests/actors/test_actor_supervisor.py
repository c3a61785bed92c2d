"""Supervision: failure isolation, shutdown, cancellation, spawn_soon, no leftover task or ResourceWarning."""

from __future__ import annotations

import gc

import anyio
import pytest
from _actor_helpers import Boom, Echo, Hold, Note, Recorder
from trace_fakes import ListTracer

from sioactor._errors import Closed
from sioactor.actors._actor import Actor
from sioactor.actors._ref import StopReason
from sioactor.actors._supervisor import Supervisor
from sioactor.actors._trace import TraceKind

pytestmark = pytest.mark.anyio


def task_count() -> int:
    # Tasks that belong to the running test (its own included), on either backend.
    return len(anyio.get_running_tasks())


async def test_failing_actor_is_stopped_traced_and_siblings_keep_working() -> None:
    tracer = ListTracer()
    bad, good = Recorder("bad"), Recorder("good")
    async with Supervisor(tracer=tracer) as sup:
        bad_ref = await sup.spawn(bad)
        good_ref = await sup.spawn(good)
        bad_ref.tell(Boom())
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
            assert bad_ref.closed
            assert sup.actors == (good,)
            assert await good_ref.ask(lambda r: Echo(text="still here", reply=r)) == "still here"
    assert bad.stopped == [StopReason.FAILED]
    assert [str(e) for e in bad.failures] == ["boom"]
    assert good.stopped == [StopReason.SHUTDOWN]
    failed = [e for e in tracer.events if e.kind is TraceKind.FAILED]
    assert [(e.actor, e.message, e.detail) for e in failed] == [("bad", "Boom", "RuntimeError('boom')")]


async def test_shutdown_stops_all_and_leaves_no_task() -> None:
    order: list[str] = []

    class Named(Recorder):
        async def on_stop(self, reason: StopReason) -> None:
            order.append(self.name)

    before = task_count()
    async with Supervisor() as sup:
        actors = [Named(f"a{i}") for i in range(5)]
        for actor in actors:
            await sup.spawn(actor)
        assert len(sup) == 5
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert task_count() == before  # idle actors hold no task
        for actor in actors:
            actor.ref.tell(Note(text="wake"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert task_count() > before  # their drain tasks linger, parked
        with anyio.fail_after(5):
            await sup.shutdown()
            await anyio.wait_all_tasks_blocked()  # the idlers' sweeper, cancelled with the last actor, ends
        assert len(sup) == 0
        assert task_count() == before
    assert all(a.ref.closed for a in actors)
    # The stops are issued newest first, but the actors end concurrently: no completion order is promised.
    assert sorted(order) == ["a0", "a1", "a2", "a3", "a4"]
    assert {a.ref.stop_reason for a in actors} == {StopReason.SHUTDOWN}


async def test_shutdown_cancels_stragglers_after_the_timeout() -> None:
    stuck = Recorder("stuck")
    async with Supervisor() as sup:
        ref = await sup.spawn(stuck)
        hold = Hold()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        ref.tell(hold)
        with anyio.fail_after(5):
            await hold.entered.wait()
            await sup.shutdown(timeout=0.05)
        assert len(sup) == 0
    assert stuck.stopped == [StopReason.CANCELLED]
    assert not hold.release.is_set()


async def test_spawn_after_shutdown_is_refused() -> None:
    async with Supervisor(name="sup") as sup:
        await sup.shutdown()
        with pytest.raises(RuntimeError, match="shutting down"):
            await sup.spawn(Recorder())


async def test_spawn_outside_the_block_is_refused() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        await Supervisor().spawn(Recorder())


async def test_cancellation_propagates_through_the_supervisor() -> None:
    actor = Recorder()
    with anyio.move_on_after(5) as outer:
        async with Supervisor() as sup:
            await sup.spawn(actor)
            outer.cancel()
            await anyio.sleep_forever()
    assert outer.cancelled_caught
    assert actor.stopped == [StopReason.CANCELLED]


async def test_error_in_the_block_stops_the_actors_and_propagates() -> None:
    actor = Recorder()

    async def body() -> None:
        async with Supervisor() as sup:
            await sup.spawn(actor)
            raise KeyError("body")

    with pytest.raises(ExceptionGroup) as info:
        await body()
    assert info.group_contains(KeyError)
    assert actor.stopped == [StopReason.CANCELLED]


async def test_on_start_failure_is_raised_by_spawn() -> None:
    class BadStart(Actor[int]):
        async def on_start(self) -> None:
            raise ValueError("cannot start")

    async with Supervisor() as sup:
        with pytest.raises(ValueError, match="cannot start"):
            await sup.spawn(BadStart("bad"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()  # its teardown runs in a drain task
        assert len(sup) == 0
        ok = await sup.spawn(Recorder())  # the supervisor still works
        ok.tell(Note(text="x"))


async def test_spawn_soon_queues_mail_before_the_task_runs() -> None:
    actor = Recorder()
    async with Supervisor() as sup:
        ref = sup.spawn_soon(actor)
        ref.tell(Note(text="early"))
        assert sup.actors == (actor,)
        with anyio.fail_after(5):
            assert await ref.ask(lambda r: Echo(text="e", reply=r)) == "e"
    assert [type(m).__name__ for m in actor.handled] == ["Note", "Echo"]


async def test_spawn_soon_failing_on_start_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    unhandled: list[int] = []

    class BadStart(Actor[int]):
        async def on_start(self) -> None:
            raise ValueError("cannot start")

        def on_unhandled(self, message: int) -> None:
            unhandled.append(message)

    async with Supervisor() as sup:
        ref = sup.spawn_soon(BadStart("bad"))
        ref.tell(0)  # the first mail starts the drain, which runs on_start first
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert ref.closed
        assert len(sup) == 0
        with pytest.raises(Closed):
            ref.tell(1)
    assert "failed to start" in caplog.text
    assert unhandled == [0]  # never handled, and reported


async def test_an_actor_runs_once() -> None:
    actor = Recorder()
    async with Supervisor() as sup:
        await sup.spawn(actor)
        with pytest.raises(RuntimeError, match="runs once"):
            await sup.spawn(actor)


async def test_no_resource_warning_from_streams() -> None:
    # filterwarnings = error makes an unclosed stream's ResourceWarning fatal when collected here.
    async with Supervisor() as sup:
        for i in range(20):
            ref = await sup.spawn(Recorder(f"r{i}"))
            ref.tell(Note(text="x"))
        sup.spawn_soon(Recorder("soon")).tell(Boom())
    actor = Recorder("cancelled")
    with anyio.CancelScope() as scope:
        async with Supervisor() as sup:
            await sup.spawn(actor)
            scope.cancel()
    del sup, actor, ref
    gc.collect()


def test_never_started_actor_holds_no_stream() -> None:
    actor = Recorder()
    del actor
    gc.collect()
