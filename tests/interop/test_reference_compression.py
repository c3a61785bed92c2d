"""Compression as examples/reference_server.py serves it with no flag, on every stack it supports: polling
responses of 1 KiB and more to a request that accepts gzip (or deflate) come compressed, smaller ones do
not (Node's ``httpCompression`` default); on the WebSocket, permessage-deflate is off on the embedded server
and under uvicorn, whose own negotiation the reference server turns off (Node's ``perMessageDeflate``
default), and negotiated by hypercorn itself, which has no option for it.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator

import httpx
import pytest
from reference_process import reference_server
from websockets.asyncio.client import connect

pytestmark = [pytest.mark.interop, pytest.mark.anyio]

STACKS = [
    ("embedded", "asyncio"),
    ("embedded", "trio"),
    ("uvicorn", "asyncio"),
    ("hypercorn", "asyncio"),
    ("hypercorn", "trio"),
]
BIG = {"items": [{"id": n, "name": f"item {n}"} for n in range(100)]}  # ≈ 3 KB of JSON


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the clients (httpx, websockets) run on asyncio; the server's backend is the param


@pytest.fixture(scope="module", params=STACKS, ids=lambda s: f"{s[0]}-{s[1]}")
def stack(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    with reference_server(*request.param) as port:
        yield request.param[0], port


async def _poll(http: httpx.AsyncClient, url: str, accept: str) -> tuple[str | None, str]:
    """One polling GET with *accept* as its Accept-Encoding: its Content-Encoding and its decoded body,
    read from the raw bytes (httpx would inflate them unseen)."""
    async with http.stream("GET", url, headers={"accept-encoding": accept}) as res:
        assert res.status_code == 200
        raw = b"".join([chunk async for chunk in res.aiter_raw()])
        encoding = res.headers.get("content-encoding")
        assert int(res.headers["content-length"]) == len(raw)
    if encoding == "gzip":
        return encoding, gzip.decompress(raw).decode()
    if encoding == "deflate":
        return encoding, zlib.decompress(raw).decode()
    return encoding, raw.decode()


@pytest.mark.parametrize("accept", ["gzip, deflate, br", "deflate"])
async def test_polling_over_1kb_is_compressed_by_default(stack: tuple[str, int], accept: str) -> None:
    _, port = stack
    base = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
    async with httpx.AsyncClient(timeout=5) as http:
        opened = await http.get(base, headers={"accept-encoding": accept})
        assert "content-encoding" not in opened.headers  # the open packet is small
        url = f"{base}&sid={json.loads(opened.text[1:])['sid']}"
        assert (await http.post(url, content="40")).text == "ok"
        encoding, body = await _poll(http, url, accept)
        assert (encoding, body[:2]) == (None, "40")  # the CONNECT reply and the `auth` event: small
        assert (await http.post(url, content="421" + json.dumps(["echo_ack", BIG]))).text == "ok"
        encoding, body = await _poll(http, url, accept)
    assert len(body.encode()) >= 1024
    assert encoding == accept.split(",")[0]
    assert json.loads(body.removeprefix("431")) == [BIG]


async def test_websocket_compression_is_nodes_default_or_the_hosts(stack: tuple[str, int]) -> None:
    # websockets' client offers permessage-deflate by default, as socket.io-client's `ws` does.
    server, port = stack
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    async with connect(url, open_timeout=5) as ws:
        negotiated = ws.response.headers.get("Sec-WebSocket-Extensions")
        assert str(await ws.recv()).startswith("0{")
        await ws.send("40")
        assert str(await ws.recv()).startswith("40")
        await ws.send("421" + json.dumps(["echo_ack", BIG]))
        while not (reply := str(await ws.recv())).startswith("431"):
            pass
    assert json.loads(reply[3:]) == [BIG]
    if server in ("embedded", "uvicorn"):
        # Off unless asked for (`--compress`), as Node's perMessageDeflate: the reference server turns
        # uvicorn's own negotiation (on by default there) off as well.
        assert negotiated is None
    else:  # hypercorn always negotiates it itself; sioactor's option does not reach it
        assert negotiated is not None
        assert negotiated.startswith("permessage-deflate")
