"""EngineServer's HTTP answers, called in-process as an ASGI app with scripted receive/send."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from trace_fakes import ListTracer

from sioactor._errors import Closed, ConfigError, InternalChannelFull
from sioactor.actors._trace import TraceKind
from sioactor.actors.engineio._api import EngineConnection, RequestInfo
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime.engineio import CorsConfig, EngineConfig, EngineServer


class Listener:
    def __init__(self) -> None:
        self.messages: list[str | bytes] = []
        self.closed: list[EngineCloseReason] = []
        self.conns: list[EngineConnection] = []

    def on_open(self, conn: EngineConnection) -> None:
        self.conns.append(conn)

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        self.messages.append(data)

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        self.closed.append(reason)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


async def call(
    server: EngineServer,
    method: str,
    query: str,
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Response:
    scope = {
        "type": "http",
        "method": method,
        "path": "/engine.io/",
        "query_string": query.encode(),
        "headers": headers or [],
        "client": ("127.0.0.1", 5000),
    }
    sent: list[dict[str, Any]] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with anyio.fail_after(2):
        await server(scope, receive, send)
    start, end = sent
    heads = {k.decode(): v.decode() for k, v in start["headers"]}
    return Response(start["status"], heads, end["body"])


@asynccontextmanager
async def running(**config: Any) -> AsyncIterator[tuple[EngineServer, Listener, ListTracer]]:
    listener, tracer = Listener(), ListTracer()
    server = EngineServer(EngineConfig(**config), listener, tracer=tracer)
    async with anyio.create_task_group() as tg:
        await tg.start(server.run)
        yield server, listener, tracer
        with anyio.fail_after(5):
            await server.close()


async def open_polling(server: EngineServer, protocol: int = 4) -> str:
    res = await call(server, "GET", f"EIO={protocol}&transport=polling")
    assert res.status == 200
    text = res.text if protocol == 4 else res.text.split(":", 1)[1]
    return str(json.loads(text[1:])["sid"])


@pytest.mark.anyio
async def test_handshake_error_codes() -> None:
    async with running() as (server, _, _):
        cases = {
            "EIO=4": (400, 0),
            "EIO=4&transport=abc": (400, 0),
            "EIO=5&transport=polling": (400, 5),
            "EIO=3&transport=polling": (400, 5),
            "EIO=4&transport=polling&sid=nope": (400, 1),
            "EIO=4&transport=websocket": (400, 3),
        }
        for query, (status, code) in cases.items():
            res = await call(server, "GET", query)
            assert (res.status, json.loads(res.body)["code"]) == (status, code), query
            assert res.headers["content-type"] == "application/json"
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            res = await call(server, method, "EIO=4&transport=polling")
            assert json.loads(res.body) == {"code": 2, "message": "Bad handshake method"}
        assert not server.sessions


@pytest.mark.anyio
async def test_sid_is_20_url_safe_characters_and_session_is_listed() -> None:
    async with running() as (server, listener, tracer):
        sid = await open_polling(server)
        assert len(sid) == 20
        assert set(sid) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert list(server.sessions) == [sid]
        assert listener.conns[0].request.query["EIO"] == "4"
        assert TraceKind.SPAWNED in tracer.kinds()
    assert listener.closed == [EngineCloseReason.SERVER_SHUTTING_DOWN]
    assert not server.sessions


@pytest.mark.anyio
async def test_put_delete_on_a_session_and_garbage_payloads() -> None:
    async with running() as (server, listener, tracer):
        sid = await open_polling(server)
        for method in ("PUT", "DELETE"):
            assert (await call(server, method, f"EIO=4&transport=polling&sid={sid}")).status == 400
        for garbage in (b"", b"9x", b"4ok\x1ezzz", b"\xff\xfe", b"bAQ=", b"0", b"5"):
            sid = await open_polling(server)
            res = await call(server, "POST", f"EIO=4&transport=polling&sid={sid}", garbage)
            assert res.status == 400, garbage
            assert (await call(server, "GET", f"EIO=4&transport=polling&sid={sid}")).status == 400
        await anyio.wait_all_tasks_blocked()  # the last session's task runs its teardown (on_close)
        assert listener.messages == ["ok"]  # as Node: the packets before a bad one are delivered
        assert listener.closed.count(EngineCloseReason.PARSE_ERROR) == 7
        assert TraceKind.PROTOCOL_ERROR in tracer.kinds()


@pytest.mark.anyio
async def test_oversize_post_is_refused_unread() -> None:
    async with running(max_payload=100) as (server, listener, _):
        sid = await open_polling(server)
        body = b"4" + b"x" * 200
        res = await call(
            server, "POST", f"EIO=4&transport=polling&sid={sid}", body, [(b"content-length", b"201")]
        )
        assert res.status == 413
        assert listener.messages == []
        assert (await call(server, "GET", f"EIO=4&transport=polling&sid={sid}")).status == 400


@pytest.mark.anyio
async def test_cors_headers_and_preflight() -> None:
    async with running(cors=CorsConfig(origins=["https://a.example"], credentials=True)) as (server, _, _):
        origin = [(b"origin", b"https://a.example"), (b"access-control-request-headers", b"x-token")]
        res = await call(server, "OPTIONS", "EIO=4&transport=polling", headers=origin)
        assert res.status == 204
        assert res.headers["access-control-allow-origin"] == "https://a.example"
        assert res.headers["access-control-allow-credentials"] == "true"
        assert res.headers["access-control-allow-headers"] == "x-token"
        assert "GET" in res.headers["access-control-allow-methods"]
        other = await call(
            server, "GET", "EIO=4&transport=polling", headers=[(b"origin", b"https://b.example")]
        )
        assert "access-control-allow-origin" not in other.headers
    async with running() as (server, _, _):
        res = await call(
            server, "GET", "EIO=4&transport=polling", headers=[(b"origin", b"https://a.example")]
        )
        assert "access-control-allow-origin" not in res.headers


@pytest.mark.anyio
async def test_cors_announces_the_configured_headers_and_max_age() -> None:
    cors = CorsConfig(origins="https://a.example", headers=["x-token", "content-type"], max_age=600)
    async with running(cors=cors) as (server, _, _):
        asked = [(b"origin", b"https://a.example"), (b"access-control-request-headers", b"x-other")]
        res = await call(server, "OPTIONS", "EIO=4&transport=polling", headers=asked)
        assert res.headers["access-control-allow-origin"] == "https://a.example"
        assert res.headers["access-control-allow-headers"] == "x-token,content-type"
        assert res.headers["access-control-max-age"] == "600"
        assert "access-control-allow-credentials" not in res.headers


@pytest.mark.anyio
@pytest.mark.parametrize("origin", [b"https://a", b"a.example", b"https://a.example.evil"])
async def test_a_single_cors_origin_is_compared_whole(origin: bytes) -> None:
    async with running(cors=CorsConfig(origins="https://a.example")) as (server, _, _):
        res = await call(server, "GET", "EIO=4&transport=polling", headers=[(b"origin", origin)])
        assert "access-control-allow-origin" not in res.headers


def test_a_cors_option_that_is_not_a_cors_config_is_refused() -> None:
    with pytest.raises(ConfigError, match="CorsConfig"):
        EngineConfig(cors="*")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="origins"):
        CorsConfig(origins=CorsConfig())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="headers"):
        CorsConfig(headers="x-token")
    with pytest.raises(ConfigError, match="max_age"):
        CorsConfig(max_age=-1)
    assert CorsConfig(origins=["https://a.example"], methods=["GET"]).origins == ("https://a.example",)


@pytest.mark.anyio
async def test_allow_request_refusal_is_403_code_4() -> None:
    async def deny(request: RequestInfo) -> bool | str:
        return "go away" if request.query.get("token") != "ok" else True

    async with running(allow_request=deny) as (server, _, _):
        res = await call(server, "GET", "EIO=4&transport=polling")
        assert (res.status, json.loads(res.body)) == (403, {"code": 4, "message": "go away"})
        assert (await call(server, "GET", "EIO=4&transport=polling&token=ok")).status == 200


@pytest.mark.anyio
async def test_eio3_polling_handshake_b64_and_client_ping() -> None:
    async with running(allow_eio3=True, ping_interval=0.3, ping_timeout=0.2) as (server, listener, _):
        res = await call(server, "GET", "EIO=3&transport=polling")
        length, packet = res.text.split(":", 1)
        assert int(length) == len(packet)
        sid = json.loads(packet[1:])["sid"]
        url = f"EIO=3&transport=polling&sid={sid}"
        assert (await call(server, "POST", url, b"1:2")).text == "ok"
        assert (await call(server, "GET", url)).text == "1:3"
        listener.conns[0].send(b"\x01\x02")
        res = await call(server, "GET", url + "&b64=1")
        assert (res.text, res.headers["content-type"]) == ("6:b4AQI=", "text/plain; charset=UTF-8")
        listener.conns[0].send(b"\x01\x02")
        res = await call(server, "GET", url)
        assert res.headers["content-type"] == "application/octet-stream"
        assert res.body == b"\x01\x03\xff\x04\x01\x02"


@pytest.mark.anyio
async def test_slow_consumer_policies() -> None:
    async with running(max_buffer_size=2) as (server, listener, tracer):
        await open_polling(server)
        conn = listener.conns[0]
        conn.send("a")
        conn.send("b")
        with pytest.raises(InternalChannelFull) as info:
            conn.send("c")
        assert info.value.message == "c"
        assert not conn.send_volatile("c")
        assert TraceKind.MAILBOX_FULL in tracer.kinds()
        res = await call(server, "GET", f"EIO=4&transport=polling&sid={conn.sid}")
        assert res.text == "4a\x1e4b"
    async with running(max_buffer_size=2, slow_consumer="drop_oldest") as (server, listener, _):
        await open_polling(server)
        conn = listener.conns[0]
        for text in "abc":
            conn.send(text)
        assert (await call(server, "GET", f"EIO=4&transport=polling&sid={conn.sid}")).text == "4b\x1e4c"
    async with running(max_buffer_size=2, slow_consumer="disconnect") as (server, listener, _):
        await open_polling(server)
        conn = listener.conns[0]
        conn.send("a")
        conn.send("b")
        with pytest.raises(Closed):
            conn.send("c")
        assert not conn.connected
        await anyio.wait_all_tasks_blocked()
        assert listener.closed == [EngineCloseReason.SLOW_CONSUMER]


@pytest.mark.anyio
async def test_server_close_flushes_a_pending_poll_then_sends_close() -> None:
    async with running() as (server, listener, _):
        sid = await open_polling(server)
        results: list[Response] = []

        async def poll() -> None:
            results.append(await call(server, "GET", f"EIO=4&transport=polling&sid={sid}"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(poll)
            await anyio.wait_all_tasks_blocked()
            listener.conns[0].close()
        assert results[0].text == "1"
        await anyio.wait_all_tasks_blocked()
        assert listener.closed == [EngineCloseReason.FORCED_CLOSE]
        assert not server.sessions


@pytest.mark.anyio
async def test_client_vanishing_mid_poll_closes_the_session() -> None:
    async with running() as (server, listener, _):
        sid = await open_polling(server)
        gone = anyio.Event()
        calls = 0

        async def receive() -> dict[str, Any]:
            nonlocal calls
            calls += 1
            if calls == 1:
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            raise AssertionError("nothing may be sent to a vanished client")

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/engine.io/",
            "query_string": f"EIO=4&transport=polling&sid={sid}".encode(),
            "headers": [],
        }
        async with anyio.create_task_group() as tg:
            tg.start_soon(server, scope, receive, send)
            await anyio.wait_all_tasks_blocked()
            gone.set()
        await anyio.wait_all_tasks_blocked()
        assert listener.closed == [EngineCloseReason.TRANSPORT_ERROR]
        assert not server.sessions


@pytest.mark.anyio
async def test_silent_polling_client_times_out_and_leaves_nothing_behind() -> None:
    async with running(ping_interval=0.05, ping_timeout=0.05) as (server, listener, tracer):
        for _ in range(3):
            await open_polling(server)
        await anyio.sleep(0.3)  # ping due at 50 ms, pong overdue at 100 ms
        assert not server.sessions
        assert listener.closed == [EngineCloseReason.PING_TIMEOUT] * 3
        assert tracer.kinds().count(TraceKind.HEARTBEAT_TIMEOUT) == 3
        assert tracer.kinds().count(TraceKind.STOPPED) == 3
