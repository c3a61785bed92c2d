"""What the engine may use of the running event loop beyond anyio."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import anyio

from sioactor.actors._backend import running_trio

__all__ = ("loop_call_soon", "loop_clock")


def loop_call_soon() -> Callable[[Callable[[], None]], object] | None:
    """The running asyncio loop's ``call_soon``, or ``None`` on another backend (trio has no cheap equal:
    its ``run_sync_soon`` goes through a thread-safe queue), where the engine scheduler uses a task.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no asyncio loop runs this thread: trio
        return None
    call_soon: Callable[[Callable[[], None]], object] = loop.call_soon
    return call_soon


def loop_clock() -> Callable[[], float]:
    """``anyio.current_time`` for the running backend: asyncio's ``loop.time`` or ``trio.current_time``
    itself (anyio's looks the backend up on every call, which a session pays on every message it checks
    its heartbeat against)."""
    try:
        return asyncio.get_running_loop().time
    except RuntimeError:
        pass
    if not running_trio():
        return anyio.current_time
    import trio

    trio_clock: Callable[[], float] = trio.current_time
    return trio_clock
