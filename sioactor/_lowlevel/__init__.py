"""The few primitives sioactor takes from the event loop itself, behind one interface, one module per backend.

sioactor is written on anyio, once for asyncio and trio. A handful of primitives run so often (a wake-up per
message, a clock read per heartbeat check, a task per connection) that anyio's portable versions cost more
than the backend's own: anyio looks the backend up on every call, and wraps each primitive in another.
`current_backend` detects the running backend once and returns its `Backend`: those primitives as plain
functions, bound to the running loop, for the caller to keep and call directly (no look-up per call). As
anyio keeps its backends in ``_backends/``, everything backend-specific is in `_asyncio` and `_trio`; the
code above this package is written once.

Layering: this package sits below ``actors/`` and ``runtime/`` (both may import it) and imports neither, nor
``protocol/`` (which is sans-IO and must not import it). trio is an optional dependency: `_trio` is
imported only inside a trio run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol

__all__ = ("Backend", "CancelScope", "Signal", "TaskSet", "current_backend", "signal_factory")


class Signal(Protocol):
    """A one-shot wake-up for one parked task: ``set`` (any number of times) and ``wait``."""

    def set(self) -> None: ...
    def wait(self) -> Awaitable[object]: ...


class CancelScope(Protocol):
    """The backend's own cancel scope (anyio's on asyncio; trio's on trio, which anyio's wraps again)."""

    deadline: float

    def cancel(self) -> None: ...
    def __enter__(self) -> CancelScope: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...


class TaskSet(Protocol):
    """Tasks of one owner without anyio's per-task handle (a cancel scope and an event each).

    Every task must catch its own failures: one that escapes is a bug, logged on asyncio and raised out of
    ``wait`` on trio (as a task group raises it). ``wait`` and ``cancel_and_wait`` close the set; on trio
    they run in the task that opened it.
    """

    def spawn(self, fn: Callable[..., Coroutine[Any, Any, Any]], /, *args: Any) -> None:
        """Run ``fn(*args)`` as a task of the set."""

    def start(self, fn: Callable[[], Coroutine[Any, Any, Any]], name: str | None = None) -> None:
        """Run ``fn()`` as a task of the set named *name*."""

    async def wait(self) -> None:
        """Wait until every task has ended by itself."""

    async def cancel_and_wait(self) -> None:
        """Cancel every task still running and wait for all to end."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    """The running backend's primitives, bound once: keep them and call them directly.

    Attributes:
        name: ``"asyncio"`` or ``"trio"``.
        clock: ``anyio.current_time`` without its look-up of the backend: the loop's ``time`` on asyncio,
            ``trio.current_time`` on trio.
        call_soon: the asyncio loop's ``call_soon``; ``None`` on trio, whose ``run_sync_soon`` goes through
            a thread-safe queue (a task does that job there).
        new_signal: makes the cheapest `Signal`.
        new_cancel_scope: the cheapest cancel scope (keyword ``deadline`` like anyio's).
        open_task_set: ``await open_task_set(what, logger)`` opens a `TaskSet` whose escaping errors are
            logged as *what*.
    """

    name: Literal["asyncio", "trio"]
    clock: Callable[[], float]
    call_soon: Callable[[Callable[[], None]], object] | None
    new_signal: Callable[[], Signal]
    new_cancel_scope: Callable[..., CancelScope]
    open_task_set: Callable[[str, logging.Logger], Awaitable[TaskSet]]


_last: tuple[asyncio.AbstractEventLoop, Backend] | None = None  # the asyncio loop seen last, and its Backend


def current_backend() -> Backend:
    """The running backend's `Backend` (call it once in the running event loop and keep the result).

    Raises:
        RuntimeError: no asyncio loop and no trio run is running in this thread.
    """
    global _last
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio
        return _trio_backend()
    if _last is not None and _last[0] is loop:
        return _last[1]
    from ._asyncio import asyncio_backend

    backend = asyncio_backend(loop)
    _last = (loop, backend)
    return backend


def _trio_backend() -> Backend:
    try:
        from ._trio import TRIO_BACKEND, running_trio
    except ImportError:  # trio is not installed, so it is not running either
        raise RuntimeError("sioactor needs a running asyncio or trio event loop") from None
    if not running_trio():
        raise RuntimeError("sioactor needs a running asyncio or trio event loop")
    return TRIO_BACKEND


def signal_factory() -> Callable[[], Signal]:
    """``current_backend().new_signal``: the cheapest `Signal` of the running backend."""
    return current_backend().new_signal
