"""The 32 cases of the official socket.io-protocol suite, against examples/reference_server.py at /socket.io/.

Written from what the suite checks (PROTOCOL-NOTES: frames compared as exact strings), not copied:
16 Engine.IO cases (handshake, heartbeat, close, upgrade) and 16 Socket.IO cases (connect, disconnect,
messages, acks, binary, malformed packets), over real loopback sockets with httpx and the ``websockets``
client. The server runs as a subprocess with the suite's settings (pingInterval 300 ms, pingTimeout 200 ms,
connectTimeout 1000 ms) on the embedded server and hypercorn for both backends and on uvicorn.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator

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
PING = "2"
PLACEHOLDERS = '{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}'


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the clients (httpx + websockets) run on asyncio; the server's backend is the param


@pytest.fixture(scope="module", params=STACKS, ids=lambda s: f"{s[0]}-{s[1]}")
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with reference_server(*request.param) as port:
        yield f"127.0.0.1:{port}/socket.io/"


# --- helpers -----------------------------------------------------------------------------------------------


async def recv_packet(ws: ClientConnection) -> str | bytes:
    """The next frame that is not a ping; pings are answered so a slow run never hits the ping timeout."""
    while (frame := await recv(ws)) == PING:
        await ws.send("3")
    return frame


async def assert_closed(ws: ClientConnection) -> None:
    """The server closes the connection; pings before the close are ignored."""
    with anyio.fail_after(2):
        while True:
            try:
                await ws.recv()
            except ConnectionClosed:
                return


def check_connect(frame: str | bytes, prefix: str) -> None:
    """A CONNECT reply: *prefix* then a JSON object whose only key is a string ``sid``."""
    assert isinstance(frame, str)
    assert frame.startswith(prefix)
    handshake = json.loads(frame[len(prefix) :])
    assert set(handshake) == {"sid"}
    assert isinstance(handshake["sid"], str)


async def polling_session(client: httpx.AsyncClient, base_url: str) -> str:
    """Opens an Engine.IO session over polling; returns the session's polling URL."""
    return f"http://{base_url}?EIO=4&transport=polling&sid={await handshake(client, base_url)}"


@pytest.fixture
async def raw_ws(base_url: str) -> AsyncIterator[ClientConnection]:
    """A WebSocket session past the Engine.IO handshake, no namespace joined."""
    async with connect(f"ws://{base_url}?EIO=4&transport=websocket") as ws:
        check_open(await recv(ws), [])
        yield ws


@pytest.fixture
async def main_ws(raw_ws: ClientConnection) -> ClientConnection:
    """A WebSocket session connected to ``/``, past the CONNECT reply and the ``auth`` event."""
    await raw_ws.send("40")
    check_connect(await recv_packet(raw_ws), "40")
    assert await recv_packet(raw_ws) == '42["auth",{}]'
    return raw_ws


# --- Engine.IO: handshake ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_polling_handshake_opens_a_session(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        res = await client.get(f"http://{base_url}?EIO=4&transport=polling")
        assert res.status_code == 200
        check_open(res.text, ["websocket"])


@pytest.mark.anyio
async def test_polling_handshake_invalid_eio_is_refused(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        for query in ("transport=polling", "EIO=abc&transport=polling"):
            assert (await client.get(f"http://{base_url}?{query}")).status_code == 400, query


@pytest.mark.anyio
async def test_polling_handshake_invalid_transport_is_refused(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        for query in ("EIO=4", "EIO=4&transport=abc"):
            assert (await client.get(f"http://{base_url}?{query}")).status_code == 400, query


@pytest.mark.anyio
async def test_polling_handshake_invalid_method_is_refused(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        for method in ("POST", "PUT"):
            res = await client.request(method, f"http://{base_url}?EIO=4&transport=polling")
            assert res.status_code == 400, method


@pytest.mark.anyio
async def test_websocket_handshake_opens_a_session(base_url: str) -> None:
    async with connect(f"ws://{base_url}?EIO=4&transport=websocket") as ws:
        check_open(await recv(ws), [])


@pytest.mark.anyio
@pytest.mark.parametrize("query", ["transport=websocket", "EIO=abc&transport=websocket"])
async def test_websocket_handshake_invalid_eio_is_refused(base_url: str, query: str) -> None:
    with pytest.raises(InvalidStatus):
        async with connect(f"ws://{base_url}?{query}"):
            pass


@pytest.mark.anyio
@pytest.mark.parametrize("query", ["EIO=4", "EIO=4&transport=abc"])
async def test_websocket_handshake_invalid_transport_is_refused(base_url: str, query: str) -> None:
    with pytest.raises(InvalidStatus):
        async with connect(f"ws://{base_url}?{query}"):
            pass


# --- Engine.IO: heartbeat ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_polling_ping_pong(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        url = await polling_session(client, base_url)
        for _ in range(3):
            poll = await client.get(url)
            assert (poll.status_code, poll.text) == (200, PING)
            push = await client.post(url, content="3")
            assert push.status_code == 200


@pytest.mark.anyio
async def test_polling_ping_timeout_closes_the_session(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        url = await polling_session(client, base_url)
        await anyio.sleep(0.3 + 0.2 + 0.05)  # pingInterval + pingTimeout, and a little slack
        assert (await client.get(url)).status_code == 400


@pytest.mark.anyio
async def test_websocket_ping_pong(raw_ws: ClientConnection) -> None:
    for _ in range(3):
        assert await recv(raw_ws) == PING
        await raw_ws.send("3")


@pytest.mark.anyio
async def test_websocket_ping_timeout_closes_the_session(raw_ws: ClientConnection) -> None:
    assert await recv(raw_ws) == PING
    started = time.monotonic()
    with pytest.raises(ConnectionClosed):
        await recv(raw_ws)
    assert time.monotonic() - started < 0.6


# --- Engine.IO: close --------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_polling_close_ends_the_session(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        await close_over_polling(client, await polling_session(client, base_url))


@pytest.mark.anyio
async def test_websocket_close_ends_the_session(raw_ws: ClientConnection) -> None:
    await raw_ws.send("1")
    await assert_closed(raw_ws)


# --- Engine.IO: upgrade ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_upgrade_from_polling_to_websocket(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        url = await polling_session(client, base_url)
        async with connect(url.replace("http", "ws", 1).replace("polling", "websocket")) as ws:
            await ws.send("2probe")
            assert await recv(ws) == "3probe"
            await ws.send("5")
            await ws.send("40")  # the upgraded transport carries Socket.IO from now on
            check_connect(await recv_packet(ws), "40")


@pytest.mark.anyio
async def test_after_upgrade_http_requests_are_refused(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        url = await polling_session(client, base_url)
        async with connect(url.replace("http", "ws", 1).replace("polling", "websocket")) as ws:
            await ws.send("2probe")
            await ws.send("5")
            assert await recv(ws) == "3probe"
            await anyio.sleep(0.02)
            assert (await client.get(url)).status_code == 400
            assert (await client.post(url, content="40")).status_code == 400


@pytest.mark.anyio
async def test_after_upgrade_a_second_websocket_is_refused(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        url = await polling_session(client, base_url)
        ws_url = url.replace("http", "ws", 1).replace("polling", "websocket")
        async with connect(ws_url) as ws:
            await ws.send("2probe")
            await ws.send("5")
            assert await recv(ws) == "3probe"
            await anyio.sleep(0.02)
            # Accepted (101), then closed at once, as Node's engine.io does (see the engine.io suite's case).
            async with connect(ws_url) as ws2:
                with pytest.raises(ConnectionClosed):
                    await recv(ws2)


# --- Socket.IO: connect ------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("connect_frame", "prefix", "auth_frame"),
    [
        ("40", "40", '42["auth",{}]'),
        ('40{"token":"123"}', "40", '42["auth",{"token":"123"}]'),
        ("40/custom,", "40/custom,", '42/custom,["auth",{}]'),
        ('40/custom,{"token":"abc"}', "40/custom,", '42/custom,["auth",{"token":"abc"}]'),
    ],
    ids=["main", "main-with-payload", "custom", "custom-with-payload"],
)
async def test_connect_to_a_namespace(
    raw_ws: ClientConnection, connect_frame: str, prefix: str, auth_frame: str
) -> None:
    await raw_ws.send(connect_frame)
    check_connect(await recv_packet(raw_ws), prefix)
    assert await recv_packet(raw_ws) == auth_frame


@pytest.mark.anyio
async def test_connect_to_an_unknown_namespace_is_refused(raw_ws: ClientConnection) -> None:
    await raw_ws.send("40/random")
    assert await recv_packet(raw_ws) == '44/random,{"message":"Invalid namespace"}'


@pytest.mark.anyio
async def test_invalid_handshake_closes_the_connection(raw_ws: ClientConnection) -> None:
    await raw_ws.send("4abc")
    await assert_closed(raw_ws)


@pytest.mark.anyio
async def test_no_connect_closes_the_connection(raw_ws: ClientConnection) -> None:
    await assert_closed(raw_ws)  # the raw client never pongs nor connects: either timeout closes it


@pytest.mark.anyio
async def test_no_connect_closes_the_connection_after_connect_timeout(raw_ws: ClientConnection) -> None:
    """Our own addition: with the heartbeat kept alive, connectTimeout (1000 ms) alone closes it."""
    started = time.monotonic()
    with pytest.raises(ConnectionClosed), anyio.fail_after(3):
        await recv_packet(raw_ws)
    assert 0.8 < time.monotonic() - started < 2


# --- Socket.IO: disconnect ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_disconnect_from_the_main_namespace(main_ws: ClientConnection) -> None:
    await main_ws.send("41")
    assert await recv(main_ws) == PING  # no reply to a DISCONNECT: the next frame is the heartbeat


@pytest.mark.anyio
async def test_connect_then_disconnect_from_a_custom_namespace(main_ws: ClientConnection) -> None:
    await main_ws.send("40/custom")
    check_connect(await recv_packet(main_ws), "40/custom,")
    assert await recv_packet(main_ws) == '42/custom,["auth",{}]'
    await main_ws.send("41/custom")
    await main_ws.send('42["message","message to main namespace"]')
    assert await recv_packet(main_ws) == '42["message-back","message to main namespace"]'


# --- Socket.IO: messages -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_plain_text_event(main_ws: ClientConnection) -> None:
    await main_ws.send('42["message",1,"2",{"3":[true]}]')
    assert await recv_packet(main_ws) == '42["message-back",1,"2",{"3":[true]}]'


@pytest.mark.anyio
async def test_event_with_binary_attachments(main_ws: ClientConnection) -> None:
    await main_ws.send(f'452-["message",{PLACEHOLDERS}]')
    await main_ws.send(bytes([1, 2, 3]))
    await main_ws.send(bytes([4, 5, 6]))
    assert await recv_packet(main_ws) == f'452-["message-back",{PLACEHOLDERS}]'
    assert await recv_packet(main_ws) == bytes([1, 2, 3])
    assert await recv_packet(main_ws) == bytes([4, 5, 6])


@pytest.mark.anyio
async def test_plain_text_event_with_an_ack(main_ws: ClientConnection) -> None:
    await main_ws.send('42456["message-with-ack",1,"2",{"3":[false]}]')
    assert await recv_packet(main_ws) == '43456[1,"2",{"3":[false]}]'


@pytest.mark.anyio
async def test_event_with_binary_attachments_and_an_ack(main_ws: ClientConnection) -> None:
    await main_ws.send(f'452-789["message-with-ack",{PLACEHOLDERS}]')
    await main_ws.send(bytes([1, 2, 3]))
    await main_ws.send(bytes([4, 5, 6]))
    assert await recv_packet(main_ws) == f"462-789[{PLACEHOLDERS}]"
    assert await recv_packet(main_ws) == bytes([1, 2, 3])
    assert await recv_packet(main_ws) == bytes([4, 5, 6])


@pytest.mark.anyio
@pytest.mark.parametrize(
    "frame",
    ["4abc", "42{}", '42abc["message-with-ack",1,"2",{"3":[false]}]'],
    ids=["unknown-packet-type", "invalid-payload-format", "invalid-ack-id"],
)
async def test_malformed_packet_closes_the_connection(main_ws: ClientConnection, frame: str) -> None:
    await main_ws.send(frame)
    await assert_closed(main_ws)
