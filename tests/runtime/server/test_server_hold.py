"""Held responses (``DirectHttp.hold``): the app returns and answers later from elsewhere; the connection
meanwhile waits for the client, tells the app once if it leaves, and serves a pipelined request only after
the held answer. Bounded by the app's bound plus the keep-alive timeout."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from server_kit import raw_exchange, running

from sioactor.runtime._server._direct_http import DIRECT_HTTP, HeldAnswer

pytestmark = pytest.mark.anyio

_GET = b"GET /held HTTP/1.1\r\nhost: x\r\n\r\n"
_NOW = b"GET /now HTTP/1.1\r\nhost: x\r\n\r\n"


class HoldingApp:
    """``/held`` holds its response and keeps the answer for the test; ``/now`` answers at once."""

    def __init__(self, bound: float = 5.0) -> None:
        self.bound = bound
        self.answers: list[HeldAnswer] = []
        self.held = anyio.Event()
        self.gone: list[str] = []
        self.gone_event = anyio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        direct = scope["extensions"][DIRECT_HTTP]
        if scope["path"] == "/now":
            await direct.respond(200, [(b"content-type", b"text/plain")], b"now")
            return
        self.answers.append(direct.hold(self._gone, self.bound))
        self.held.set()

    def _gone(self) -> None:
        self.gone.append("gone")
        self.gone_event.set()


async def read_until(stream: Any, marker: bytes, count: int = 1) -> bytes:
    seen = b""
    with anyio.fail_after(5):
        while seen.count(marker) < count:
            seen += await stream.receive()
    return seen


async def test_a_held_response_answered_later_keeps_the_connection_for_the_next_request() -> None:
    app = HoldingApp()
    async with running(app) as port, await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(_GET)
        with anyio.fail_after(5):
            await app.held.wait()
        await anyio.sleep(0.05)
        app.answers[0](200, [(b"content-type", b"text/plain")], b"later")
        first = await read_until(stream, b"later")
        await stream.send(_NOW)
        second = await read_until(stream, b"now")
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-length: 5\r\n" in first
    assert second.startswith(b"HTTP/1.1 200 OK\r\n")
    assert app.gone == []


async def test_a_pipelined_request_waits_for_the_held_answer() -> None:
    app = HoldingApp()
    async with running(app) as port, await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(_GET + _NOW)  # the second request arrives while the first is held
        with anyio.fail_after(5):
            await app.held.wait()
        await anyio.sleep(0.1)
        app.answers[0](200, [(b"content-type", b"text/plain")], b"later")
        seen = await read_until(stream, b"HTTP/1.1 200 OK", count=2)
        seen += await read_until(stream, b"now") if not seen.endswith(b"now") else b""
    assert seen.index(b"later") < seen.index(b"now")  # answers in request order


async def test_a_client_leaving_a_held_response_is_told_once_and_a_late_answer_goes_nowhere() -> None:
    app = HoldingApp()
    async with running(app) as port:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(_GET)
            with anyio.fail_after(5):
                await app.held.wait()
        with anyio.fail_after(5):
            await app.gone_event.wait()
        app.answers[0](200, [], b"too late")  # nobody to answer: ignored, not an error
        assert app.gone == ["gone"]
        assert b"now" in await raw_exchange(port, _NOW.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n"))


async def test_a_held_response_never_answered_ends_within_its_bound_and_the_keep_alive() -> None:
    app = HoldingApp(bound=0.1)
    async with running(app, keep_alive_timeout=0.2) as port:
        with anyio.fail_after(5):
            answer = await raw_exchange(port, _GET)
    assert answer == b""  # the server closed the connection without an answer
    assert app.gone == ["gone"]


async def test_a_response_that_closes_the_connection_cannot_be_held() -> None:
    seen: list[object] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        direct = scope["extensions"][DIRECT_HTTP]
        seen.append(direct.can_hold)
        with pytest.raises(RuntimeError, match="cannot be held"):
            direct.hold(lambda: None, 5.0)
        await direct.respond(200, [], b"in the request")

    async with running(app) as port:
        answer = await raw_exchange(port, _GET.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n"))
    assert seen == [False]
    assert answer.endswith(b"in the request")


async def test_hold_refuses_a_bound_that_is_not_positive() -> None:
    refused: list[BaseException] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        try:
            scope["extensions"][DIRECT_HTTP].hold(lambda: None, 0)
        except ValueError as exc:
            refused.append(exc)
        await scope["extensions"][DIRECT_HTTP].respond(200, [], b"ok")

    async with running(app) as port:
        answer = await raw_exchange(port, _GET.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n"))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert len(refused) == 1
