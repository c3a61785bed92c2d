"""`TrioTaskSet`: trio's counterpart of `AsyncioTaskSet`, a plain nursery its owner enters and leaves.

Imported only inside a trio run (trio is an optional dependency). anyio's ``start_soon`` gives every task a
handle with a cancel scope and an event (on trio ~30 us under cProfile per start); a lazy actor's drain,
started on a socket's connect, needs neither. The tasks sit in the nursery's cancel scope, a child of the
scope the owner opened it in, so a cancellation of the owner reaches them as it reached the task group's
tasks (the owner's code inside is in that scope too: trio has no way to shield the tasks alone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import trio

__all__ = ("TrioTaskSet",)


class TrioTaskSet:
    """Tasks of one owner in a nursery; a task that escapes with an error is logged as *what*."""

    __slots__ = ("_manager", "_nursery", "_what", "logger")

    def __init__(self, what: str, logger: logging.Logger) -> None:
        self._what = what
        self.logger = logger
        self._manager: Any = None
        self._nursery: trio.Nursery | None = None

    async def open(self) -> None:
        """Open the nursery, in the owner's task (its ``wait`` must run in the same task, later)."""
        self._manager = trio.open_nursery()
        self._nursery = await self._manager.__aenter__()

    def start(self, fn: Callable[[], Coroutine[Any, Any, None]], name: str | None = None) -> None:
        """Run ``fn()`` as a task of the set."""
        assert self._nursery is not None, "open() first"
        self._nursery.start_soon(self._guarded, fn, name=name)

    async def _guarded(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        try:
            await fn()
        except Exception:
            # Every task here is written to catch its own failures; one that escapes is a bug, logged.
            self.logger.exception("%s failed", self._what)

    async def wait(self) -> None:
        """Wait until every task has ended and close the nursery. A cancellation of the owner's scope that
        reached the tasks is raised here (as a task group raises it), for the owner to pass on."""
        manager, self._manager, self._nursery = self._manager, None, None
        if manager is not None:
            await manager.__aexit__(None, None, None)
