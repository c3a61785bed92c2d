"""HTTP/1.1 through the embedded server with a real client (httpx) over loopback, on asyncio and trio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from server_kit import DemoApp, raw_exchange, running

pytestmark = pytest.mark.anyio


async def test_get_fills_the_scope() -> None:
    async with running(DemoApp(), root_path="/mount") as port, httpx.AsyncClient() as client:
        with anyio.fail_after(5):
            response = await client.get(f"http://127.0.0.1:{port}/scope?a=1&b=%20x", headers={"X-Thing": "V"})
    scope = response.json()
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(response.content))
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert (scope["http_version"], scope["method"], scope["scheme"]) == ("1.1", "GET", "http")
    assert (scope["path"], scope["raw_path"], scope["query_string"]) == ("/scope", "/scope", "a=1&b=%20x")
    assert scope["root_path"] == "/mount"
    assert ["x-thing", "V"] in scope["headers"]
    assert scope["client"][0] == "127.0.0.1"
    assert scope["server"] == ["127.0.0.1", port]
    assert scope["extensions"] == ["sioactor.direct_http"]


async def test_post_body_sent_in_chunks_reaches_the_app_whole() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"alpha-", b"beta-", b"gamma"):
            yield part
            await anyio.sleep(0.01)

    async with running(DemoApp()) as port, httpx.AsyncClient() as client:
        with anyio.fail_after(5):
            response = await client.post(f"http://127.0.0.1:{port}/body", content=chunks())
    assert response.json()["body"] == "alpha-beta-gamma"


async def test_a_body_larger_than_the_read_buffer_is_streamed_in_parts() -> None:
    body = b"x" * 300_000
    async with running(DemoApp(), max_body_buffer=16_384) as port, httpx.AsyncClient() as client:
        with anyio.fail_after(5):
            response = await client.post(f"http://127.0.0.1:{port}/body", content=body)
    assert response.json()["size"] == len(body)
    assert response.json()["parts"] > 1


async def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    async with running(DemoApp()) as port, httpx.AsyncClient() as client:
        with anyio.fail_after(5):
            ports = {
                (await client.get(f"http://127.0.0.1:{port}/scope")).json()["client"][1] for _ in range(5)
            }
    assert len(ports) == 1


async def test_pipelined_requests_are_answered_in_order() -> None:
    request = b"GET /scope?n=%d HTTP/1.1\r\nhost: x\r\n\r\n"
    last = b"GET /scope?n=3 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    async with running(DemoApp()) as port:
        answer = await raw_exchange(port, request % 1 + request % 2 + last)
    assert answer.count(b"HTTP/1.1 200") == 3
    assert answer.index(b"n=1") < answer.index(b"n=2") < answer.index(b"n=3")


async def test_a_streamed_response_is_chunked() -> None:
    async with running(DemoApp()) as port, httpx.AsyncClient() as client:
        with anyio.fail_after(5):
            response = await client.get(f"http://127.0.0.1:{port}/stream")
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.text == "one,two,three"


async def test_a_malformed_request_gets_400_and_a_close() -> None:
    async with running(DemoApp()) as port:
        answer = await raw_exchange(port, b"GARBAGE\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"connection: close" in answer


async def test_an_oversized_header_gets_431() -> None:
    request = b"GET /scope HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 5000 + b"\r\n\r\n"
    async with running(DemoApp(), max_header_size=4096) as port:
        answer = await raw_exchange(port, request)
    assert answer.startswith(b"HTTP/1.1 431 ")


async def test_a_failing_app_gets_500_and_the_server_keeps_serving() -> None:
    async with running(DemoApp()) as port, httpx.AsyncClient() as client:
        with anyio.fail_after(5):
            failed = await client.get(f"http://127.0.0.1:{port}/boom")
            fine = await client.get(f"http://127.0.0.1:{port}/scope")
    assert (failed.status_code, fine.status_code) == (500, 200)


async def test_a_long_poll_learns_http_disconnect_when_the_client_goes() -> None:
    app = DemoApp()
    async with running(app) as port:
        stream = await anyio.connect_tcp("127.0.0.1", port)
        await stream.send(b"GET /long-poll HTTP/1.1\r\nhost: x\r\n\r\n")
        await anyio.sleep(0.05)
        assert not app.seen.disconnected.is_set()
        await stream.aclose()
        with anyio.fail_after(2):
            await app.seen.disconnected.wait()


async def test_an_idle_keep_alive_connection_is_closed_after_the_timeout() -> None:
    async with running(DemoApp(), keep_alive_timeout=0.1) as port:
        with anyio.fail_after(2):
            answer = await raw_exchange(port, b"GET /scope HTTP/1.1\r\nhost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ")


async def test_an_idle_keep_alive_connection_is_not_closed_before_the_timeout() -> None:
    # On trio the deadline is kept by one task for all connections (_trio_deadlines), up to 0.25 s late.
    async with (
        running(DemoApp(), keep_alive_timeout=0.3) as port,
        await anyio.connect_tcp("127.0.0.1", port) as stream,
    ):
        await stream.send(b"GET /scope HTTP/1.1\r\nhost: x\r\n\r\n")
        answered = anyio.current_time()
        seen = b""
        with anyio.fail_after(3):
            while True:
                try:
                    seen += await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    break
        idle = anyio.current_time() - answered
    assert seen.startswith(b"HTTP/1.1 200 ")
    assert 0.25 <= idle < 1.5


async def test_lifespan_startup_runs_before_serving_and_shutdown_after() -> None:
    app = DemoApp()
    async with running(app) as port, httpx.AsyncClient() as client:
        assert app.seen.lifespan == ["lifespan.startup"]
        with anyio.fail_after(5):
            scope = (await client.get(f"http://127.0.0.1:{port}/scope")).json()
    assert scope["state"] == {"greeting": "hello"}
    assert app.seen.lifespan == ["lifespan.startup", "lifespan.shutdown"]


async def test_an_app_without_lifespan_support_is_served_anyway() -> None:
    async def plain(scope: dict[str, object], receive: object, send: object) -> None:
        assert scope["type"] == "http", "lifespan is not supported"
        await DemoApp().http_scope(scope, receive, send)

    async with running(plain) as port, httpx.AsyncClient() as client:
        with anyio.fail_after(5):
            response = await client.get(f"http://127.0.0.1:{port}/scope")
    assert response.status_code == 200


async def test_a_repeated_header_set_gets_a_fresh_scope_and_the_same_memo() -> None:
    seen: list[tuple[dict[str, Any], Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        direct = scope["extensions"]["sioactor.direct_http"]
        seen.append(({**scope, "headers": list(scope["headers"])}, direct.memo))
        # An app may change its scope: the next request of the same head must not see it.
        scope["path"] = "/changed"
        scope["headers"].append((b"x-added", b"1"))
        direct.memo.setdefault("count", 0)
        direct.memo["count"] += 1
        await direct.respond(200, [], str(direct.memo["count"]).encode())

    head = b"GET /same?q=1 HTTP/1.1\r\nhost: x\r\n\r\n"
    other = b"GET /other HTTP/1.1\r\nhost: x\r\n\r\n"
    last = b"GET /same?q=1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    async with running(app) as port:
        answer = await raw_exchange(port, head + head + other + last)
    assert answer.count(b"HTTP/1.1 200") == 4
    assert [scope["path"] for scope, _ in seen] == ["/same", "/same", "/other", "/same"]
    assert all((b"x-added", b"1") not in scope["headers"] for scope, _ in seen)
    assert seen[0][1] is seen[1][1]  # the same head: the same memo (the work done once)
    # Another target with the same headers (a polling client's random `t=`): the same memo, its own path.
    assert seen[2][1] is seen[0][1]
    assert seen[3][1] is not seen[0][1]  # other headers, another memo
    assert answer.endswith(b"1")  # the last head differs (connection: close): a memo of its own
