"""``FailureLog``: per reason, the first failure with its traceback, then a count per window."""

from __future__ import annotations

import logging

import pytest

from sioactor._errors import InternalChannelFull
from sioactor.actors._failure_log import FailureLog


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def raised(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:
        return caught


def test_repeats_are_counted_per_reason_and_summed_up_per_window(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    log = FailureLog(logging.getLogger("test.failures"), "socket:/:abc: a handler failed", clock=clock)
    with caplog.at_level(logging.ERROR, logger="test.failures"):
        for _ in range(76_787):
            log.failed(raised(InternalChannelFull("abc", "payload")))
            clock.now += 0.0001
        log.failed(raised(ValueError("bad")))  # another reason: its own first traceback
        clock.now += 10
        log.failed(raised(InternalChannelFull("abc", "payload")))  # the window is over: a count, then anew
        log.close()
    lines = [(r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert len(lines) == 4  # close() has nothing to add: the last windows saw one failure each
    first, other, count, again = lines
    assert first[0].startswith("socket:/:abc: a handler failed (InternalChannelFull): ")
    assert other[0] == "socket:/:abc: a handler failed (ValueError): bad"
    assert count == ("socket:/:abc: a handler failed \u00d776,787 in 7.7 s (InternalChannelFull)", False)
    assert again[0] == first[0]
    assert (first[1], other[1], again[1]) == (True, True, True)  # with their tracebacks


def test_a_single_failure_is_one_line_and_close_adds_nothing(caplog: pytest.LogCaptureFixture) -> None:
    log = FailureLog(
        logging.getLogger("test.failures"), "client:x: an event was dropped", level=logging.WARNING
    )
    with caplog.at_level(logging.WARNING, logger="test.failures"):
        log.failed(raised(ValueError("once")), what="event 'e'", traceback=False)
        log.close()
    assert [(r.levelno, r.getMessage(), r.exc_info) for r in caplog.records] == [
        (logging.WARNING, "client:x: an event was dropped (ValueError): event 'e': once", None)
    ]
