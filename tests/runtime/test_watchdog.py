"""The loop watchdog: a handler that blocks the event loop is named in the log (while it blocks and once it
ended) and in the trace, on both backends; a healthy loop reports nothing."""

from __future__ import annotations

import logging
import re
import time

import anyio
import pytest
from socketio_fakes import Harness, running
from trace_fakes import ListTracer

from sioactor import TraceKind
from sioactor._errors import ConfigError
from sioactor.runtime._watchdog import watch_loop
from sioactor.runtime.socketio import Socket, SocketIo, SocketIoConfig

pytestmark = pytest.mark.anyio

SID = "w" * 20


def compute_for_a_while() -> None:
    time.sleep(0.6)  # stands for a handler that computes: it never yields to the loop


def blocking_io(tracer: ListTracer) -> SocketIo:
    io = SocketIo(SocketIoConfig(stall_threshold=0.15), tracer=tracer)

    def crunch() -> None:  # a plain def: handled at once, in the task that read the event
        compute_for_a_while()

    async def crunch_in_task() -> None:  # an async def: handled in the socket's own task
        compute_for_a_while()

    async def on_connect(socket: Socket) -> None:
        socket.on("crunch", crunch)
        socket.on("crunch_in_task", crunch_in_task)

    io.ns("/", on_connect)
    return io


async def stall_with(h: Harness, event: str) -> None:
    conn = await h.open(SID)
    await h.feed(conn, "40")
    await h.feed(conn, f'42["{event}"]')
    await anyio.sleep(0.4)  # the watchdog's task wakes after the stall and reports its end


@pytest.mark.parametrize("event", ["crunch", "crunch_in_task"])
async def test_a_blocking_handler_is_named_in_the_log_and_the_trace(
    event: str, caplog: pytest.LogCaptureFixture
) -> None:
    tracer = ListTracer()
    caplog.set_level(logging.WARNING, logger="sioactor.watchdog")
    async with running(blocking_io(tracer)) as h:
        await stall_with(h, event)
    lines = [r.getMessage() for r in caplog.records if r.name == "sioactor.watchdog"]
    during = [line for line in lines if "blocked for over" in line]
    after = [line for line in lines if "was blocked for" in line]
    assert len(during) == 1, lines
    assert len(after) == 1, lines
    for line in (*during, *after):
        assert re.search(rf"by actor socket:/:\S+ \(socket\) in {event} \(test_watchdog.py:\d+\)", line)
        assert "at compute_for_a_while (test_watchdog.py:" in line
    stalls = tracer.of(TraceKind.LOOP_STALL)
    assert len(stalls) == 1
    assert stalls[0].actor.startswith("socket:/:")
    assert stalls[0].actor_kind == "socket"
    assert stalls[0].duration is not None
    assert 0.3 < stalls[0].duration < 2.0
    assert "compute_for_a_while" in (stalls[0].detail or "")


async def test_a_healthy_loop_reports_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="sioactor.watchdog")
    tracer = ListTracer()
    with anyio.move_on_after(0.5):
        await watch_loop(0.3, tracer)
    assert not [r for r in caplog.records if r.name == "sioactor.watchdog"]
    assert tracer.of(TraceKind.LOOP_STALL) == []


async def test_off_when_the_threshold_is_none(caplog: pytest.LogCaptureFixture) -> None:
    tracer = ListTracer()
    io = SocketIo(SocketIoConfig(stall_threshold=None), tracer=tracer)

    def crunch() -> None:
        time.sleep(0.3)

    io.on("crunch", crunch)
    async with running(io) as h:
        conn = await h.open(SID)
        await h.feed(conn, "40", '42["crunch"]')
        await anyio.sleep(0.2)
    assert tracer.of(TraceKind.LOOP_STALL) == []


def test_the_threshold_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="stall_threshold"):
        SocketIoConfig(stall_threshold=0)
