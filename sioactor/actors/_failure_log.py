"""Repeated failures of one owner, logged as a count instead of a traceback each.

A client can make the same failure happen tens of thousands of times a second: a megabyte of tiny events
whose handler raises, or whose replies meet a full outbox (``InternalChannelFull``). A traceback per failure
costs far more than the failure (formatting it, writing it), blocks the event loop for every other client,
and buries the log. So an owner (a socket actor, an engine session) keeps one `FailureLog`: per reason (the
exception's class), the first failure is logged with its traceback and opens a window of ``window`` seconds;
the failures within it are only counted, and when the window is over (at the next failure, or when the owner
stops) one line says how many there were. The trace is unchanged: every failure is still traced, one event
each. The count reads: ``socket:/:sid: a handler failed ×76,787 in 9.9 s (InternalChannelFull)``.
"""  # noqa: RUF002 (the multiplication sign is meant)

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ("FailureLog",)

# Seconds during which repeats of a logged failure are only counted.
WINDOW = 10.0


class _Window:
    __slots__ = ("count", "last", "since")

    def __init__(self, now: float) -> None:
        self.since = now
        self.last = now
        self.count = 1  # the failure that opened the window, logged with its traceback


class FailureLog:
    """One owner's failures by reason, logged to *logger* at *level* as "*subject* (Reason)", e.g.
    ``"socket:/:sid: a handler failed"`` (see the module)."""

    __slots__ = ("_clock", "_level", "_logger", "_subject", "_windows", "window")

    def __init__(
        self,
        logger: logging.Logger,
        subject: str,
        *,
        level: int = logging.ERROR,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._subject = subject
        self._level = level
        self.window = window
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    def failed(self, exc: BaseException, *, what: str = "", traceback: bool = True) -> None:
        """Log a failure with *exc* (*what* failed, if given; with the traceback if *traceback*), or count
        it if one of its reason (*exc*'s class) was logged less than ``window`` seconds ago."""
        reason = type(exc).__name__
        now = self._clock()
        window = self._windows.get(reason)
        if window is not None:
            if now - window.since < self.window:
                window.count += 1
                window.last = now
                return
            self._summarize(reason, window)
        self._windows[reason] = _Window(now)
        self._logger.log(
            self._level,
            "%s (%s): %s%s",
            self._subject,
            reason,
            what and what + ": ",
            exc,
            exc_info=exc if traceback else None,
        )

    def close(self) -> None:
        """The owner stops: say how many failures of each reason were only counted."""
        for reason, window in self._windows.items():
            self._summarize(reason, window)
        self._windows.clear()

    def _summarize(self, reason: str, window: _Window) -> None:
        if window.count > 1:
            seconds = window.last - window.since
            count = f"{window.count:,}"
            self._logger.log(self._level, "%s \u00d7%s in %.1f s (%s)", self._subject, count, seconds, reason)
