"""Running a coroutine that its caller declared will not suspend, to its end, without an event loop turn.

An idle actor handles a message whose handling cannot suspend in the caller's task (see
``Actor.tell_or_handle``): a task switch saved per message. The actor's ``handles_now`` is the promise
(it admits only handling written not to wait); ``run_to_completion`` enforces it: a coroutine that suspends
after all is closed and reported as the bug it is.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ("run_to_completion",)

R = TypeVar("R")


def run_to_completion(step: Coroutine[Any, Any, R], who: str) -> R:
    """Run *step*, a coroutine that must not suspend, to its end here; return its result.

    Raises:
        RuntimeError: it suspended after all (the promise was wrong: a bug, not the peer's doing); the
            coroutine is closed rather than left half-run.
    """
    try:
        step.send(None)
    except StopIteration as done:
        result: R = done.value
        return result
    step.close()
    raise RuntimeError(f"{who} suspended, although it was to complete at once")
