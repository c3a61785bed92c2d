"""The WebSocket transport over real loopback sockets on both backends: upgrade timeout, oversize messages,
and a client that sends faster than it reads its answers (throttled, never answered with loss).
"""

from __future__ import annotations

import json
import logging

import anyio
import httpx
import pytest
from eio_kit import WsClient, running

from sioactor.actors._trace import TraceKind
from sioactor.protocol._reasons import EngineCloseReason


async def handshake(client: httpx.AsyncClient, base: str) -> str:
    res = await client.get(f"{base}?EIO=4&transport=polling")
    assert res.status_code == 200
    return str(json.loads(res.text[1:])["sid"])


@pytest.mark.anyio
async def test_upgrade_that_never_completes_times_out_and_polling_continues() -> None:
    async with running(upgrade_timeout=0.3, ping_interval=30) as srv, httpx.AsyncClient() as http:
        sid = await handshake(http, srv.base)
        url = f"{srv.base}?EIO=4&transport=polling&sid={sid}"
        async with WsClient.connect(srv.port, f"EIO=4&transport=websocket&sid={sid}") as ws:
            await ws.send_text("2probe")
            assert await ws.next_text() == "3probe"
            start = anyio.current_time()
            close, frames = await ws.until_close()
            waited = anyio.current_time() - start
        assert frames == 0
        assert close.code == 1000
        assert 0.2 <= waited < 1.5
        session = srv.engine.sessions[sid]
        assert (session.transport, session.connected) == ("polling", True)
        assert (await http.post(url, content="4hello")).text == "ok"
        with anyio.fail_after(2):
            poll = await http.get(url)
        assert (poll.status_code, poll.text) == (200, "4hello")
        assert srv.listener.closed == []


@pytest.mark.anyio
async def test_oversize_websocket_message_closes_cleanly_with_a_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sioactor.engineio")
    async with running(max_payload=1000, ping_interval=30) as srv:
        async with WsClient.connect(srv.port, "EIO=4&transport=websocket") as ws:
            assert (await ws.next_text()).startswith("0{")
            await ws.send_text("4" + "x" * 999)
            assert await ws.next_text() == "4" + "x" * 999
            await ws.send_text("4" + "x" * 1000)
            close, frames = await ws.until_close()
        assert frames == 0
        assert (close.code, close.reason) == (1009, "message too big")
        with anyio.fail_after(2):
            await srv.listener.any_closed.wait()
    assert srv.listener.closed == [EngineCloseReason.TRANSPORT_ERROR]
    assert any("1001 bytes exceeds max_payload 1000" in r.getMessage() for r in caplog.records)
    [event] = srv.tracer.of(TraceKind.PROTOCOL_ERROR)
    assert event.detail == "message of 1001 bytes exceeds max_payload 1000"


@pytest.mark.anyio
async def test_client_flooding_a_websocket_it_does_not_read_is_throttled_and_loses_nothing() -> None:
    # The client sends echo requests and reads nothing: the socket's buffers fill, the session's writer
    # blocks, the outbox reaches max_buffer_size, and the server stops reading the client, so its sends
    # block in TCP. Its own echoes never meet the slow-consumer policy: once it reads, every one arrives.
    payload = "4" + "y" * 20_000
    total = 3000  # 60 MB: more than the kernel's buffers on both sides hold
    async with running(max_buffer_size=16, slow_consumer="disconnect", ping_interval=30) as srv:
        async with WsClient.connect(srv.port, "EIO=4&transport=websocket") as ws:
            assert (await ws.next_text()).startswith("0{")
            sent = 0
            with anyio.fail_after(30):
                async with anyio.create_task_group() as tg:

                    async def flood() -> None:
                        nonlocal sent
                        while sent < total:
                            await ws.send_text(payload)
                            sent += 1

                    tg.start_soon(flood)
                    await anyio.sleep(1.0)
                    throttled = sent
                    await anyio.sleep(0.3)
                    assert sent == throttled < total  # the server reads no more of the client
                    assert srv.listener.closed == []
                    echoed = 0
                    while echoed < total:
                        assert await ws.next_text() == payload
                        echoed += 1
        assert not srv.tracer.of(TraceKind.MAILBOX_FULL)
        depths = [e.depth for e in srv.tracer.events if e.depth is not None]
        assert max(depths, default=0) <= 16 + 4


@pytest.mark.anyio
async def test_v3_open_and_upgrade_match_node() -> None:
    # Node's engine.io 6 sends v3 clients the same five open keys, and nothing but the probe answer before
    # the upgrade: after "5" the next WebSocket frame is the echo, no noop (the noop goes to the poll).
    async with running(allow_eio3=True, ping_interval=30) as srv, httpx.AsyncClient() as http:
        res = await http.get(f"{srv.base}?EIO=3&transport=polling&b64=1")
        length, packet = res.text.split(":", 1)
        assert int(length) == len(packet)
        opened = json.loads(packet[1:])
        assert set(opened) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
        assert (opened["upgrades"], opened["maxPayload"]) == (["websocket"], 1_000_000)
        sid = opened["sid"]
        async with WsClient.connect(srv.port, f"EIO=3&transport=websocket&sid={sid}") as ws:
            await ws.send_text("2probe")
            assert await ws.next_text() == "3probe"
            with anyio.fail_after(2):
                poll = await http.get(f"{srv.base}?EIO=3&transport=polling&sid={sid}&b64=1")
            assert poll.text == "1:6"
            await ws.send_text("5")
            await ws.send_text("4hello")
            assert await ws.next_text() == "4hello"
            await ws.send_text("2")
            assert await ws.next_text() == "3"
            assert srv.engine.sessions[sid].transport == "websocket"


async def upgrade(ws: WsClient) -> None:
    await ws.send_text("2probe")
    assert await ws.next_text() == "3probe"
    await ws.send_text("5")
    await ws.send_text("4upgraded")
    assert await ws.next_text() == "4upgraded"


@pytest.mark.anyio
async def test_after_the_upgrade_a_post_gets_400_as_a_get_does_and_nothing_is_delivered() -> None:
    async with running(ping_interval=30) as srv, httpx.AsyncClient() as http:
        sid = await handshake(http, srv.base)
        url = f"{srv.base}?EIO=4&transport=polling&sid={sid}"
        async with WsClient.connect(srv.port, f"EIO=4&transport=websocket&sid={sid}") as ws:
            await upgrade(ws)
            for response in (await http.post(url, content="4polled"), await http.get(url)):
                assert response.status_code == 400
                assert response.json() == {"code": 3, "message": "Bad request"}
            await ws.send_text("4after")
            assert await ws.next_text() == "4after"  # "4polled" was never echoed
            assert srv.engine.sessions[sid].connected


@pytest.mark.anyio
@pytest.mark.parametrize("when", ["upgraded", "upgrading"])
async def test_a_second_websocket_for_the_session_is_accepted_then_closed(when: str) -> None:
    # As Node's engine.io: a 101, then a close frame at once (a refused handshake makes the ws client fail).
    async with running(ping_interval=30) as srv, httpx.AsyncClient() as http:
        sid = await handshake(http, srv.base)
        query = f"EIO=4&transport=websocket&sid={sid}"
        async with WsClient.connect(srv.port, query) as ws:
            if when == "upgraded":
                await upgrade(ws)
            async with WsClient.connect(srv.port, query) as second:  # asserts the 101
                close, frames = await second.until_close()
            assert (close.code, frames) == (1000, 0)
            if when == "upgrading":
                await upgrade(ws)
            await ws.send_text("4still")
            assert await ws.next_text() == "4still"
            assert srv.engine.sessions[sid].transport == "websocket"


@pytest.mark.anyio
async def test_a_repeated_probe_is_answered_again_and_the_upgrade_completes() -> None:
    async with running(ping_interval=30) as srv, httpx.AsyncClient() as http:
        sid = await handshake(http, srv.base)
        async with WsClient.connect(srv.port, f"EIO=4&transport=websocket&sid={sid}") as ws:
            for _ in range(3):
                await ws.send_text("2probe")
                assert await ws.next_text() == "3probe"
            await ws.send_text("5")
            await ws.send_text("4hello")
            assert await ws.next_text() == "4hello"
        assert srv.listener.closed in ([], [EngineCloseReason.TRANSPORT_CLOSE])


@pytest.mark.anyio
async def test_a_websocket_upgrade_over_http_1_0_is_refused() -> None:
    # RFC 6455 needs HTTP/1.1, and an HTTP/1.0 request's Upgrade is ignored: it is a plain GET, which the
    # engine refuses for the websocket transport.
    request = (
        b"GET /engine.io/?EIO=4&transport=websocket HTTP/1.0\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
        b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"
    )
    async with running(ping_interval=30) as srv, await anyio.connect_tcp("127.0.0.1", srv.port) as stream:
        await stream.send(request)
        answer = b""
        with anyio.fail_after(5):
            while True:
                try:
                    answer += await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    break
        assert answer.split(b" ", 2)[1] == b"400", answer
        assert not srv.engine.sessions
