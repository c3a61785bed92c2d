"""Polling requests the embedded server serves from its read callback (``DirectHttp.serve_sync``): once a
keep-alive connection carried a polling request of a session, its next whole requests are answered or held
with no task woken; what the callback cannot serve goes to the connection's task. Either way a client sees
the same answers, in order, and a client leaving a poll held by the callback closes its session."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from eio_kit import EchoListener, running

from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime._server import ServerConfig, serve_asgi
from sioactor.runtime.engineio import EngineConfig, EngineServer, engine_asgi_app

pytestmark = pytest.mark.anyio


async def open_session(client: httpx.AsyncClient, base: str) -> str:
    response = await client.get(f"{base}?EIO=4&transport=polling")
    assert response.status_code == 200
    return str(json.loads(response.text[1:])["sid"])


def poll_request(sid: str) -> bytes:
    return f"GET /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nhost: x\r\n\r\n".encode()


def post_head(sid: str, size: int) -> bytes:
    return (
        f"POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nhost: x\r\n"
        f"content-type: text/plain\r\ncontent-length: {size}\r\n\r\n"
    ).encode()


async def read_responses(raw: anyio.abc.SocketStream, count: int) -> list[bytes]:
    """*count* whole responses (head and Content-Length body) from a raw keep-alive connection."""
    seen, responses = b"", []
    with anyio.fail_after(5):
        while len(responses) < count:
            while b"\r\n\r\n" not in seen:
                seen += await raw.receive()
            head, _, rest = seen.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            while len(rest) < length:
                rest += await raw.receive()
            responses.append(head + b"\r\n\r\n" + rest[:length])
            seen = rest[length:]
    return responses


async def test_a_client_leaving_a_poll_held_from_the_read_callback_closes_its_session() -> None:
    async with running(ping_interval=30, ping_timeout=5) as server, httpx.AsyncClient() as client:
        sid = await open_session(client, server.base)
        url = f"{server.base}?EIO=4&transport=polling&sid={sid}"
        async with await anyio.connect_tcp("127.0.0.1", server.port) as raw:
            for text in ("4one", "4two", "4three"):
                # The first poll is held by the connection's task, the next ones from its read callback.
                await raw.send(poll_request(sid))
                await anyio.sleep(0.05)
                assert (await client.post(url, content=text.encode())).text == "ok"
                (answer,) = await read_responses(raw, 1)
                assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
                assert answer.endswith(b"\r\n\r\n" + text.encode())
            await raw.send(poll_request(sid))
            await anyio.sleep(0.05)  # held; then the client leaves
        with anyio.fail_after(5):
            await server.listener.any_closed.wait()
        assert server.listener.closed == [EngineCloseReason.TRANSPORT_ERROR]
        assert sid not in server.engine.sessions


async def test_posts_on_one_connection_are_answered_in_order_whichever_way_they_are_served() -> None:
    async with running(ping_interval=30, ping_timeout=5) as server, httpx.AsyncClient() as client:
        sid = await open_session(client, server.base)
        async with await anyio.connect_tcp("127.0.0.1", server.port) as raw:
            await raw.send(post_head(sid, 2) + b"4a")  # the connection's task: offers the callback
            await raw.send(post_head(sid, 2) + b"4b")  # whole: the read callback
            await raw.send(post_head(sid, 2))  # the body comes later: the task reads it
            await anyio.sleep(0.05)
            await raw.send(b"4c")
            await raw.send(post_head(sid, 5) + b"4d\x1e4e")  # two packets: the task delivers them
            await raw.send(post_head(sid, 2) + b"4f" + post_head(sid, 2) + b"4g")  # pipelined
            answers = await read_responses(raw, 6)
        assert all(a.startswith(b"HTTP/1.1 200 OK\r\n") and a.endswith(b"\r\n\r\nok") for a in answers)
        echoed: list[str] = []
        url = f"{server.base}?EIO=4&transport=polling&sid={sid}"
        with anyio.fail_after(5):
            while len(echoed) < 7:
                echoed += (await client.get(url)).text.split("\x1e")
        assert echoed == ["4a", "4b", "4c", "4d", "4e", "4f", "4g"]


async def test_a_bad_payload_after_served_requests_is_refused_as_before() -> None:
    async with running(ping_interval=30, ping_timeout=5) as server, httpx.AsyncClient() as client:
        sid = await open_session(client, server.base)
        async with await anyio.connect_tcp("127.0.0.1", server.port) as raw:
            await raw.send(post_head(sid, 2) + b"4a")
            await raw.send(post_head(sid, 2) + b"4b")
            await raw.send(post_head(sid, 3) + b"x!y")
            answers = await read_responses(raw, 3)
        assert [a.split(b"\r\n")[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 2 + [
            b"HTTP/1.1 400 Bad Request"
        ]
        with anyio.fail_after(5):
            await server.listener.any_closed.wait()
        assert server.listener.closed == [EngineCloseReason.PARSE_ERROR]


async def test_many_pipelined_posts_are_all_answered_in_order() -> None:
    async with running(ping_interval=30, ping_timeout=5) as server, httpx.AsyncClient() as client:
        sid = await open_session(client, server.base)
        texts = [f"4m{i}".encode() for i in range(30)]
        async with await anyio.connect_tcp("127.0.0.1", server.port) as raw:
            await raw.send(post_head(sid, 3) + b"4go")
            await read_responses(raw, 1)
            # More than one read callback serves: the rest go to the connection's task.
            await raw.send(b"".join(post_head(sid, len(text)) + text for text in texts))
            answers = await read_responses(raw, len(texts))
        assert all(a.endswith(b"\r\n\r\nok") for a in answers)
        echoed: list[str] = []
        url = f"{server.base}?EIO=4&transport=polling&sid={sid}"
        with anyio.fail_after(5):
            while len(echoed) < len(texts) + 1:
                echoed += (await client.get(url)).text.split("\x1e")
        assert echoed == ["4go", *(text.decode() for text in texts)]


async def test_an_idle_connection_parked_after_served_requests_still_closes_at_its_keep_alive() -> None:
    engine = EngineServer(EngineConfig(ping_interval=30, ping_timeout=5), EchoListener())
    config = ServerConfig(host="127.0.0.1", port=0, keep_alive_timeout=0.3)
    async with anyio.create_task_group() as tg, httpx.AsyncClient() as client:
        port = await tg.start(serve_asgi, engine_asgi_app(engine), config)
        base = f"http://127.0.0.1:{port}/engine.io/"
        sid = await open_session(client, base)
        async with await anyio.connect_tcp("127.0.0.1", port) as raw:
            for _ in range(3):  # the task, then the read callback, twice: each moves the deadline
                await raw.send(post_head(sid, 3) + b"4hi")
                await read_responses(raw, 1)
                await anyio.sleep(0.2)
            with anyio.fail_after(3):
                with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                    await raw.receive()  # closed by the server, once idle for its keep-alive
        tg.cancel_scope.cancel()


@pytest.mark.parametrize(("inline", "seen_by_middleware"), [(None, 7), (False, 7), (True, 2)])
async def test_middleware_around_the_app_sees_every_request_unless_told_otherwise(
    inline: bool | None, seen_by_middleware: int
) -> None:
    # An app of the user's around sioactor's (ASGI middleware) is not sioactor's own: by default its
    # requests are never served from the read callback, which would skip it. With inline_requests=True the
    # user says it hands them on unchanged, and after the first two the callback serves the connection.
    engine = EngineServer(EngineConfig(ping_interval=30, ping_timeout=5), EchoListener())
    inner = engine_asgi_app(engine)
    seen: list[str] = []

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(scope["method"])
        await inner(scope, receive, send)

    config = ServerConfig(host="127.0.0.1", port=0, inline_requests=inline)
    async with anyio.create_task_group() as tg, httpx.AsyncClient() as client:
        port = await tg.start(serve_asgi, middleware, config)
        sid = await open_session(client, f"http://127.0.0.1:{port}/engine.io/")
        async with await anyio.connect_tcp("127.0.0.1", port) as raw:
            for text in (b"4a", b"4b", b"4c", b"4d", b"4e", b"4f"):
                await raw.send(post_head(sid, 2) + text)
                (answer,) = await read_responses(raw, 1)
                assert answer.endswith(b"\r\n\r\nok")
        tg.cancel_scope.cancel()
    assert len(seen) == seen_by_middleware  # the handshake, then the POSTs the app itself served


async def test_posts_of_new_lengths_are_served_from_the_read_callback_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A POST's length is part of its header set; a length the connection has not sent before still gets a
    # scope made for it there, instead of going to the task.
    from sioactor.runtime.engineio import _polling

    served: list[bool] = []
    serve_now = _polling._serve_now

    def counting(*args: Any) -> bool:
        served.append(serve_now(*args))
        return served[-1]

    monkeypatch.setattr(_polling, "_serve_now", counting)
    async with running(ping_interval=30, ping_timeout=5) as server, httpx.AsyncClient() as client:
        sid = await open_session(client, server.base)
        texts = [b"4" + b"x" * n for n in range(1, 6)]  # five lengths, each new to the connection
        async with await anyio.connect_tcp("127.0.0.1", server.port) as raw:
            for text in texts:
                await raw.send(post_head(sid, len(text)) + text)
                (answer,) = await read_responses(raw, 1)
                assert answer.endswith(b"\r\n\r\nok")
        url = f"{server.base}?EIO=4&transport=polling&sid={sid}"
        echoed = (await client.get(url)).text.split("\x1e")
    assert echoed == [text.decode() for text in texts]
    assert served.count(True) == len(texts) - 1  # all but the first, which the task served


async def test_a_websocket_upgrade_on_a_parked_connection_is_still_an_upgrade() -> None:
    async with running(ping_interval=30, ping_timeout=5) as server, httpx.AsyncClient() as client:
        sid = await open_session(client, server.base)
        async with await anyio.connect_tcp("127.0.0.1", server.port) as raw:
            for text in (b"4a", b"4b"):  # the task, then the read callback: the connection is parked
                await raw.send(post_head(sid, 2) + text)
                (answer,) = await read_responses(raw, 1)
                assert answer.endswith(b"\r\n\r\nok")
            await raw.send(
                f"GET /engine.io/?EIO=4&transport=websocket&sid={sid} HTTP/1.1\r\nhost: x\r\n"
                "upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\n"
                "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
            )
            seen = b""
            with anyio.fail_after(5):
                while b"\r\n\r\n" not in seen:
                    seen += await raw.receive()
        assert seen.startswith(b"HTTP/1.1 101 "), seen
