"""Actor extras for connection actors: ``halt(final)`` and ``concurrently(message, work)``."""

from __future__ import annotations

import anyio
import pytest
from _actor_helpers import Boom, Hold, Note, Recorder
from trace_fakes import ListTracer

from sioactor._errors import Closed
from sioactor.actors._actor import Actor
from sioactor.actors._ref import StopReason
from sioactor.actors._supervisor import Supervisor
from sioactor.actors._trace import TraceKind

pytestmark = pytest.mark.anyio


async def settle() -> None:
    with anyio.fail_after(5):
        await anyio.wait_all_tasks_blocked()


async def test_halt_drops_queue_cancels_running_then_handles_final() -> None:
    tracer = ListTracer()
    actor = Recorder(mailbox_size=8)
    async with Supervisor(tracer=tracer) as sup:
        ref = await sup.spawn(actor)
        hold = Hold()
        ref.tell(hold)
        ref.tell(Note(text="queued1"))
        ref.tell(Note(text="queued2"))
        with anyio.fail_after(5):
            await hold.entered.wait()
        assert actor.halt(Note(text="final"), StopReason.NORMAL) == 2
        assert actor.halt(Note(text="again")) == 0  # idempotent
        with pytest.raises(Closed):
            ref.tell(Note(text="late"))
        await settle()
        assert not hold.release.is_set()  # the hold was cancelled, not released
        assert [m.text for m in actor.handled if isinstance(m, Note)] == ["final"]
        assert [m.text for m in actor.unhandled if isinstance(m, Note)] == ["queued1", "queued2"]
        assert actor.stopped == [StopReason.NORMAL]
        assert len(sup) == 0
    assert tracer.kinds("rec").count(TraceKind.DROPPED) == 2


async def test_halt_of_idle_actor_wakes_it_for_the_final_message() -> None:
    actor = Recorder()
    async with Supervisor() as sup:
        await sup.spawn(actor)
        await settle()
        assert actor.halt(Note(text="bye"), StopReason.SHUTDOWN) == 0
        await settle()
        assert [m.text for m in actor.handled if isinstance(m, Note)] == ["bye"]
        assert actor.stopped == [StopReason.SHUTDOWN]


async def test_halt_from_inside_handle_stops_after_it() -> None:
    class SelfStopper(Recorder):
        async def handle(self, message: Note | Boom | Hold) -> None:  # type: ignore[override]
            await super().handle(message)
            if isinstance(message, Note) and message.text == "stop":
                self.halt(Note(text="final"))
                await anyio.sleep(5)  # cancelled by the halt above

    actor = SelfStopper()
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        ref.tell(Note(text="stop"))
        ref.tell(Note(text="dropped"))
        await settle()
    assert [m.text for m in actor.handled if isinstance(m, Note)] == ["stop", "final"]
    assert actor.stopped == [StopReason.NORMAL]


class Side(Actor[str]):
    """Runs messages starting with 'c' concurrently; 'c-hang' hangs, 'c-boom' raises."""

    def __init__(self) -> None:
        super().__init__("side")
        self.log: list[str] = []
        self.failures: list[Exception] = []
        self.gate = anyio.Event()

    async def handle(self, message: str) -> None:
        if message.startswith("c"):
            self.concurrently(message, lambda: self._work(message))
        else:
            self.log.append(message)

    async def _work(self, message: str) -> None:
        if message == "c-boom":
            raise RuntimeError("boom")
        await self.gate.wait()
        self.log.append(message)

    async def on_failure(self, exc: Exception) -> None:
        self.failures.append(exc)


async def test_concurrent_work_runs_beside_the_mailbox() -> None:
    actor = Side()
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        ref.tell("c1")
        ref.tell("in-order")
        await settle()
        assert actor.log == ["in-order"]  # not blocked behind c1
        actor.gate.set()
        await settle()
        assert actor.log == ["in-order", "c1"]
        ref.tell("c-boom")
        await settle()
        assert [str(e) for e in actor.failures] == ["boom"]
        assert not ref.closed  # on_failure absorbed it


async def test_halt_cancels_concurrent_work() -> None:
    actor = Side()
    async with Supervisor() as sup:
        ref = await sup.spawn(actor)
        ref.tell("c-hang")
        await settle()
        actor.halt("last")
        await settle()
        actor.gate.set()
        await settle()
        assert actor.log == ["last"]
        assert len(sup) == 0
