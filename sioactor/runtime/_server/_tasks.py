"""The embedded server's connection tasks: one per connection, in the backend's task set.

anyio 4.16's ``TaskGroup.start_soon`` gives every task a handle with its own cancel scope and an ``Event``,
which an idle WebSocket keeps for as long as it is open, and a scope entered and left, plus an event set,
per start (three starts per connection). The server's tasks need none of it: none is awaited or given a
result, each catches its own failures. So they run in the backend's `TaskSet` (``sioactor._lowlevel``):
plain ``loop.create_task`` tasks on asyncio, a plain nursery on trio.

Structured all the same: `connection_tasks` is an async context manager, and leaving it (normally or
cancelled) cancels the tasks still running and waits for every one to end.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Protocol

from sioactor._lowlevel import Backend

__all__ = ("Spawn", "connection_tasks")

logger = logging.getLogger("sioactor.server")


class Spawn(Protocol):
    """Start ``fn(*args)`` as a task of the server; it must handle its own exceptions."""

    def __call__(self, fn: Callable[..., Coroutine[Any, Any, Any]], /, *args: Any) -> None: ...


@asynccontextmanager
async def connection_tasks(backend: Backend) -> AsyncIterator[Spawn]:
    """Yield a `Spawn` for tasks that are all cancelled and awaited when the block ends."""
    tasks = await backend.open_task_set("server task", logger)
    try:
        yield tasks.spawn
    finally:
        await tasks.cancel_and_wait()
