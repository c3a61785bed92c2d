"""Mailbox facts: capacity (busy n, idle n + 1), 0-size, closed refs, stop ordering, nothing lost silently."""

from __future__ import annotations

import anyio
import pytest
from _actor_helpers import Boom, Hold, Note, Recorder, hold_busy

from sioactor._errors import Closed, InternalChannelFull
from sioactor.actors._ref import StopReason
from sioactor.actors._supervisor import Supervisor

pytestmark = pytest.mark.anyio


async def busy(sup: Supervisor, actor: Recorder) -> Hold:
    """Spawn *actor* and keep it busy inside handle(): the mailbox then admits exactly its capacity."""
    return await hold_busy(await sup.spawn(actor))


async def test_capacity_n_accepted_then_full_carries_the_message() -> None:
    actor = Recorder(mailbox_size=3)
    async with Supervisor() as sup:
        hold = await busy(sup, actor)
        for i in range(3):
            actor.ref.tell(Note(text=str(i)))
        assert actor.ref.depth() == 3
        refused = Note(text="one too many")
        with pytest.raises(InternalChannelFull) as info:
            actor.ref.tell(refused)
        assert info.value.message is refused
        assert info.value.actor == "rec"
        hold.release.set()
        actor.ref.stop()
    assert [m.text for m in actor.handled if isinstance(m, Note)] == ["0", "1", "2"]


async def test_idle_actor_admits_n_plus_one() -> None:
    # An idle actor's first message is as good as handed over (anyio's parked-receiver trap, kept on
    # purpose): capacity n admits n + 1 while nothing is being handled.
    actor = Recorder(mailbox_size=2)
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        for i in range(3):
            ref.tell(Note(text=str(i)))
        assert ref.depth() == 3  # all three wait: the drain task has not run yet
        refused = Note(text="3")
        with pytest.raises(InternalChannelFull) as info:
            ref.tell(refused)
        assert info.value.message is refused
        ref.stop()
    assert [m.text for m in actor.handled if isinstance(m, Note)] == ["0", "1", "2"]


async def test_busy_admits_n_idle_admits_n_plus_one() -> None:
    actor = Recorder(mailbox_size=2)
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        for i in range(3):
            ref.tell(Note(text=f"idle{i}"))
        with pytest.raises(InternalChannelFull):
            ref.tell(Note(text="idle3"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        hold = await hold_busy(ref)
        ref.tell(Note(text="b0"))
        ref.tell(Note(text="b1"))
        refused = Note(text="b2")
        with pytest.raises(InternalChannelFull) as info:
            ref.tell(refused)
        assert info.value.message is refused
        hold.release.set()
    texts = [m.text for m in actor.handled if isinstance(m, Note)]
    assert texts == ["idle0", "idle1", "idle2", "b0", "b1"]


async def test_zero_size_mailbox_admits_one_only_when_idle() -> None:
    actor = Recorder(mailbox_size=0)
    async with Supervisor() as sup:
        hold = await busy(sup, actor)
        with pytest.raises(InternalChannelFull):
            actor.ref.tell(Note(text="while busy"))
        hold.release.set()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        actor.ref.tell(Note(text="while idle"))
        with pytest.raises(InternalChannelFull):
            actor.ref.tell(Note(text="second"))
        actor.ref.stop()  # a stop needs no free slot
    assert [m.text for m in actor.handled if isinstance(m, Note)] == ["while idle"]
    assert actor.stopped == [StopReason.NORMAL]


async def test_tell_after_stop_is_closed_with_the_message() -> None:
    actor = Recorder()
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        ref.stop()
        assert ref.closed
        late = Note(text="late")
        with pytest.raises(Closed) as info:
            ref.tell(late)
        assert info.value.message is late
    with pytest.raises(Closed):
        ref.tell(Note(text="after the actor ended"))
    assert actor.handled == []


async def test_stop_is_handled_after_earlier_mail() -> None:
    actor = Recorder(mailbox_size=8)
    async with Supervisor() as sup:
        hold = await busy(sup, actor)
        for i in range(5):
            actor.ref.tell(Note(text=str(i)))
        actor.ref.stop()
        actor.ref.stop(StopReason.SHUTDOWN)  # idempotent; the first reason wins
        hold.release.set()
        with pytest.raises(Closed):
            actor.ref.tell(Note(text="late"))
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert len(sup) == 0
    assert [m.text for m in actor.handled if isinstance(m, Note)] == ["0", "1", "2", "3", "4"]
    assert actor.unhandled == []
    assert actor.stopped == [StopReason.NORMAL]


async def test_stop_of_an_idle_actor_runs_on_stop() -> None:
    actor = Recorder()
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        ref.stop()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert actor.stopped == [StopReason.NORMAL]


async def test_cancelled_actor_reports_every_queued_message() -> None:
    # Nothing is lost silently: what was queued is either handled or passed to on_unhandled.
    actor = Recorder(mailbox_size=8)
    sent = [Note(text=str(i)) for i in range(6)]
    with anyio.CancelScope() as scope:
        async with Supervisor() as sup:
            hold = await busy(sup, actor)
            for note in sent:
                actor.ref.tell(note)
            scope.cancel()
    handled = [m for m in actor.handled if isinstance(m, Note)]
    assert handled + actor.unhandled == sent
    assert actor.unhandled == sent
    assert actor.stopped == [StopReason.CANCELLED]
    assert not hold.release.is_set()


async def test_failure_drops_the_rest_and_reports_it() -> None:
    actor = Recorder(mailbox_size=8)
    async with Supervisor() as sup:
        hold = await busy(sup, actor)
        actor.ref.tell(Boom())
        actor.ref.tell(Note(text="after boom"))
        hold.release.set()
    assert actor.unhandled == [Note(text="after boom")]
    assert actor.stopped == [StopReason.FAILED]
    assert actor.ref.closed


async def test_negative_mailbox_size_is_refused() -> None:
    with pytest.raises(ValueError, match="mailbox_size"):
        Recorder(mailbox_size=-1)


async def test_depth_and_repr() -> None:
    actor = Recorder(mailbox_size=4)
    async with Supervisor() as sup:
        hold = await busy(sup, actor)
        actor.ref.tell(Note(text="x"))
        assert actor.ref.depth() == 1
        assert actor.queued() == 1
        assert repr(actor.ref) == "<ActorRef recorder 'rec' 1/4>"
        hold.release.set()
        actor.ref.stop()
    assert repr(actor.ref) == "<ActorRef recorder 'rec' closed>"
