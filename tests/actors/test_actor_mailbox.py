"""Mailbox facts: capacity, the hand-off trap, 0-size, closed refs, stop ordering, nothing lost silently."""

from __future__ import annotations

import anyio
import pytest
from _actor_helpers import Hold, Note, Recorder

from sioactor._errors import Closed, InternalChannelFull
from sioactor.actors._ref import StopReason

pytestmark = pytest.mark.anyio


async def busy(tg: anyio.abc.TaskGroup, actor: Recorder) -> Hold:
    """Start *actor* and keep it busy inside handle(), so nothing is handed off to a parked receiver."""
    ref = await tg.start(actor.run)
    hold = Hold()
    with anyio.fail_after(5):
        await anyio.wait_all_tasks_blocked()  # parked in receive(): even a 0-size mailbox takes the hold
        ref.tell(hold)
        await hold.entered.wait()
    return hold


async def test_capacity_n_accepted_then_full_carries_the_message() -> None:
    actor = Recorder(mailbox_size=3)
    async with anyio.create_task_group() as tg:
        hold = await busy(tg, actor)
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


async def test_parked_receiver_hand_off_admits_n_plus_one() -> None:
    # The anyio trap: a tell to an actor parked in receive() bypasses the buffer, so capacity n admits n+1.
    actor = Recorder(mailbox_size=2)
    async with anyio.create_task_group() as tg:
        ref = await tg.start(actor.run)
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        for i in range(3):
            ref.tell(Note(text=str(i)))
        assert ref.depth() == 2  # one went straight to the parked actor
        with pytest.raises(InternalChannelFull):
            ref.tell(Note(text="3"))
        ref.stop()
    assert [m.text for m in actor.handled if isinstance(m, Note)] == ["0", "1", "2"]


async def test_zero_size_mailbox_accepts_only_a_parked_actor() -> None:
    actor = Recorder(mailbox_size=0)
    async with anyio.create_task_group() as tg:
        hold = await busy(tg, actor)
        with pytest.raises(InternalChannelFull):
            actor.ref.tell(Note(text="while busy"))
        hold.release.set()
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        actor.ref.tell(Note(text="while parked"))
        with pytest.raises(InternalChannelFull):
            actor.ref.tell(Note(text="second"))
        actor.ref.stop()  # a stop needs no free slot
    assert [m.text for m in actor.handled if isinstance(m, Note)] == ["while parked"]
    assert actor.stopped == [StopReason.NORMAL]


async def test_tell_after_stop_is_closed_with_the_message() -> None:
    actor = Recorder()
    async with anyio.create_task_group() as tg:
        ref = await tg.start(actor.run)
        ref.stop()
        assert ref.closed
        late = Note(text="late")
        with pytest.raises(Closed) as info:
            ref.tell(late)
        assert info.value.message is late
    with pytest.raises(Closed):
        ref.tell(Note(text="after the task ended"))
    assert actor.handled == []


async def test_stop_is_handled_after_earlier_mail() -> None:
    actor = Recorder(mailbox_size=8)
    async with anyio.create_task_group() as tg:
        hold = await busy(tg, actor)
        for i in range(5):
            actor.ref.tell(Note(text=str(i)))
        actor.ref.stop()
        actor.ref.stop(StopReason.SHUTDOWN)  # idempotent; the first reason wins
        hold.release.set()
    assert [m.text for m in actor.handled if isinstance(m, Note)] == ["0", "1", "2", "3", "4"]
    assert actor.unhandled == []
    assert actor.stopped == [StopReason.NORMAL]


async def test_cancelled_actor_reports_every_queued_message() -> None:
    # Nothing is lost silently: what was queued is either handled or passed to on_unhandled.
    actor = Recorder(mailbox_size=8)
    sent = [Note(text=str(i)) for i in range(6)]
    async with anyio.create_task_group() as tg:
        hold = await busy(tg, actor)
        for note in sent:
            actor.ref.tell(note)
        tg.cancel_scope.cancel()
    handled = [m for m in actor.handled if isinstance(m, Note)]
    assert handled + actor.unhandled == sent
    assert actor.unhandled == sent
    assert actor.stopped == [StopReason.CANCELLED]
    assert not hold.release.is_set()


async def test_failure_drops_the_rest_and_reports_it() -> None:
    from _actor_helpers import Boom

    actor = Recorder(mailbox_size=8)
    async with anyio.create_task_group() as tg:
        hold = await busy(tg, actor)
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
    async with anyio.create_task_group() as tg:
        hold = await busy(tg, actor)
        actor.ref.tell(Note(text="x"))
        assert actor.ref.depth() == 1
        assert repr(actor.ref) == "<ActorRef recorder 'rec' 1/4>"
        hold.release.set()
        actor.ref.stop()
    assert repr(actor.ref) == "<ActorRef recorder 'rec' closed>"
