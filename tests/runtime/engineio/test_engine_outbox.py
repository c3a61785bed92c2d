"""The engine session's outbox: order, batches ending at the close packet, waits that lose nothing."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from sioactor.actors.engineio._outbox import Outbox
from sioactor.protocol.engineio import Packet, PacketType

pytestmark = pytest.mark.anyio

CLOSE = Packet(PacketType.CLOSE)


async def test_take_all_stops_after_the_close_packet_and_first_only_takes_one() -> None:
    outbox = Outbox(CLOSE)
    for entry in ("a", "b", CLOSE, "late"):
        outbox.put(entry)
    assert outbox.take(first_only=True) == ["a"]
    assert outbox.take(first_only=False) == ["b", CLOSE]
    assert outbox.take(first_only=False) == ["late"]
    assert outbox.take(first_only=False) == []


async def test_each_end_entry_ends_one_batch_and_dropped_or_cleared_ends_are_forgotten() -> None:
    outbox = Outbox(CLOSE)
    for entry in (CLOSE, "a", CLOSE, "b"):
        outbox.put(entry)
    outbox.drop_oldest()  # the first close goes; the second still ends a batch
    assert outbox.take(first_only=False) == ["a", CLOSE]
    assert outbox.take(first_only=False) == ["b"]
    outbox.put(CLOSE)
    outbox.clear()
    for entry in ("c", "d"):
        outbox.put(entry)
    assert outbox.take(first_only=False) == ["c", "d"]
    outbox.put(CLOSE)
    assert outbox.take(first_only=True) == [CLOSE]
    outbox.put("e")
    outbox.put(Packet(PacketType.CLOSE))  # equal to the end entry, not the end entry itself
    assert outbox.take(first_only=False) == ["e", CLOSE]


async def test_a_waiting_reader_wakes_on_put_and_on_close() -> None:
    outbox = Outbox(CLOSE)
    woke: list[bool] = []
    async with anyio.create_task_group() as tg:

        async def reader() -> None:
            woke.append(await outbox.wait())
            outbox.take(first_only=False)
            woke.append(await outbox.wait())

        tg.start_soon(reader)
        with anyio.fail_after(2):
            await anyio.wait_all_tasks_blocked()
            outbox.put("x")
            await anyio.wait_all_tasks_blocked()
            outbox.close()
    assert woke == [True, False]


async def test_a_cancelled_wait_loses_nothing_and_drop_oldest_drops_the_head() -> None:
    outbox = Outbox(CLOSE)
    with anyio.move_on_after(0.01):
        await outbox.wait()
    outbox.put("a")
    outbox.put("b")
    outbox.drop_oldest()
    assert len(outbox) == 1
    with anyio.fail_after(1):
        assert await outbox.wait()
    assert outbox.take(first_only=False) == ["b"]


async def test_wait_while_is_cut_short_by_a_put_and_reports_a_watch_that_ends_first() -> None:
    outbox = Outbox(CLOSE)
    watching = anyio.Event()

    async def watch_forever() -> None:
        watching.set()
        await anyio.sleep_forever()

    async def put_when_watching() -> None:
        await watching.wait()
        outbox.put("a")

    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            tg.start_soon(put_when_watching)
            assert await outbox.wait_while(watch_forever) is True
        assert outbox.take(first_only=False) == ["a"]

        async def client_gone() -> None:
            await anyio.lowlevel.checkpoint()

        assert await outbox.wait_while(client_gone) is False
        outbox.close()
        assert await outbox.wait_while(watch_forever) is True  # closed: nothing to wait for


async def test_wait_while_cancels_its_watch_through_the_given_outside_tasks_call() -> None:
    outbox = Outbox(CLOSE)
    watching = anyio.Event()
    deferred: list[Callable[[], None]] = []
    run_deferred = anyio.Event()

    def outside_tasks(call: Callable[[], None]) -> None:
        deferred.append(call)
        run_deferred.set()

    async def watch_forever() -> None:
        watching.set()
        await anyio.sleep_forever()

    async def put_then_run_the_deferred_cancel() -> None:
        await watching.wait()
        outbox.put("a")
        assert len(deferred) == 1  # the put did not cancel by itself
        await run_deferred.wait()
        deferred.pop()()

    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            tg.start_soon(put_then_run_the_deferred_cancel)
            assert await outbox.wait_while(watch_forever, outside_tasks) is True
    assert outbox.take(first_only=False) == ["a"]
