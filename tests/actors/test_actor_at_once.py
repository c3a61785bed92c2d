"""Actor.tell_or_handle: an idle actor handles a message that cannot suspend in the caller's task."""

from __future__ import annotations

import anyio
import pytest
from _actor_helpers import Boom, Echo, Hold, Msg, Note, Resilient, hold_busy
from trace_fakes import ListTracer

from sioactor._errors import Closed
from sioactor.actors._ref import StopReason
from sioactor.actors._supervisor import Supervisor
from sioactor.actors._trace import TraceKind

pytestmark = pytest.mark.anyio


class AtOnce(Resilient):
    """Notes and Booms never suspend (Resilient's on_failure neither): they may be handled at once."""

    kind = "at_once"

    def __init__(self, name: str = "at-once") -> None:
        super().__init__(name)
        self.tasks: list[object] = []

    def handles_now(self, message: Msg) -> bool:
        return isinstance(message, Note | Boom)

    async def handle(self, message: Msg) -> None:
        self.tasks.append(anyio.get_current_task().id)
        await super().handle(message)


class Liar(AtOnce):
    """Claims a Hold never suspends, which is false."""

    def handles_now(self, message: Msg) -> bool:
        return True


async def test_an_idle_actor_handles_at_once_in_the_callers_task() -> None:
    actor = AtOnce()
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        actor.tell_or_handle(Note(text="one"))
        assert actor.handled == [Note(text="one")]  # before any await: handled right here
        assert actor.tasks == [anyio.get_current_task().id]
        assert ref.depth() == 0
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert not [t for t in anyio.get_running_tasks() if t.name == "actor at-once"]  # none started


async def test_a_message_that_may_suspend_goes_through_the_mailbox() -> None:
    actor = AtOnce()
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        hold = Hold()
        actor.tell_or_handle(hold)
        assert actor.handled == []  # queued for the drain task
        with anyio.fail_after(5):
            await hold.entered.wait()
        assert actor.tasks[0] != anyio.get_current_task().id
        hold.release.set()
        with anyio.fail_after(5):
            assert await ref.ask(lambda r: Echo(text="after", reply=r)) == "after"


async def test_a_busy_actor_queues_and_keeps_the_order() -> None:
    actor = AtOnce()
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        hold = await hold_busy(ref)
        actor.tell_or_handle(Note(text="second"))
        actor.tell_or_handle(Note(text="third"))
        assert actor.handled == [hold]  # the actor is busy: both wait behind the Hold
        assert ref.depth() == 2
        hold.release.set()
        with anyio.fail_after(5):
            assert await ref.ask(lambda r: Echo(text="last", reply=r)) == "last"
        assert actor.handled[1:3] == [Note(text="second"), Note(text="third")]
        # Now parked (lingering) and idle: handled at once again, the parked task left alone.
        actor.tell_or_handle(Note(text="fourth"))
        assert actor.handled[-1] == Note(text="fourth")


async def test_a_tell_from_inside_queues_behind_the_message() -> None:
    order: list[str] = []

    class Relay(AtOnce):
        async def handle(self, message: Msg) -> None:
            if isinstance(message, Note):
                order.append(f"start {message.text}")
                if message.text == "first":
                    self.tell_or_handle(Note(text="nested"))
                order.append(f"end {message.text}")

    actor = Relay()
    async with Supervisor() as sup:
        await sup.spawn(actor)
        actor.tell_or_handle(Note(text="first"))
        assert order == ["start first", "end first"]  # nested waits in the mailbox: one at a time
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
    assert order == ["start first", "end first", "start nested", "end nested"]


async def test_a_failure_at_once_follows_the_failure_policy() -> None:
    tracer = ListTracer()
    actor = AtOnce()
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(actor)
        actor.tell_or_handle(Boom(text="bad"))
        assert [str(e) for e in actor.failures] == ["bad"]
        assert not ref.closed  # on_failure returned: the actor goes on
        actor.tell_or_handle(Note(text="next"))
        assert actor.handled[-1] == Note(text="next")
    kinds = tracer.kinds("at-once")
    assert TraceKind.FAILED in kinds
    assert kinds.count(TraceKind.ENQUEUED) == 2


async def test_a_failure_policy_that_raises_stops_the_actor() -> None:
    class Strict(AtOnce):
        async def on_failure(self, exc: Exception) -> None:
            raise exc

    actor = Strict()
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        actor.tell_or_handle(Boom())
        assert ref.closed
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert actor.stopped == [StopReason.FAILED]
        with pytest.raises(Closed) as caught:
            actor.tell_or_handle(Note(text="late"))
        assert caught.value.message == Note(text="late")  # the payload handed back


async def test_a_broken_promise_is_a_failure_and_the_actor_goes_on() -> None:
    tracer = ListTracer()
    actor = Liar()
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(actor)
        actor.tell_or_handle(Hold())  # suspends: closed, reported through the failure policy
        assert [str(e) for e in actor.failures] == [
            "actor at-once: a message handled at once suspended, although it was to complete at once"
        ]
        assert tracer.kinds("at-once")[-1] is TraceKind.FAILED
        actor.tell_or_handle(Note(text="fine"))
        assert actor.handled[-1] == Note(text="fine")
        with anyio.fail_after(5):
            assert await ref.ask(lambda r: Echo(text="alive", reply=r)) == "alive"


async def test_not_before_the_start_nor_after_a_stop() -> None:
    actor = AtOnce()
    async with Supervisor() as sup:
        ref = sup.spawn_soon(actor)  # on_start runs in the first drain: not started yet
        actor.tell_or_handle(Note(text="early"))
        assert actor.handled == []
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert actor.handled == [Note(text="early")]
        ref.stop()
        with pytest.raises(Closed):
            actor.tell_or_handle(Note(text="late"))
    assert Note(text="late") not in actor.handled
