"""Long-polling on the embedded server, where the engine answers through the ``sioactor.direct_http``
extension: a poll with nothing queued is held and answered by the scheduler, and the server's connection,
waiting for the client's next request, tells the engine of a client that vanished."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
from eio_kit import WsClient, running

from sioactor.protocol._reasons import EngineCloseReason

pytestmark = pytest.mark.anyio


async def open_session(client: httpx.AsyncClient, base: str) -> str:
    response = await client.get(f"{base}?EIO=4&transport=polling")
    assert response.status_code == 200
    return str(json.loads(response.text[1:])["sid"])


async def test_a_long_poll_is_answered_when_a_message_is_queued() -> None:
    async with running() as server, httpx.AsyncClient() as client:
        sid = await open_session(client, server.base)
        url = f"{server.base}?EIO=4&transport=polling&sid={sid}"
        answers: list[httpx.Response] = []

        async def long_poll() -> None:
            answers.append(await client.get(url))

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(long_poll)
                await anyio.sleep(0.05)  # the GET waits on the empty outbox
                posted = await client.post(url, content=b"4hello")
                assert posted.status_code == 200
                assert posted.text == "ok"
        (answer,) = answers
        assert answer.status_code == 200
        assert answer.text == "4hello"  # the echo listener sent the message back
        assert answer.headers["content-type"] == "text/plain; charset=UTF-8"
        assert answer.headers["content-length"] == str(len(answer.content))


async def test_a_client_that_vanishes_mid_poll_closes_its_session_and_nothing_else() -> None:
    async with running(ping_interval=0.3, ping_timeout=5) as server, httpx.AsyncClient() as client:
        sid = await open_session(client, server.base)
        other = await open_session(client, server.base)
        async with await anyio.connect_tcp("127.0.0.1", server.port) as raw:
            await raw.send(
                f"GET /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nhost: x\r\n\r\n".encode()
            )
            await anyio.sleep(0.05)  # the poll is waiting
        # The socket is closed: the session ends with a transport error, as Node's "poll connection closed
        # prematurely", long before any heartbeat would notice.
        with anyio.fail_after(5):
            await server.listener.any_closed.wait()
        assert server.listener.closed == [EngineCloseReason.TRANSPORT_ERROR]
        assert sid not in server.engine.sessions
        assert other in server.engine.sessions
        answer = await client.get(f"{server.base}?EIO=4&transport=polling&sid={other}", timeout=5)
        assert answer.status_code == 200
        assert answer.text == "2"  # the other session still polls: its heartbeat came


async def test_a_poll_that_ends_the_request_keeps_the_connection_for_the_next_one() -> None:
    async with running() as server, await anyio.connect_tcp("127.0.0.1", server.port) as raw:
        head = b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nhost: x\r\n\r\n"
        await raw.send(head + head)  # two handshakes pipelined on one keep-alive connection
        seen = b""
        with anyio.fail_after(5):
            while seen.count(b'"sid"') < 2:
                seen += await raw.receive()
        assert seen.count(b"HTTP/1.1 200 OK\r\n") == 2
        assert b"connection: close" not in seen


async def test_a_poll_on_a_closing_connection_is_answered_in_its_request_then_the_connection_closes() -> None:
    async with running() as server, httpx.AsyncClient() as client:
        sid = await open_session(client, server.base)
        async with await anyio.connect_tcp("127.0.0.1", server.port) as raw:
            await raw.send(
                f"GET /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nhost: x\r\n"
                "connection: close\r\n\r\n".encode()
            )
            await anyio.sleep(0.05)  # the poll waits (not held: this connection closes after it)
            url = f"{server.base}?EIO=4&transport=polling&sid={sid}"
            assert (await client.post(url, content=b"4hello")).text == "ok"
            seen = b""
            with anyio.fail_after(5):
                while True:
                    try:
                        seen += await raw.receive()
                    except anyio.EndOfStream:
                        break  # the server closed the connection after the answer
        assert seen.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"connection: close\r\n" in seen
        assert seen.endswith(b"\r\n\r\n4hello")


async def read_response(raw: anyio.abc.SocketStream) -> bytes:
    """One whole response (head and Content-Length body) from a raw keep-alive connection."""
    seen = b""
    with anyio.fail_after(5):
        while b"\r\n\r\n" not in seen:
            seen += await raw.receive()
        head, _, body = seen.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += await raw.receive()
    return head + b"\r\n\r\n" + body


def poll_request(sid: str) -> bytes:
    return f"GET /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nhost: x\r\n\r\n".encode()


async def test_a_second_poll_while_one_is_held_closes_the_session_and_answers_both() -> None:
    async with running() as server, httpx.AsyncClient() as client:
        sid = await open_session(client, server.base)
        async with (
            await anyio.connect_tcp("127.0.0.1", server.port) as first,
            await anyio.connect_tcp("127.0.0.1", server.port) as second,
        ):
            await first.send(poll_request(sid))
            await anyio.sleep(0.05)  # held
            await second.send(poll_request(sid))
            refused = await read_response(second)
            released = await read_response(first)
        assert refused.startswith(b"HTTP/1.1 400 ")
        assert released.startswith(b"HTTP/1.1 200 OK\r\n")
        assert released.endswith(b"\r\n\r\n1")  # the close packet
        with anyio.fail_after(5):
            await server.listener.any_closed.wait()
        assert server.listener.closed == [EngineCloseReason.MULTIPLE_POLLING]


async def test_an_upgrade_probe_releases_the_held_poll_with_a_noop() -> None:
    async with running(ping_interval=30) as server, httpx.AsyncClient() as client:
        sid = await open_session(client, server.base)
        async with await anyio.connect_tcp("127.0.0.1", server.port) as raw:
            await raw.send(poll_request(sid))
            await anyio.sleep(0.05)  # held
            async with WsClient.connect(server.port, f"EIO=4&transport=websocket&sid={sid}") as ws:
                await ws.send_text("2probe")
                assert await ws.next_text() == "3probe"
                released = await read_response(raw)
                await ws.send_text("5")
                await ws.send_text("4after")
                assert await ws.next_text() == "4after"  # the session now runs over the WebSocket
        assert released.startswith(b"HTTP/1.1 200 OK\r\n")
        assert released.endswith(b"\r\n\r\n6")


async def test_requests_on_one_connection_with_the_same_headers_each_reach_their_own_session() -> None:
    # The engine reads a header set once per connection, but each request's query again: posts to two
    # sessions, with a random t= as socket.io-client sends, on one keep-alive connection and identical
    # headers, each land in their own session; an unknown sid with the same headers is refused.
    async with running() as server, httpx.AsyncClient() as client:
        first = await open_session(client, server.base)
        second = await open_session(client, server.base)
        posts = b""
        for stamp, sid, body in (("a1", first, b"4one"), ("b2", second, b"4two"), ("c3", "nope", b"4bad")):
            posts += (
                f"POST /engine.io/?EIO=4&transport=polling&t={stamp}&sid={sid} HTTP/1.1\r\nhost: x\r\n"
                f"content-length: {len(body)}\r\n\r\n"
            ).encode() + body
        async with await anyio.connect_tcp("127.0.0.1", server.port) as raw:
            await raw.send(posts)
            seen = b""
            with anyio.fail_after(5):
                while seen.count(b"HTTP/1.1 ") < 3 or not seen.endswith(b"}"):
                    seen += await raw.receive()
        assert seen.count(b"HTTP/1.1 200 OK\r\n") == 2
        assert b"HTTP/1.1 400 Bad Request\r\n" in seen
        assert b"Session ID unknown" in seen
        for sid, echoed in ((first, "4one"), (second, "4two")):
            answer = await client.get(f"{server.base}?EIO=4&transport=polling&sid={sid}", timeout=5)
            assert answer.text == echoed  # the echo listener sent each its own message back
