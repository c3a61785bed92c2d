"""The server's one scheduler task: deadlines in order, lazy deletion, one flush per wake, deferred closes."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.lowlevel
import pytest

from sioactor.actors._trace import TraceKind
from sioactor.actors.engineio._api import EngineConnection, RequestInfo
from sioactor.actors.engineio._scheduler import EngineScheduler
from sioactor.actors.engineio._session import EngineSession
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.protocol.engineio import OutboxEntry, Packet, PacketType
from sioactor.runtime.engineio import EngineConfig
from sioactor.runtime.engineio._config import session_config
from sioactor.runtime.trace import StatsRecord, TraceHub, TraceRecord

pytestmark = pytest.mark.anyio


class FakeSession:
    """Records the scheduler's calls."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.scheduled_at = math.inf
        self.fired = anyio.Event()

    def on_deadline(self, now: float) -> None:
        self.log.append(f"{self.name}:deadline")
        self.fired.set()

    def flush(self) -> None:
        self.log.append(f"{self.name}:flush")

    def finish(self) -> None:
        self.log.append(f"{self.name}:finish")


@asynccontextmanager
async def scheduler_running() -> AsyncIterator[EngineScheduler]:
    scheduler = EngineScheduler()
    async with anyio.create_task_group() as tg:
        await tg.start(scheduler.run)
        yield scheduler
        tg.cancel_scope.cancel()


async def test_deadlines_fire_in_order_and_an_earlier_one_wakes_the_sleeping_task() -> None:
    log: list[str] = []
    late, soon, sooner = FakeSession("late", log), FakeSession("soon", log), FakeSession("sooner", log)
    async with scheduler_running() as scheduler:
        now = anyio.current_time()
        scheduler.schedule(late, now + 60)
        await anyio.wait_all_tasks_blocked()  # the task now sleeps to +60 s
        scheduler.schedule(soon, now + 0.05)
        scheduler.schedule(sooner, now + 0.02)
        with anyio.fail_after(2):
            await soon.fired.wait()
        assert log == ["sooner:deadline", "soon:deadline"]
        assert anyio.current_time() - now >= 0.05 - 0.002  # uvloop's timers round to its millisecond clock
        assert late.scheduled_at == now + 60


async def test_a_later_deadline_keeps_the_earlier_entry_and_a_superseded_entry_is_skipped() -> None:
    log: list[str] = []
    session = FakeSession("s", log)
    scheduler = EngineScheduler()
    now = anyio.current_time()
    scheduler.schedule(session, now + 0.2)
    scheduler.schedule(session, now + 5)  # later: nothing pushed
    assert len(scheduler) == 1
    scheduler.schedule(session, now + 0.01)  # earlier: pushed, the +0.2 entry is stale
    assert len(scheduler) == 2
    async with anyio.create_task_group() as tg:
        await tg.start(scheduler.run)
        await anyio.sleep(0.3)
        tg.cancel_scope.cancel()
    assert log == ["s:deadline"]
    assert len(scheduler) == 0


async def test_forgotten_sessions_are_compacted_out_of_the_heap() -> None:
    scheduler = EngineScheduler()
    sessions = [FakeSession(str(i), []) for i in range(200)]
    for session in sessions:
        scheduler.schedule(session, anyio.current_time() + 60)
    for session in sessions[:150]:
        scheduler.forget(session)
    scheduler._run_timers(anyio.current_time())  # a tick compacts when stale entries are the majority
    assert len(scheduler) == 50


async def test_flush_and_finish_run_on_the_next_wake_not_inside_the_call() -> None:
    log: list[str] = []
    session = FakeSession("s", log)
    async with scheduler_running() as scheduler:
        await anyio.wait_all_tasks_blocked()
        scheduler.finish_soon(session)
        scheduler.flush_soon(session)
        assert log == []
        await anyio.wait_all_tasks_blocked()
        assert log == ["s:finish", "s:flush"]


async def test_on_asyncio_flushes_run_in_a_loop_callback_one_per_burst_and_a_failure_is_logged(
    backend_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    if backend_name != "asyncio":
        pytest.skip("call_soon is asyncio's; trio keeps the flushing task")
    import asyncio

    from sioactor._lowlevel import current_backend

    loop = asyncio.get_running_loop()
    queued: list[object] = []

    def counting_soon(callback: Callable[[], None]) -> object:
        queued.append(callback)
        return loop.call_soon(callback)

    log: list[str] = []
    first, second = FakeSession("a", log), FakeSession("b", log)
    scheduler = EngineScheduler()
    assert current_backend().call_soon is not None
    async with anyio.create_task_group() as tg:
        await tg.start(scheduler.run, counting_soon)
        scheduler.flush_soon(first)
        scheduler.flush_soon(second)
        scheduler.finish_soon(first)
        assert log == []  # not inside the calls
        assert len(queued) == 1  # one callback for the burst
        await anyio.wait_all_tasks_blocked()
        assert log == ["a:finish", "a:flush", "b:flush"]

        broken = FakeSession("broken", log)
        broken.flush = lambda: 1 / 0  # type: ignore[method-assign]
        scheduler.flush_soon(broken)
        scheduler.flush_soon(first)
        await anyio.wait_all_tasks_blocked()
        assert "a flush failed" in caplog.text
        assert log[-1] == "a:flush"  # the failure cost the other session nothing
        scheduler.flush_soon(second)  # the scheduler still serves
        await anyio.wait_all_tasks_blocked()
        assert log[-1] == "b:flush"
        tg.cancel_scope.cancel()
    scheduler.flush_soon(first)  # stopped: nothing queued runs any more
    await anyio.wait_all_tasks_blocked()
    assert log[-1] == "b:flush"


class Listener:
    def __init__(self) -> None:
        self.closed: list[EngineCloseReason] = []
        self.any_closed = anyio.Event()

    def on_open(self, conn: EngineConnection) -> None:
        pass

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        pass

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        self.closed.append(reason)
        self.any_closed.set()


class FakeWriter:
    """A direct WebSocket: records batches; ``blocked`` makes the client a slow reader."""

    def __init__(self) -> None:
        self.batches: list[list[OutboxEntry]] = []
        self.blocked = False
        self.ended = 0
        self.release = anyio.Event()

    def write_now(self, batch: list[OutboxEntry]) -> bool:
        self.batches.append(batch)
        return not any(isinstance(e, Packet) and e.type is PacketType.CLOSE for e in batch)

    async def drained(self) -> None:
        await self.release.wait()
        self.blocked = False

    def end(self) -> None:
        self.ended += 1


def new_session(scheduler: EngineScheduler, listener: Listener, **config: float) -> EngineSession:
    session = EngineSession(
        sid="s1",
        protocol=4,
        transport="websocket",
        request=RequestInfo(path="/engine.io/"),
        config=session_config(EngineConfig(**config)),  # type: ignore[arg-type]
        listener=listener,
        scheduler=scheduler,
    )
    session.open()
    return session


class WaitingSession(FakeSession):
    """A session whose close must wait: its finish starts a wait through the scheduler (as a session with
    an outbox to drain does)."""

    def __init__(self, name: str, log: list[str], scheduler: EngineScheduler) -> None:
        super().__init__(name, log)
        self.scheduler = scheduler
        self.waited = anyio.Event()

    def finish(self) -> None:
        super().finish()
        self.scheduler.start_soon(self.wait)

    async def wait(self) -> None:
        await anyio.lowlevel.checkpoint()
        self.log.append(f"{self.name}:waited")
        self.waited.set()


async def test_a_close_that_must_wait_starts_its_wait_from_the_tick_on_either_backend(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # On asyncio the tick runs in a loop callback, outside any task: the wait must start there too. anyio's
    # task group could not when the loop was not started by anyio (uvicorn's): nothing in the callback says
    # "asyncio" to sniffio then, and the close failed with NoEventLoopError. The callback inherits the
    # context of the call that queued it, so clearing anyio's marker here is what uvicorn's loop has.
    import sniffio

    from sioactor._lowlevel import current_backend

    log: list[str] = []
    scheduler = EngineScheduler()
    session = WaitingSession("s", log, scheduler)
    async with anyio.create_task_group() as tg:
        await tg.start(scheduler.run, current_backend().call_soon)
        marker = sniffio.current_async_library_cvar.set(None)
        try:
            scheduler.finish_soon(session)
        finally:
            sniffio.current_async_library_cvar.reset(marker)
        with anyio.fail_after(5):
            await session.waited.wait()
        tg.cancel_scope.cancel()
    assert log == ["s:finish", "s:waited"]
    assert "failed" not in caplog.text


async def test_a_burst_of_sends_is_one_write_and_close_calls_on_close_later_once() -> None:
    listener, writer = Listener(), FakeWriter()
    async with scheduler_running() as scheduler:
        session = new_session(scheduler, listener)
        session.attach_writer(writer)
        for i in range(50):
            session.send(f"m{i}")
        await anyio.wait_all_tasks_blocked()
        assert writer.batches == [[f"m{i}" for i in range(50)]]
        session.close()
        session.close(EngineCloseReason.TRANSPORT_CLOSE)
        assert listener.closed == []  # never re-entrantly inside close()
        await anyio.wait_all_tasks_blocked()
        assert listener.closed == [EngineCloseReason.FORCED_CLOSE]
        assert writer.batches[-1] == [Packet(PacketType.CLOSE)]
        assert writer.ended == 1


async def test_a_blocked_write_waits_in_a_task_and_a_discarding_close_cuts_it_short() -> None:
    listener, writer = Listener(), FakeWriter()
    async with scheduler_running() as scheduler:
        session = new_session(scheduler, listener)
        session.attach_writer(writer)
        writer.blocked = True
        session.send("a")
        await anyio.wait_all_tasks_blocked()
        session.send("b")  # queued behind the blocked write
        await anyio.wait_all_tasks_blocked()
        assert writer.batches == [["a"]]
        writer.release.set()
        await anyio.wait_all_tasks_blocked()
        assert writer.batches == [["a"], ["b"]]
        writer.blocked, writer.release = True, anyio.Event()
        session.send("c")
        await anyio.wait_all_tasks_blocked()
        session.send("dropped")
        session.close(EngineCloseReason.TRANSPORT_ERROR)
        with anyio.fail_after(1):
            await anyio.wait_all_tasks_blocked()
        assert listener.closed == [EngineCloseReason.TRANSPORT_ERROR]
        assert writer.batches[-1] == ["c"]
        assert writer.ended == 1


async def test_a_flushing_close_behind_a_blocked_write_gives_up_after_flush_timeout() -> None:
    listener, writer = Listener(), FakeWriter()
    async with scheduler_running() as scheduler:
        session = new_session(scheduler, listener, flush_timeout=0.05)
        session.attach_writer(writer)
        writer.blocked = True
        session.send("a")
        await anyio.wait_all_tasks_blocked()
        session.send("b")
        session.close()
        with anyio.fail_after(2):
            await listener.any_closed.wait()
        assert listener.closed == [EngineCloseReason.FORCED_CLOSE]
        assert writer.batches == [["a"]]
        assert writer.ended == 1


async def test_the_heartbeat_pings_through_the_scheduler_and_times_out() -> None:
    listener, writer = Listener(), FakeWriter()
    async with scheduler_running() as scheduler:
        session = new_session(scheduler, listener, ping_interval=0.05, ping_timeout=0.05)
        session.attach_writer(writer)
        with anyio.fail_after(2):
            await listener.any_closed.wait()
        assert writer.batches[0] == [Packet(PacketType.PING)]
        assert listener.closed == [EngineCloseReason.PING_TIMEOUT]
        assert session.scheduled_at == math.inf


async def test_a_message_while_the_pong_is_awaited_gives_the_client_one_more_ping_timeout() -> None:
    # As Node's engine.io: a pong waiting behind the client's own burst does not time it out.
    listener, writer = Listener(), FakeWriter()
    async with scheduler_running() as scheduler:
        session = new_session(scheduler, listener, ping_interval=0.05, ping_timeout=0.2)
        session.attach_writer(writer)
        await anyio.sleep(0.2)  # the ping went out at 0.05: its pong is due at 0.25
        assert writer.batches[0] == [Packet(PacketType.PING)]
        session.receive(Packet(PacketType.MESSAGE, "still here"))
        await anyio.sleep(0.15)  # past the first deadline, within the refreshed one (0.4)
        assert listener.closed == []
        session.receive(Packet(PacketType.PONG))
        assert session.connected


async def test_outbound_messages_are_counted_not_traced_unless_selected() -> None:
    hub = TraceHub()
    listener = Listener()
    async with scheduler_running() as scheduler:
        session = EngineSession(
            sid="s2",
            protocol=4,
            transport="websocket",
            request=RequestInfo(path="/engine.io/"),
            config=session_config(EngineConfig()),
            listener=listener,
            scheduler=scheduler,
            tracer=hub,
        )
        with hub.subscribe(messages=(), summaries=True) as sub:
            session.send("counted")
            session.send("counted too")
            hub.flush()
            got: list[object] = []
            while True:
                try:
                    got.append(sub.receive_nowait())
                except anyio.WouldBlock:
                    break
        enqueued = [r for r in got if isinstance(r, TraceRecord) and r.event.kind is TraceKind.ENQUEUED]
        assert enqueued == []  # no per-message record while nobody selected this session
        counts = [a.enqueued for r in got if isinstance(r, StatsRecord) for a in r.actors if a.actor == "s2"]
        assert counts == [2]
        with hub.subscribe(messages=("s2",)) as detail:
            session.send("watched")
            record = detail.receive_nowait()
            assert isinstance(record, TraceRecord)
            assert (record.event.kind, record.event.message) == (TraceKind.ENQUEUED, "str")
        session.close()
        await anyio.wait_all_tasks_blocked()
