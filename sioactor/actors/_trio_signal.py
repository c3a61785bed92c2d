"""trio's `Signal`: one parked task, rescheduled directly by ``set``.

Imported only inside a trio run (trio is an optional dependency). A busy actor parks and is woken once per
message, and the engine scheduler's flushing task once per batch: ``trio.Event`` pays a ``ParkingLot`` for
each (a dict entry, an abort closure, a list of woken tasks), which one waiter does not need.
"""

from __future__ import annotations

import trio

__all__ = ("TrioSignal",)


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
