"""The behaviours the official engine.io-protocol suite checks, against examples/reference_server.py.

Each test mirrors one of the suite's 24 cases (written here from PROTOCOL-NOTES, not copied), over real
loopback sockets with httpx and the ``websockets`` client, against the server run as a subprocess on every
stack it supports: the embedded server on asyncio and trio, uvicorn, and hypercorn on both backends.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import httpx
import pytest
from reference_process import reference_server
from suite_kit import check_open, close_over_polling, handshake, recv
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

pytestmark = pytest.mark.interop

STACKS = [
    ("embedded", "asyncio"),
    ("embedded", "trio"),
    ("uvicorn", "asyncio"),
    ("hypercorn", "asyncio"),
    ("hypercorn", "trio"),
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the clients (httpx + websockets) run on asyncio; the server's backend is the param


@pytest.fixture(scope="module", params=STACKS, ids=lambda s: f"{s[0]}-{s[1]}")
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with reference_server(*request.param) as port:
        yield f"127.0.0.1:{port}/engine.io/"


@pytest.mark.anyio
async def test_polling_handshake_and_its_errors(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        res = await client.get(f"http://{base_url}?EIO=4&transport=polling")
        assert res.status_code == 200
        assert res.headers["content-type"] == "text/plain; charset=UTF-8"
        check_open(res.text, ["websocket"])
        for query in ("transport=polling", "EIO=abc&transport=polling", "EIO=4", "EIO=4&transport=abc"):
            assert (await client.get(f"http://{base_url}?{query}")).status_code == 400, query
        for method in ("POST", "PUT"):
            res = await client.request(method, f"http://{base_url}?EIO=4&transport=polling")
            assert res.status_code == 400
            assert res.json() == {"code": 2, "message": "Bad handshake method"}


@pytest.mark.anyio
async def test_websocket_handshake_and_refusals(base_url: str) -> None:
    async with connect(f"ws://{base_url}?EIO=4&transport=websocket") as ws:
        check_open(await recv(ws), [])
    for query in ("transport=websocket", "EIO=abc&transport=websocket", "EIO=4", "EIO=4&transport=abc"):
        with pytest.raises(InvalidStatus):
            async with connect(f"ws://{base_url}?{query}"):
                pass


@pytest.mark.anyio
async def test_polling_messages_echo(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        for body in ("4hello", "4test1\x1e4test2\x1e4test3", "4hello\x1ebAQIDBA=="):
            sid = await handshake(client, base_url)
            url = f"http://{base_url}?EIO=4&transport=polling&sid={sid}"
            push = await client.post(url, content=body)
            assert (push.status_code, push.text) == (200, "ok")
            poll = await client.get(url)
            assert (poll.status_code, poll.text) == (200, body)


@pytest.mark.anyio
async def test_polling_invalid_packet_closes_the_session(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        sid = await handshake(client, base_url)
        url = f"http://{base_url}?EIO=4&transport=polling&sid={sid}"
        assert (await client.post(url, content="abc")).status_code == 400
        assert (await client.get(url)).status_code == 400


@pytest.mark.anyio
async def test_duplicate_poll_closes_the_session(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        sid = await handshake(client, base_url)
        url = f"http://{base_url}?EIO=4&transport=polling&sid={sid}"
        results: dict[str, httpx.Response] = {}

        async def first() -> None:
            results["first"] = await client.get(url)

        async with anyio.create_task_group() as tg:
            tg.start_soon(first)
            await anyio.sleep(0.05)
            results["second"] = await client.get(url + "&t=burst")
        assert (results["first"].status_code, results["first"].text) == (200, "1")
        assert results["second"].status_code in (400, 500)
        assert (await client.get(url)).status_code == 400


@pytest.mark.anyio
async def test_websocket_messages_echo_and_invalid_packet_closes(base_url: str) -> None:
    async with connect(f"ws://{base_url}?EIO=4&transport=websocket") as ws:
        await recv(ws)
        await ws.send("4hello")
        assert await recv(ws) == "4hello"
        await ws.send(bytes([1, 2, 3, 4]))
        assert await recv(ws) == bytes([1, 2, 3, 4])
        await ws.send("abc")
        with pytest.raises(ConnectionClosed):
            await recv(ws)


@pytest.mark.anyio
async def test_heartbeat_over_polling(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        sid = await handshake(client, base_url)
        url = f"http://{base_url}?EIO=4&transport=polling&sid={sid}"
        for _ in range(3):
            poll = await client.get(url)
            assert (poll.status_code, poll.text) == (200, "2")
            assert (await client.post(url, content="3")).status_code == 200
        sid = await handshake(client, base_url)
        await anyio.sleep(0.5)
        assert (await client.get(f"http://{base_url}?EIO=4&transport=polling&sid={sid}")).status_code == 400


@pytest.mark.anyio
async def test_heartbeat_over_websocket(base_url: str) -> None:
    async with connect(f"ws://{base_url}?EIO=4&transport=websocket") as ws:
        await recv(ws)
        for _ in range(3):
            assert await recv(ws) == "2"
            await ws.send("3")
    async with connect(f"ws://{base_url}?EIO=4&transport=websocket") as ws:
        await recv(ws)
        assert await recv(ws) == "2"
        started = time.monotonic()
        with pytest.raises(ConnectionClosed):
            await recv(ws)
        assert time.monotonic() - started < 0.6


@pytest.mark.anyio
async def test_close_over_polling_and_websocket(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        sid = await handshake(client, base_url)
        await close_over_polling(client, f"http://{base_url}?EIO=4&transport=polling&sid={sid}")
    async with connect(f"ws://{base_url}?EIO=4&transport=websocket") as ws:
        await recv(ws)
        await ws.send("1")
        with pytest.raises(ConnectionClosed):
            await recv(ws)


async def probe_and_upgrade(client: httpx.AsyncClient, base_url: str, ws: ClientConnection, sid: str) -> None:
    await ws.send("2probe")
    assert await recv(ws) == "3probe"
    poll = await client.get(f"http://{base_url}?EIO=4&transport=polling&sid={sid}")
    assert (poll.status_code, poll.text) == (200, "6")
    await ws.send("5")


@pytest.mark.anyio
async def test_upgrade_then_echo_with_no_stray_noop(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        sid = await handshake(client, base_url)
        async with connect(f"ws://{base_url}?EIO=4&transport=websocket&sid={sid}") as ws:
            await probe_and_upgrade(client, base_url, ws, sid)
            await ws.send("4hello")
            assert await recv(ws) == "4hello"


@pytest.mark.anyio
async def test_after_upgrade_http_and_second_websocket_are_refused(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        sid = await handshake(client, base_url)
        async with connect(f"ws://{base_url}?EIO=4&transport=websocket&sid={sid}") as ws:
            await ws.send("2probe")
            assert await recv(ws) == "3probe"
            await ws.send("5")
            await anyio.sleep(0.02)
            poll = await client.get(f"http://{base_url}?EIO=4&transport=polling&sid={sid}")
            assert poll.status_code == 400
            post = await client.post(
                f"http://{base_url}?EIO=4&transport=polling&sid={sid}", content="4polled"
            )
            assert post.status_code == 400  # as Node: no polling request once the WebSocket carries it
            # Accepted (101), then closed at once, as Node's engine.io does: a refused handshake would make
            # the official suite's ws client report an error.
            async with connect(f"ws://{base_url}?EIO=4&transport=websocket&sid={sid}") as ws2:
                with pytest.raises(ConnectionClosed):
                    await recv(ws2)
            await ws.send("4hello")
            assert await recv(ws) == "4hello"  # "4polled" was never delivered
