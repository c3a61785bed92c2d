"""One client's flood of failing events must not stall the others, nor the log.

A client sends tens of thousands of tiny events at once, in one polling POST or in one WebSocket write, and
their handler always fails. Meanwhile a healthy WebSocket client's echo is timed: the server hands a
transport's packets over a step at a time (``PACKETS_PER_STEP``) and logs repeated failures as a count, so
the echo stays fast; the failures are all traced, and logged as one traceback plus one count.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from sio_ws_kit import Client, connected

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.socketio import Socket, SocketIo, SocketIoConfig
from sioactor.runtime.socketio._extract import Args

pytestmark = pytest.mark.anyio

FLOOD = 30_000  # events of 10 bytes: what a traceback each turned into seconds of a blocked event loop
EVENT = '42["fail"]'


class FailureCounter:
    """A tracer that counts the failures (and wants no per-message events)."""

    messages_wanted = False

    def __init__(self) -> None:
        self.failed = 0
        self.all_failed = anyio.Event()  # the whole flood

    def record(self, event: TraceEvent) -> None:
        if event.kind is TraceKind.HANDLER_FAILED:
            self.failed += 1
            if self.failed == FLOOD:
                self.all_failed.set()


def failing(socket: Socket) -> None:
    raise ValueError("this handler always fails")


def echo(socket: Socket, args: Args) -> None:
    socket.emit("echo", args)


@asynccontextmanager
async def serving(tracer: FailureCounter) -> AsyncIterator[int]:
    io = SocketIo(SocketIoConfig(), tracer=tracer)
    io.on("fail", failing)
    io.on("echo", echo)
    async with anyio.create_task_group() as tg:
        yield await tg.start(io.serve, "127.0.0.1", 0)
        tg.cancel_scope.cancel()


async def slowest_echo_while(flood: Callable[[], Awaitable[None]], healthy: Client) -> float:
    """Run *flood*; meanwhile time the healthy client's echoes, one at a time. Returns the slowest echo's
    seconds, after checking it against the flood's: handled in one go, the flood held the loop for as long
    as it lasted; a step at a time, an echo waits for a step (tens of milliseconds here, so the absolute
    bounds below are loose, for a busy machine and the garbage collections of a long test session)."""
    slowest = 0.0
    done = anyio.Event()
    started = anyio.current_time()

    async def flooding() -> None:
        try:
            await flood()
        finally:
            done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(flooding)
        sent = 0
        while not done.is_set() or sent < 3:
            sent_at = anyio.current_time()
            await healthy.send_text(f'42["echo",{sent}]')
            assert await healthy.next_text() == f'42["echo",{sent}]'
            slowest = max(slowest, anyio.current_time() - sent_at)
            sent += 1
    lasted = anyio.current_time() - started
    assert slowest < lasted / 4, (slowest, lasted)
    return slowest


def check_counted(caplog: pytest.LogCaptureFixture, tracer: FailureCounter) -> None:
    failed = [r for r in caplog.records if r.name == "sioactor.socketio" and "a handler failed" in r.message]
    assert 1 <= len(failed) <= 3, [r.message for r in failed]
    assert failed[0].exc_info is not None  # the first one's traceback
    assert tracer.failed == FLOOD  # the trace keeps every one


async def test_a_post_of_failing_events_leaves_the_others_served(caplog: pytest.LogCaptureFixture) -> None:
    tracer = FailureCounter()
    async with serving(tracer) as port, connected(port) as healthy, httpx.AsyncClient(timeout=60) as http:
        base = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
        sid = json.loads((await http.get(base)).text[1:])["sid"]
        url = f"{base}&sid={sid}"
        assert (await http.post(url, content="40")).text == "ok"
        assert (await http.get(url)).text.startswith('40{"sid":')
        answers: list[httpx.Response] = []

        async def post_flood() -> None:
            answers.append(await http.post(url, content="\x1e".join([EVENT] * FLOOD)))

        slowest = await slowest_echo_while(post_flood, healthy)
        assert (answers[0].status_code, answers[0].text) == (200, "ok")
    assert slowest < 1.0
    check_counted(caplog, tracer)


async def test_a_websocket_write_of_failing_events_leaves_the_others_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracer = FailureCounter()
    async with serving(tracer) as port, connected(port) as healthy, connected(port) as flooder:
        # Framed before the clock starts: masking 30,000 frames is the test's own work, in the same loop.
        for _ in range(FLOOD):
            flooder.protocol.send_text(EVENT.encode())
        frames = b"".join(flooder.protocol.data_to_send())

        async def write_flood() -> None:
            await flooder.stream.send(frames)
            with anyio.fail_after(30):
                await tracer.all_failed.wait()

        slowest = await slowest_echo_while(write_flood, healthy)
    assert slowest < 1.0
    check_counted(caplog, tracer)
