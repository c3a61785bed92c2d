"""trio's primitives (see the package's docstring): a directly rescheduled task as the `Signal`, a plain
nursery as the task set, trio's own clock and cancel scope.

Imported only inside a trio run (trio is an optional dependency).

`TrioSignal`: ``trio.Event`` wakes through a ``ParkingLot`` (a dict entry, an abort closure and a list of
woken tasks per wake), and anyio's Event wraps that again; one waiter needs only its task, rescheduled.

`TrioTaskSet`: anyio's ``start_soon`` gives every task a handle with a cancel scope and an event. The tasks
here sit in the nursery's cancel scope, a child of the scope the owner opened it in, so a cancellation of
the owner reaches them as it reaches a task group's tasks (trio has no way to shield the tasks alone).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import trio

from . import Backend, TaskSet

__all__ = ("TRIO_BACKEND", "TrioSignal", "TrioTaskSet", "running_trio")


def running_trio() -> bool:
    """True inside a trio run."""
    try:
        trio.lowlevel.current_root_task()  # raises RuntimeError outside a trio run
    except RuntimeError:
        return False
    return True


class TrioSignal:
    """A one-shot wake-up for one parked task: ``set`` (any number of times), then ``wait`` returns."""

    __slots__ = ("_set", "_task")

    def __init__(self) -> None:
        self._set = False
        self._task: trio.lowlevel.Task | None = None

    def set(self) -> None:
        if not self._set:
            self._set = True
            task, self._task = self._task, None
            if task is not None:
                trio.lowlevel.reschedule(task)

    async def wait(self) -> None:
        if self._set:
            await trio.lowlevel.checkpoint()  # as trio's Event: a wait is always a checkpoint
            return
        if self._task is not None:
            raise RuntimeError("a Signal has one waiter")
        self._task = trio.lowlevel.current_task()
        await trio.lowlevel.wait_task_rescheduled(self._abort)

    def _abort(self, _raise_cancel: object) -> trio.lowlevel.Abort:
        # Cancelled while parked: forget the task, so a later set() does not reschedule it.
        self._task = None
        return trio.lowlevel.Abort.SUCCEEDED


class TrioTaskSet:
    """Tasks of one owner in a nursery, opened by `open_task_set` in the owner's task."""

    __slots__ = ("_manager", "_nursery", "spawn")

    def __init__(self, manager: Any, nursery: trio.Nursery) -> None:
        self._manager = manager
        self._nursery = nursery
        self.spawn = nursery.start_soon  # the nursery's own, called directly

    def start(self, fn: Callable[[], Coroutine[Any, Any, Any]], name: str | None = None) -> None:
        """Run ``fn()`` as a task of the set named *name*."""
        self._nursery.start_soon(fn, name=name)

    async def wait(self) -> None:
        """Wait until every task has ended and close the nursery. A cancellation of the owner's scope that
        reached the tasks is raised here (as a task group raises it), for the owner to pass on."""
        manager, self._manager = self._manager, None
        if manager is not None:
            await manager.__aexit__(None, None, None)

    async def cancel_and_wait(self) -> None:
        """Cancel every task still running and wait for all to end."""
        self._nursery.cancel_scope.cancel()
        await self.wait()


async def _open_task_set(what: str, logger: logging.Logger) -> TaskSet:
    # trio raises a task's escaping error out of the nursery (as a task group does): nothing to log here.
    manager = trio.open_nursery()
    nursery = await manager.__aenter__()
    return TrioTaskSet(manager, nursery)


_open: Callable[[str, logging.Logger], Awaitable[TaskSet]] = _open_task_set

TRIO_BACKEND = Backend(
    name="trio",
    clock=trio.current_time,
    call_soon=None,
    new_signal=TrioSignal,
    new_cancel_scope=trio.CancelScope,
    open_task_set=_open,
)
