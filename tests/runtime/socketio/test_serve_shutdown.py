"""``io.serve()`` cancelled with clients connected: they are told before their connections close.

The server's shutdown stops accepting, runs the app's shutdown while the connections are still open, then
closes them: a WebSocket client gets DISCONNECT (``41``) and a close frame, a held long-poll is answered.
(The signals, SIGINT and SIGTERM, take the same path: tests/interop/test_shutdown.py.)
"""

from __future__ import annotations

import json

import anyio
import anyio.abc
import httpx
import pytest
from sio_ws_kit import connected

from sioactor.runtime.socketio import Socket, SocketIo

pytestmark = pytest.mark.anyio


def welcome(socket: Socket) -> None:
    pass


async def test_cancelling_serve_tells_every_client_before_closing() -> None:
    io = SocketIo()
    io.ns("/", welcome)
    serving = anyio.CancelScope()

    async def serve(*, task_status: anyio.abc.TaskStatus[int]) -> None:
        with serving:
            await io.serve("127.0.0.1", 0, task_status=task_status)

    async with anyio.create_task_group() as tg, httpx.AsyncClient(timeout=5) as http:
        port = await tg.start(serve)
        base = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
        url = f"{base}&sid={json.loads((await http.get(base)).text[1:])['sid']}"
        assert (await http.post(url, content="40")).text == "ok"
        assert (await http.get(url)).text.startswith('40{"sid":')
        answers: list[httpx.Response] = []
        answered = anyio.Event()

        async def poll() -> None:
            answers.append(await http.get(url))
            answered.set()

        async with connected(port) as ws:
            tg.start_soon(poll)
            await anyio.sleep(0.1)  # the poll is held
            started = anyio.current_time()
            serving.cancel()
            assert await ws.next_text() == "41"
            close = await ws.next_close()
            assert close.code == 1000
        with anyio.fail_after(5):
            await answered.wait()
        assert answers[0].status_code == 200
        assert answers[0].text in ("41", "41\x1e1")
    assert anyio.current_time() - started < 2
    async with httpx.AsyncClient() as late:
        with pytest.raises(httpx.ConnectError):
            await late.get(base)  # no longer accepting
