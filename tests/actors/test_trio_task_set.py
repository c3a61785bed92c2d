"""`TrioTaskSet` (the supervisor's drain tasks on trio): tasks run in its nursery, ``wait`` returns once all
have ended, and a task that escapes with an error is logged without costing the others anything."""

from __future__ import annotations

import logging

import anyio
import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


async def test_tasks_run_to_the_end_and_an_escaping_error_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    from sioactor.actors._trio_task_set import TrioTaskSet

    finished: list[str] = []

    async def slow() -> None:
        await anyio.sleep(0.05)
        finished.append("slow")

    async def broken() -> None:
        raise ValueError("a bug")

    tasks = TrioTaskSet("test task", logging.getLogger("sioactor.test"))
    # The nursery nests like any scope: opened and waited for inside the same block.
    with caplog.at_level(logging.ERROR, logger="sioactor.test"), anyio.fail_after(5):
        await tasks.open()
        tasks.start(slow, "slow")
        tasks.start(broken, "broken")
        await tasks.wait()
    assert finished == ["slow"]
    assert "test task failed" in caplog.text
    assert "a bug" in caplog.text
