"""The garbage collector's settings while the embedded server runs, when ``ServerConfig`` asks for them.

The collector is process-wide, so the server leaves it alone unless ``ServerConfig.gc_thresholds`` is set.
CPython's defaults (a young-generation collection every 700 net allocations, a full one whenever the
long-lived objects grew by a quarter) are tuned for short scripts. A server holding thousands of
connections pays for them in full collections that walk every object of every connection, each one also
a latency spike. With ``gc_thresholds`` set, while `serve_asgi` runs:

- everything alive once the app has started (modules, the app, its handlers) is frozen (``gc.freeze``):
  it is never garbage, and no collection walks it again;
- the young generation is collected every ``thresholds[0]`` net allocations instead of 700, the older ones
  less often; a young collection then walks at most that many objects.

Reference cycles are still collected; only the cadence changes. The first server to start in a process
applies the settings and the last one to stop restores the previous thresholds (tests run several at once).
It never calls ``gc.unfreeze``, which cannot tell whose objects it unfreezes and would undo a freeze the
host application made: what the server froze (alive once the app had started) stays frozen after it stops.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ("tuned_gc",)

_users = 0
_previous: tuple[int, int, int] | None = None


@contextmanager
def tuned_gc(thresholds: tuple[int, int, int] | None) -> Iterator[None]:
    """Freeze what is alive and apply *thresholds* for the duration (nothing if ``None``)."""
    global _users, _previous
    if thresholds is None:
        yield
        return
    if _users == 0:
        _previous = gc.get_threshold()
        gc.collect()  # what is garbage now is not frozen
        gc.freeze()
        gc.set_threshold(*thresholds)
    _users += 1
    try:
        yield
    finally:
        _users -= 1
        if _users == 0 and _previous is not None:
            gc.set_threshold(*_previous)
            _previous = None
