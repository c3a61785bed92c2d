"""The garbage collector's settings while the embedded server runs.

CPython's defaults (a young-generation collection every 700 net allocations, a full one whenever the
long-lived objects grew by a quarter) are tuned for short scripts. A server holding thousands of
connections pays for them in full collections that walk every object of every connection: with 4,000
WebSockets each one took ~160 ms, and collections were ~27 % of the CPU spent connecting them (and each
one a latency spike). So while `serve_asgi` runs:

- everything alive once the app has started (modules, the app, its handlers) is frozen (``gc.freeze``):
  it is never garbage, and no collection walks it again;
- the young generation is collected every ``thresholds[0]`` net allocations instead of 700, the older ones
  less often; a young collection then walks at most that many objects (about a millisecond).

Reference cycles are still collected; only the cadence changes. The first server to start in a process
applies the settings and the last one to stop restores the previous ones (tests run several at once).
``ServerConfig.gc_thresholds = None`` leaves the collector alone.
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
            gc.unfreeze()
            _previous = None
