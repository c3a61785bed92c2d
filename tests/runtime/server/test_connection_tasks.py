"""The embedded server's connection tasks (`_tasks.connection_tasks`): structured, without anyio handles."""

from __future__ import annotations

import logging

import anyio
import pytest

from sioactor._lowlevel import current_backend
from sioactor.runtime._server._tasks import connection_tasks

pytestmark = pytest.mark.anyio


async def test_leaving_the_block_cancels_running_tasks_and_waits_for_their_cleanup() -> None:
    both_started = anyio.Event()
    started = 0
    cleaned: list[str] = []

    async def forever(name: str) -> None:
        nonlocal started
        started += 1
        if started == 2:
            both_started.set()
        try:
            await anyio.sleep_forever()
        finally:
            # Cleanup that awaits must still run to its end before the block is left.
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0.01)
            cleaned.append(name)

    async with connection_tasks(current_backend()) as spawn:
        spawn(forever, "a")
        spawn(forever, "b")
        await both_started.wait()
    assert sorted(cleaned) == ["a", "b"]


async def test_an_outer_cancellation_ends_the_tasks_too() -> None:
    ended: list[str] = []

    async def forever() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            ended.append("task")

    with anyio.move_on_after(0.05) as outer:
        async with connection_tasks(current_backend()) as spawn:
            spawn(forever)
            await anyio.sleep_forever()
    assert outer.cancelled_caught
    assert ended == ["task"]


async def test_anyio_cancel_scopes_and_deadlines_work_inside_a_task() -> None:
    outcome: list[bool] = []
    done = anyio.Event()

    async def with_deadline() -> None:
        with anyio.move_on_after(0.01) as scope:
            await anyio.sleep_forever()
        outcome.append(scope.cancelled_caught)
        done.set()

    async with connection_tasks(current_backend()) as spawn:
        spawn(with_deadline)
        with anyio.fail_after(5):
            await done.wait()
    assert outcome == [True]


async def test_finished_tasks_are_not_kept(backend_name: str) -> None:
    if backend_name != "asyncio":
        pytest.skip("the task set is asyncio's; trio's nursery forgets finished tasks itself")
    async with connection_tasks(current_backend()) as spawn:
        owner = spawn.__self__  # type: ignore[attr-defined]
        for _ in range(100):
            spawn(anyio.sleep, 0)
        assert len(owner._tasks) == 100
        with anyio.fail_after(5):  # each task's done callback runs a loop iteration after it ends
            while owner._tasks:  # noqa: ASYNC110 (the set offers no event to wait on)
                await anyio.sleep(0.001)


async def test_a_task_that_escapes_with_an_error_is_logged_on_asyncio(
    backend_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    if backend_name != "asyncio":
        pytest.skip("on trio an escaping error goes through the nursery, as trio does")
    survivor_done: list[bool] = []

    async def broken() -> None:
        raise ValueError("bug in a task")

    async def survivor() -> None:
        await anyio.sleep(0.02)
        survivor_done.append(True)

    with caplog.at_level(logging.ERROR, logger="sioactor.server"):
        async with connection_tasks(current_backend()) as spawn:
            spawn(broken)
            spawn(survivor)
            await anyio.sleep(0.05)
    assert survivor_done == [True]
    assert any("server task failed" in r.message and r.exc_info for r in caplog.records)
