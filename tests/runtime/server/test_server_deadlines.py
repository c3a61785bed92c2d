"""No connection is held by a client that declares a body and never sends it (both backends): every read
has a deadline, and an answer sent without reading the body does not wait for it forever."""

from __future__ import annotations

import time
from typing import Any

import anyio
import anyio.abc
import pytest
from server_kit import DemoApp, running

pytestmark = pytest.mark.anyio

HELD = 200
TIMEOUTS = {"body_read_timeout": 0.5, "body_timeout": 1.0, "keep_alive_timeout": 5.0}


async def _closed_within(port: int, head: bytes, seconds: float) -> list[bytes]:
    """Open HELD connections that each send *head* only; return what each received before the server
    closed it, failing if any is still open after *seconds*."""
    answers: list[bytes] = [b""] * HELD

    async def one(index: int) -> None:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(head)
            while True:
                try:
                    answers[index] += await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return

    with anyio.fail_after(seconds):
        async with anyio.create_task_group() as tg:
            for index in range(HELD):
                tg.start_soon(one, index)
    return answers


async def test_an_answer_sent_without_reading_a_body_that_never_comes_closes_the_connection() -> None:
    # /scope answers at once and never reads the body it was promised.
    head = b"POST /scope HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n"
    async with running(DemoApp(), **TIMEOUTS) as port:
        started = time.monotonic()
        answers = await _closed_within(port, head, seconds=4.0)
        elapsed = time.monotonic() - started
    assert all(answer.startswith(b"HTTP/1.1 200 ") for answer in answers)
    assert elapsed >= TIMEOUTS["body_read_timeout"]  # the body was waited for, within the bound


async def test_a_body_read_that_never_completes_is_answered_408_and_closed() -> None:
    # /body reads the whole body: half of it comes, the rest never does.
    head = b"POST /body HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n" + b"x" * 50
    async with running(DemoApp(), **TIMEOUTS) as port:
        answers = await _closed_within(port, head, seconds=4.0)
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers)


async def test_a_trickled_body_is_cut_at_the_total_body_timeout() -> None:
    # A byte every 0.2 s keeps each read within body_read_timeout; the total bound still ends it.
    async def trickle(stream: anyio.abc.SocketStream) -> None:
        try:
            while True:
                await anyio.sleep(0.2)
                await stream.send(b"x")
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            return

    received = b""
    async with running(DemoApp(), **TIMEOUTS) as port, await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(b"POST /body HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n")
        with anyio.fail_after(4):
            async with anyio.create_task_group() as tg:
                tg.start_soon(trickle, stream)
                while True:
                    try:
                        received += await stream.receive()
                    except (anyio.EndOfStream, anyio.BrokenResourceError):
                        break
                tg.cancel_scope.cancel()
    assert received.startswith(b"HTTP/1.1 408 ")


async def test_a_body_that_arrives_after_the_answer_keeps_the_connection() -> None:
    app = DemoApp()
    async with running(app, **TIMEOUTS) as port, await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(b"POST /scope HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\n")
        with anyio.fail_after(4):
            first = await stream.receive()
            await anyio.sleep(0.1)
            await stream.send(b"abcGET /scope HTTP/1.1\r\nhost: x\r\n\r\n")
            second = await stream.receive()
    assert first.startswith(b"HTTP/1.1 200 ")
    assert second.startswith(b"HTTP/1.1 200 ")


async def test_a_long_poll_is_not_cut_by_the_body_deadlines() -> None:
    # The body is complete: waiting for the answer (or the client leaving) is the app's to bound.
    app = DemoApp()
    async with running(app, **TIMEOUTS) as port:
        stream = await anyio.connect_tcp("127.0.0.1", port)
        async with stream:
            await stream.send(b"POST /long-poll HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi")
            with anyio.move_on_after(1.5):
                received: Any = await stream.receive()
                pytest.fail(f"the long-poll was answered: {received!r}")
            assert not app.seen.disconnected.is_set()  # still waiting, past both body deadlines
        with anyio.fail_after(4):
            await app.seen.disconnected.wait()  # and the client leaving is seen
