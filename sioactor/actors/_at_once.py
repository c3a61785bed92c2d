"""Work that cannot suspend, run at once: the proof that a coroutine function never suspends (read from its
bytecode), and the driver that runs such a coroutine to its end without an event loop turn.

An idle actor handles a message whose handling cannot suspend in the caller's task (see
``LazyActor.tell_or_handle``): a task switch saved per message. Both halves of that live here, so that the
promise and its enforcement are read together.
"""

from __future__ import annotations

import dis
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Final, TypeVar

__all__ = ("never_suspends", "run_to_completion")

R = TypeVar("R")

# The opcodes by which a coroutine's own frame can suspend (an await, async for, async with all compile to
# YIELD_VALUE after one of the others; each is listed so that no Python version's spelling slips through).
_SUSPENDING_OPS: Final = frozenset(
    ("YIELD_VALUE", "YIELD_FROM", "SEND", "GET_AWAITABLE", "GET_AITER", "GET_ANEXT", "BEFORE_ASYNC_WITH")
)


def never_suspends(fn: Callable[..., Any]) -> bool:
    """Tell if calling *fn* and awaiting the result certainly completes without suspending: *fn* is an
    ``async def`` (a plain function or a bound method of one) whose body has no await, async for or async
    with. A coroutine suspends only at such a point of its own frame, so this is a proof, not a guess; any
    other callable (a wrapper returning an awaitable, a callable object) is not trusted.
    """
    function = fn.__func__ if inspect.ismethod(fn) else fn
    if not inspect.isfunction(function):
        return False
    code = function.__code__
    if not code.co_flags & inspect.CO_COROUTINE:
        return False
    return not any(op.opname in _SUSPENDING_OPS for op in dis.get_instructions(code))


def run_to_completion(step: Coroutine[Any, Any, R], who: str) -> R:
    """Run *step*, a coroutine proven not to suspend, to its end here; return its result.

    Raises:
        RuntimeError: it suspended after all (the proof was wrong: a bug, not the peer's doing); the
            coroutine is closed rather than left half-run.
    """
    try:
        step.send(None)
    except StopIteration as done:
        result: R = done.value
        return result
    step.close()
    raise RuntimeError(f"{who} suspended, although it was to complete at once")
