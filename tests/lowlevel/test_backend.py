"""`current_backend` and its task set, on both backends: the backend is told apart once and its primitives
are the loop's own; a task set runs its tasks to the end and handles an escaping error as documented."""

from __future__ import annotations

import logging

import anyio
import pytest

from sioactor._lowlevel import current_backend

pytestmark = pytest.mark.anyio


async def test_the_backend_is_the_running_one_and_its_clock_is_anyios(backend_name: str) -> None:
    backend = current_backend()
    assert backend.name == backend_name
    assert current_backend() is backend  # detected once per event loop, then reused
    assert abs(backend.clock() - anyio.current_time()) < 0.5
    assert (backend.call_soon is None) == (backend_name == "trio")


async def test_the_backends_cancel_scope_takes_a_deadline() -> None:
    backend = current_backend()
    with backend.new_cancel_scope(deadline=backend.clock() + 0.01) as scope:
        await anyio.sleep_forever()
    assert scope.deadline <= backend.clock()


def test_outside_an_event_loop_it_says_what_is_missing() -> None:
    with pytest.raises(RuntimeError, match="asyncio or trio"):
        current_backend()


async def test_a_task_set_runs_named_and_spawned_tasks_to_the_end() -> None:
    finished: list[str] = []

    async def slow(name: str) -> None:
        await anyio.sleep(0.02)
        finished.append(name)

    async def named() -> None:
        await slow("named")

    with anyio.fail_after(5):
        tasks = await current_backend().open_task_set("test task", logging.getLogger("sioactor.test"))
        tasks.start(named, "named")
        tasks.spawn(slow, "spawned")
        await tasks.wait()
    assert sorted(finished) == ["named", "spawned"]


async def test_cancel_and_wait_ends_running_tasks_after_their_cleanup() -> None:
    cleaned: list[str] = []

    async def forever() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0.01)
            cleaned.append("task")

    with anyio.fail_after(5):
        tasks = await current_backend().open_task_set("test task", logging.getLogger("sioactor.test"))
        tasks.spawn(forever)
        await anyio.wait_all_tasks_blocked()
        await tasks.cancel_and_wait()
    assert cleaned == ["task"]


async def test_an_escaping_error_is_logged_on_asyncio_and_raised_from_wait_on_trio(
    backend_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise ValueError("a bug")

    with caplog.at_level(logging.ERROR, logger="sioactor.test"), anyio.fail_after(5):
        tasks = await current_backend().open_task_set("test task", logging.getLogger("sioactor.test"))
        tasks.start(broken, "broken")
        if backend_name == "trio":
            with pytest.RaisesGroup(ValueError):
                await tasks.wait()
            return
        await tasks.wait()
    assert "test task failed" in caplog.text
    assert "a bug" in caplog.text
