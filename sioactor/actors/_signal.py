"""`Signal`: the cheapest one-shot wake-up for one parked task on each backend.

A busy actor parks and is woken once per message, and the engine scheduler's flushing task (trio) once per
batch; an ``anyio.Event`` costs more than the backend's own primitive on both backends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

import anyio

from sioactor.actors._backend import running_trio

__all__ = ("Signal", "signal_factory")


class Signal(Protocol):
    """A one-shot wake-up for one parked task: ``set`` (any number of times) and ``wait``."""

    def set(self) -> None: ...
    def wait(self) -> Awaitable[object]: ...


class _FutureSignal(asyncio.Future[None]):
    """asyncio's `Signal`: a bare future. An ``anyio.Event`` is an ``asyncio.Event`` with its own waiter
    deque and future per wait, ~2 us more for every park and wake of a busy actor."""

    def set(self) -> None:
        if not self.done():  # a cancelled wait leaves the future cancelled
            self.set_result(None)

    def wait(self) -> Awaitable[None]:
        return self


def signal_factory() -> Callable[[], Signal]:
    """The cheapest `Signal` of the running backend (call it in the running event loop)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio
        return _trio_signal() or _backend_event()
    return lambda: _FutureSignal(loop=loop)


def _trio_signal() -> Callable[[], Signal] | None:
    # The parked task itself, rescheduled by set(): trio's Event goes through a ParkingLot (a dict, an
    # abort closure and a list per wake), and anyio's Event wraps that again.
    if not running_trio():
        return None
    from sioactor.actors._trio_signal import TrioSignal

    return TrioSignal


def _backend_event() -> Callable[[], Signal]:
    # The backend's Event class, called directly: ``anyio.Event()`` looks the backend up (sniffio, a
    # context variable) on every call.
    event_type: Callable[[], Signal] = type(anyio.Event())
    return event_type
