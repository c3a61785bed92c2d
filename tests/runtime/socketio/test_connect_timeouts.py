"""The connect timeouts' queue: one task serves every client, in arming order, and only while one waits."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import anyio.abc
import pytest

from sioactor.runtime.socketio._connect_timeouts import ConnectTimeouts

pytestmark = pytest.mark.anyio


class FakeClient:
    def __init__(self, name: str, expired: list[str], done: anyio.Event | None = None) -> None:
        self.name = name
        self.connected = False
        self._expired = expired
        self._done = done  # set when this client's timeout fires

    def connect_timed_out(self) -> None:
        self._expired.append(self.name)
        if self._done is not None:
            self._done.set()


def spawner(
    tg: anyio.abc.TaskGroup, started: list[int]
) -> Callable[[Callable[[], Coroutine[Any, Any, None]]], None]:
    def spawn(fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        started.append(1)
        tg.start_soon(fn)

    return spawn


async def test_unconnected_clients_expire_in_order_and_connected_or_collected_ones_are_skipped() -> None:
    expired: list[str] = []
    started: list[int] = []
    async with anyio.create_task_group() as tg:
        timeouts = ConnectTimeouts(0.2, spawner(tg, started))
        done = anyio.Event()
        first, joined = FakeClient("first", expired), FakeClient("joined", expired)
        second = FakeClient("second", expired, done)
        timeouts.arm(first)
        timeouts.arm(joined)
        gone = FakeClient("gone", expired)
        timeouts.arm(gone)
        timeouts.arm(second)
        del gone  # the queue's reference is weak: a client nobody holds is not kept for its timeout
        joined.connected = True
        await anyio.sleep(0.05)
        assert expired == []  # not before the timeout
        with anyio.fail_after(2):
            await done.wait()
        assert expired == ["first", "second"]
        assert started == [1]  # one task for the four
        await anyio.sleep(0.01)  # the task has ended with the queue empty; a new client starts another
        done = anyio.Event()
        later = FakeClient("later", expired, done)
        timeouts.arm(later)
        with anyio.fail_after(2):
            await done.wait()
        assert expired == ["first", "second", "later"]
        assert started == [1, 1]
