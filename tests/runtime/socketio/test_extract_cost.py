"""Per-call cost of a compiled handler: only the precomputed plan runs per message.

Prints nanoseconds per call (run with ``-s`` to see them); asserts a loose ceiling so that a regression to
per-call introspection (tens of microseconds) fails while a busy machine does not.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import attrs
import pytest

from sioactor.runtime.socketio._extract import Data, Event
from sioactor.runtime.socketio._handler import CallContext, compile_handler, register_context_type

CALLS = 20_000


class CostSocket:
    """Stands in for the Socket handle."""


register_context_type(CostSocket, "socket")


@attrs.frozen
class Msg:
    text: str
    n: int


async def per_call_ns(handler: Any, ctx: CallContext) -> float:
    start = time.perf_counter_ns()
    for _ in range(CALLS):
        await handler(ctx)
    return (time.perf_counter_ns() - start) / CALLS


@pytest.mark.anyio
async def test_compiled_call_overhead() -> None:
    async def raw(socket: CostSocket, data: Any, event: str) -> None:
        pass

    async def any_data(socket: CostSocket, data: Data[Any], event: Event) -> None:
        pass

    async def attrs_data(socket: CostSocket, data: Data[Msg], event: Event) -> None:
        pass

    ctx = CallContext(socket=CostSocket(), event="chat", args=({"text": "hi", "n": 1},))

    async def direct(c: CallContext) -> None:
        await raw(c.socket, c.args[0], c.event or "")

    with anyio.fail_after(30):
        base = await per_call_ns(direct, ctx)
        plain = await per_call_ns(compile_handler(any_data, kind="event"), ctx)
        converted = await per_call_ns(compile_handler(attrs_data, kind="event"), ctx)
    print(f"\ndirect {base:.0f} ns, Data[Any] {plain:.0f} ns, Data[attrs class] {converted:.0f} ns per call")
    assert plain < base + 5_000
    assert converted < base + 20_000
