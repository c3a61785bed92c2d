"""The backends' `Signal` (a bare future on asyncio, a directly rescheduled task on trio): a wait returns once
``set`` ran, before or after it parked; a cancelled wait leaves nothing behind for a later ``set``."""

from __future__ import annotations

import anyio
import pytest

from sioactor._lowlevel import signal_factory

pytestmark = pytest.mark.anyio


async def test_a_wait_returns_after_a_set_that_came_first_or_later() -> None:
    new_signal = signal_factory()
    early = new_signal()
    early.set()
    early.set()  # idempotent
    with anyio.fail_after(1):
        await early.wait()
    late = new_signal()
    woken: list[str] = []

    async def waiter() -> None:
        await late.wait()
        woken.append("woken")

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        assert woken == []  # parked until the set
        late.set()
    assert woken == ["woken"]


async def test_a_cancelled_wait_leaves_the_signal_safe_to_set() -> None:
    signal = signal_factory()()
    with anyio.move_on_after(0.05) as scope:
        await signal.wait()
    assert scope.cancelled_caught
    signal.set()  # nobody waits any more: must not wake (or fail on) the cancelled task
    await anyio.sleep(0.01)


async def test_trio_wait_on_a_set_signal_is_still_a_checkpoint(anyio_backend_name: str) -> None:
    if anyio_backend_name != "trio":
        pytest.skip("asyncio's signal is a future: awaiting a done one returns at once, as asyncio does")
    signal = signal_factory()()
    signal.set()
    with anyio.CancelScope() as scope:
        scope.cancel()
        await signal.wait()
        pytest.fail("the wait did not check for cancellation")  # pragma: no cover
    assert scope.cancelled_caught


async def test_trio_signal_allows_one_waiter(anyio_backend_name: str) -> None:
    if anyio_backend_name != "trio":
        pytest.skip("asyncio's signal is a future, which any number may await")
    signal = signal_factory()()
    async with anyio.create_task_group() as tg:
        tg.start_soon(signal.wait)
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(RuntimeError, match="one waiter"):
            await signal.wait()
        signal.set()
