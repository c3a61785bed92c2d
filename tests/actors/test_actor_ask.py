"""Asks: replies, timeouts, rejection with Closed at teardown, the single-use reply slot."""

from __future__ import annotations

import anyio
import pytest
from _actor_helpers import Echo, Ignore, Recorder, hold_busy

from sioactor._errors import Closed, InternalChannelFull
from sioactor.actors._ref import Reply, StopReason
from sioactor.actors._supervisor import Supervisor

pytestmark = pytest.mark.anyio


async def test_ask_returns_the_reply() -> None:
    async with Supervisor() as sup:
        ref = await sup.spawn(Recorder())
        with anyio.fail_after(5):
            assert await ref.ask(lambda r: Echo(text="hi", reply=r)) == "hi"
            assert await ref.ask(lambda r: Echo(text="again", reply=r), timeout=1) == "again"
        ref.stop()


async def test_ask_timeout_raises_timeout_error() -> None:
    async with Supervisor() as sup:
        ref = await sup.spawn(Recorder())
        with anyio.fail_after(5), pytest.raises(TimeoutError):
            await ref.ask(lambda r: Ignore(reply=r), timeout=0.05)
        assert ref._pending == set()  # the abandoned slot is forgotten
        ref.stop()


async def test_pending_asks_are_rejected_with_closed_at_teardown() -> None:
    actor = Recorder(mailbox_size=4)
    outcomes: list[BaseException] = []

    async def asker(make: object) -> None:
        try:
            await actor.ref.ask(make, timeout=5)  # type: ignore[arg-type]
        except Closed as exc:
            outcomes.append(exc)

    async with anyio.create_task_group() as tg, Supervisor() as sup:
        await sup.spawn(actor)
        tg.start_soon(asker, lambda r: Ignore(reply=r))  # handled, never answered
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        hold = await hold_busy(actor.ref)
        tg.start_soon(asker, lambda r: Echo(text="queued", reply=r))  # still queued at teardown
        with anyio.fail_after(5):
            await anyio.wait_all_tasks_blocked()
        assert actor.ref.depth() == 1
        actor.cancel()  # the actor is stuck in Hold: cancel it (a straggler at shutdown)
    assert len(outcomes) == 2
    assert {type(exc.message).__name__ for exc in outcomes if isinstance(exc, Closed)} == {"Ignore", "Echo"}
    assert [type(m).__name__ for m in actor.unhandled] == ["Echo"]
    assert actor.stopped == [StopReason.CANCELLED]
    assert not hold.release.is_set()


async def test_ask_to_a_stopped_actor_is_closed_at_once() -> None:
    async with Supervisor() as sup:
        ref = await sup.spawn(Recorder())
        ref.stop()
    with anyio.fail_after(5), pytest.raises(Closed) as info:
        await ref.ask(lambda r: Echo(text="late", reply=r))
    assert isinstance(info.value.message, Echo)
    assert ref._pending == set()


async def test_ask_to_a_full_mailbox_is_refused_at_once() -> None:
    actor = Recorder(mailbox_size=0)
    async with Supervisor() as sup:
        hold = await hold_busy(await sup.spawn(actor))
        with anyio.fail_after(5):
            with pytest.raises(InternalChannelFull):
                await actor.ref.ask(lambda r: Echo(text="x", reply=r))
        hold.release.set()
        actor.ref.stop()
    assert actor.ref._pending == set()


async def test_reply_is_single_use() -> None:
    pending: set[Reply[int]] = set()
    reply: Reply[int] = Reply("a", pending)  # type: ignore[arg-type]
    assert reply in pending
    assert reply.set(1)
    assert not reply.set(2)
    assert not reply.fail(RuntimeError("late"))
    assert reply.done
    assert pending == set()
    with anyio.fail_after(5):
        assert await reply.wait() == 1


async def test_reply_fail_raises_in_the_asker() -> None:
    reply: Reply[int] = Reply("a", set())
    assert reply.fail(ValueError("nope"))
    with anyio.fail_after(5), pytest.raises(ValueError, match="nope"):
        await reply.wait()
