"""The drain task: none while idle, started by mail, lingering for a window, ending with the mailbox empty."""

from __future__ import annotations

import anyio
import pytest
from _actor_helpers import Boom, Echo, Ignore, Msg, Note, Recorder, hold_busy
from trace_fakes import ListTracer

from sioactor._errors import Closed
from sioactor.actors._ref import StopReason
from sioactor.actors._supervisor import Supervisor
from sioactor.actors._trace import TraceKind

pytestmark = pytest.mark.anyio


async def test_idle_actor_has_no_task() -> None:
    async with Supervisor() as sup:
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        before = len(anyio.get_running_tasks())
        actors = [Recorder(f"l{i}") for i in range(10)]
        for actor in actors:
            actor.linger = 0
        refs = [await sup.spawn(actor) for actor in actors]
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert len(anyio.get_running_tasks()) == before
        with anyio.fail_after(5):
            assert await refs[3].ask(lambda r: Echo(text="awake", reply=r)) == "awake"
            await anyio.wait_all_tasks_blocked()
        assert len(anyio.get_running_tasks()) == before  # the drain task ended with the mail
        assert len(sup) == 10


def drain_tasks(name: str) -> list[int]:
    return [task.id for task in anyio.get_running_tasks() if task.name == f"actor {name}"]


async def test_drain_task_lingers_then_ends() -> None:
    actor = Recorder("lingering")
    actor.linger = 0.05
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        assert drain_tasks("lingering") == []  # spawned, never told: no task
        with anyio.fail_after(5):
            assert await ref.ask(lambda r: Echo(text="one", reply=r)) == "one"
            await anyio.wait_all_tasks_blocked()
        parked = drain_tasks("lingering")
        assert len(parked) == 1
        assert ref.depth() == 0
        with anyio.fail_after(5):
            assert await ref.ask(lambda r: Echo(text="two", reply=r)) == "two"
        assert drain_tasks("lingering") == parked  # the same task handled it: none started
        started = anyio.current_time()
        with anyio.fail_after(5):
            while drain_tasks("lingering"):  # noqa: ASYNC110 (no event marks a task's end; poll)
                await anyio.sleep(0.01)
        assert anyio.current_time() - started >= 0.04  # about a window without mail (timer slack)
        assert not any(t.name.startswith("actor idlers") for t in anyio.get_running_tasks())
        with anyio.fail_after(5):
            assert await ref.ask(lambda r: Echo(text="three", reply=r)) == "three"  # a new drain
    assert [m.text for m in actor.handled if isinstance(m, Echo)] == ["one", "two", "three"]
    assert actor.stopped == [StopReason.SHUTDOWN]


async def test_lingering_actor_stops_and_supervisor_exits_without_waiting_a_window() -> None:
    actor = Recorder("parked")
    actor.linger = 30.0
    with anyio.fail_after(5):
        async with Supervisor() as sup:
            ref = await sup.spawn(actor)
            ref.tell(Note(text="a"))
            await anyio.wait_all_tasks_blocked()
            assert len(drain_tasks("parked")) == 1
            ref.tell(Note(text="b"))  # wakes the parked task
            ref.stop()
    assert [m.text for m in actor.handled if isinstance(m, Note)] == ["a", "b"]
    assert actor.stopped == [StopReason.NORMAL]


async def test_mail_arriving_as_the_window_ends_is_handled_by_the_dismissed_task() -> None:
    actor = Recorder("edge")
    actor.linger = 30.0
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        ref.tell(Note(text="a"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        parked = drain_tasks("edge")
        assert len(parked) == 1
        actor._mailbox_or_fail().dismiss()  # the idlers' tick, by hand
        ref.tell(Note(text="b"))  # before the dismissed task ran again
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert drain_tasks("edge") == parked  # it kept draining (and lingers again): no second task
    assert [m.text for m in actor.handled if isinstance(m, Note)] == ["a", "b"]


async def test_cancelled_while_lingering() -> None:
    actor = Recorder("parked")
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        ref.tell(Note(text="a"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        actor.cancel()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert ref.closed
        assert len(sup) == 0
    assert actor.stopped == [StopReason.CANCELLED]


async def test_failure_is_isolated_and_reported() -> None:
    tracer = ListTracer()
    bad, good = Recorder("bad"), Recorder("good")
    async with Supervisor(tracer=tracer) as sup:
        bad_ref = await sup.spawn(bad)
        good_ref = await sup.spawn(good)
        hold = await hold_busy(bad_ref)
        bad_ref.tell(Boom())
        bad_ref.tell(Note(text="dropped"))
        hold.release.set()
        with anyio.fail_after(5):
            assert await good_ref.ask(lambda r: Echo(text="ok", reply=r)) == "ok"
            await anyio.wait_all_tasks_blocked()
        assert bad_ref.closed
    assert bad.stopped == [StopReason.FAILED]
    assert bad.unhandled == [Note(text="dropped")]
    assert tracer.kinds("bad")[-3:] == [TraceKind.FAILED, TraceKind.DROPPED, TraceKind.STOPPED]
    assert tracer.kinds("good")[0] is TraceKind.SPAWNED


async def test_shutdown_cancels_a_stuck_actor_and_rejects_its_asks() -> None:
    actor = Recorder()
    rejected: list[Closed] = []

    async def asker() -> None:
        try:
            await actor.ref.ask(lambda r: Ignore(reply=r))
        except Closed as exc:
            rejected.append(exc)

    async with anyio.create_task_group() as tg, Supervisor() as sup:
        await sup.spawn(actor)
        hold = await hold_busy(actor.ref)
        tg.start_soon(asker)
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
            await sup.shutdown(timeout=0.05)
            await anyio.wait_all_tasks_blocked()
    assert actor.stopped == [StopReason.CANCELLED]
    assert [type(e.message).__name__ for e in rejected] == ["Ignore"]
    assert not hold.release.is_set()


async def test_spawn_soon_runs_on_start_in_the_first_drain() -> None:
    started: list[str] = []

    class Starting(Recorder):
        async def on_start(self) -> None:
            started.append(self.name)

    async with Supervisor() as sup:
        ref = sup.spawn_soon(Starting("s"))
        assert started == []
        with anyio.fail_after(5):
            assert await ref.ask(lambda r: Echo(text="x", reply=r)) == "x"
    assert started == ["s"]


async def test_cancellation_propagates() -> None:
    actor = Recorder()
    with anyio.move_on_after(5) as outer:
        async with Supervisor() as sup:
            ref = await sup.spawn(actor)
            ref.tell(Note(text="x"))
            outer.cancel()
            await anyio.sleep_forever()
    assert outer.cancelled_caught
    assert actor.ref.closed


async def test_skip_linger_ends_the_drain_once_the_mailbox_is_empty_this_time_only() -> None:
    class Once(Recorder):
        async def handle(self, message: Msg) -> None:
            await super().handle(message)
            if isinstance(message, Note) and message.text == "last for a while":
                self.skip_linger = True

    actor = Once("once")
    actor.linger = 30.0
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        ref.tell(Note(text="last for a while"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert drain_tasks("once") == []  # ended at once, not parked for the 30 s window
        with anyio.fail_after(5):
            assert await ref.ask(lambda r: Echo(text="again", reply=r)) == "again"
            await anyio.wait_all_tasks_blocked()
        assert len(drain_tasks("once")) == 1  # the flag was used up: this drain lingers as usual
    assert [m.text for m in actor.handled if isinstance(m, Note | Echo)] == ["last for a while", "again"]


async def test_a_full_mailbox_notifies_room_once_when_a_message_is_taken_or_dropped() -> None:
    # How a producer that must not lose mail (a client's connection) pauses on a full mailbox and goes on.
    actor = Recorder("bounded", mailbox_size=2)
    calls: list[str] = []
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        hold = await hold_busy(ref)
        ref.tell(Note(text="a"))
        assert not actor.full()
        ref.tell(Note(text="b"))
        assert actor.full()
        assert actor.notify_room(lambda: calls.append("room"))
        assert not actor.notify_room(lambda: calls.append("second"))  # one at a time
        hold.release.set()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert calls == ["room"]  # once, when "a" was taken
        assert not actor.full()
        hold = await hold_busy(ref)
        ref.tell(Note(text="c"))
        ref.tell(Note(text="d"))
        assert actor.notify_room(lambda: calls.append("stopped"))
        actor.halt()  # the queued mail is dropped: room too
        hold.release.set()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert calls == ["room", "stopped"]
