"""``socket.handshake`` in Node's shape, the handshake cookie, the engine's ``connection_error`` event and
``io.start_background_task``, with npm socket.io-client 4.8.1 (and its ``ws``) and httpx against an
in-process server, on asyncio and trio. The Node scenarios are in ``tests/node/sio_features.js``.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from typing import Any

import anyio
import httpx
import pytest
from raw_ws_client import RawWsClient
from sio_driver import run_driver, run_scenario

from sioactor import (
    AckSender,
    ConfigError,
    CookieConfig,
    EngineConfig,
    EngineError,
    RequestInfo,
    RequestRefused,
    Socket,
    SocketIo,
    SocketIoConfig,
)

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]


def handshake_server(**config: Any) -> SocketIo:
    io = SocketIo(SocketIoConfig(**config))

    def handshake(socket: Socket, ack: AckSender) -> None:
        ack.send(dataclasses.asdict(socket.handshake))

    io.on("handshake", handshake)
    return io


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("trust_proxy", [False, True], ids=["peer", "proxy"])
async def test_the_handshake_has_nodes_shape(transport: str, trust_proxy: bool) -> None:
    io = handshake_server(trust_proxy=trust_proxy)
    before = time.time()
    headers = {"x-forwarded-for": "203.0.113.7, 10.0.0.1", "x-extra": "e"}
    steps = await run_scenario(io, "handshake", transports=[transport], headers=headers)
    [shake] = steps["handshake"]["args"]
    assert set(shake) == {"headers", "time", "address", "xdomain", "secure", "issued", "url", "query", "auth"}
    assert shake["headers"]["x-extra"] == "e"
    assert shake["headers"]["host"].startswith("127.0.0.1:")
    assert shake["address"] == ("203.0.113.7" if trust_proxy else "127.0.0.1")
    assert shake["xdomain"] is False  # Node's client sends no Origin
    assert shake["secure"] is False
    assert before * 1000 - 1 <= shake["issued"] <= time.time() * 1000 + 1
    assert " GMT" in shake["time"]
    assert time.strftime("%Y", time.localtime(shake["issued"] / 1000)) in shake["time"]
    assert shake["url"].startswith("/socket.io/?")
    assert {"q=1", "EIO=4", f"transport={transport}"} <= set(shake["url"].split("?")[1].split("&"))
    assert shake["query"]["q"] == "1"
    assert shake["query"]["EIO"] == "4"
    assert shake["query"]["transport"] == transport
    assert shake["auth"] == {"token": "t1"}


async def test_the_handshake_of_a_cloudflare_request_names_the_client() -> None:
    io = handshake_server(trust_proxy=True)
    headers = {"cf-connecting-ip": "198.51.100.4", "x-forwarded-for": "203.0.113.7"}
    steps = await run_scenario(io, "handshake", transports=["websocket"], headers=headers)
    assert steps["handshake"]["args"][0]["address"] == "198.51.100.4"


def cookie_server(cookie: CookieConfig | None) -> SocketIo:
    io = SocketIo(SocketIoConfig(engine=EngineConfig(cookie=cookie)))
    io.of("/")  # registers the default namespace
    return io


async def test_the_cookie_is_set_on_the_polling_and_websocket_handshakes() -> None:
    steps = await run_scenario(cookie_server(CookieConfig()), "cookie")
    polling = steps["polling"]
    assert polling["cookies"] == {"io": polling["engine"]}  # the client's jar kept it
    websocket = steps["websocket"]
    sid = websocket["open"].split('"sid":"')[1].split('"')[0]
    assert websocket["setCookie"] == [f"io={sid}; Path=/; HttpOnly; SameSite=Lax"]


async def test_the_cookie_follows_its_options_and_is_off_by_default() -> None:
    custom = CookieConfig(name="lb", path=None, http_only=False, same_site="strict", secure=True, max_age=60)
    steps = await run_scenario(cookie_server(custom), "cookie")
    sid = steps["websocket"]["open"].split('"sid":"')[1].split('"')[0]
    assert steps["websocket"]["setCookie"] == [f"lb={sid}; Max-Age=60; Secure; SameSite=Strict"]
    steps = await run_scenario(cookie_server(None), "cookie")
    assert steps["polling"]["cookies"] == {}
    assert steps["websocket"]["setCookie"] is None


async def test_only_the_opening_answer_sets_the_cookie() -> None:
    io = cookie_server(CookieConfig())
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            opened = await http.get("/socket.io/?EIO=4&transport=polling")
            sid = opened.text.split('"sid":"')[1].split('"')[0]
            assert opened.headers["set-cookie"] == f"io={sid}; Path=/; HttpOnly; SameSite=Lax"
            connect = await http.post(f"/socket.io/?EIO=4&transport=polling&sid={sid}", content="40")
            assert "set-cookie" not in connect.headers
        tg.cancel_scope.cancel()


async def test_a_cookie_option_that_is_not_a_cookie_config_is_refused() -> None:
    with pytest.raises(ConfigError, match="CookieConfig"):
        EngineConfig(cookie=True)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="token"):
        CookieConfig(name="a b")
    with pytest.raises(ConfigError, match="path"):
        CookieConfig(path="/;x")


async def refusing_server() -> tuple[SocketIo, list[RequestRefused]]:
    async def allow(request: RequestInfo) -> bool | str:
        return "go away" if request.query.get("refuse") else True

    io = SocketIo(SocketIoConfig(engine=EngineConfig(allow_request=allow)))
    refusals: list[RequestRefused] = []
    io.on_connection_error(refusals.append)
    return io, refusals


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_connection_error_reports_a_refused_handshake(transport: str) -> None:
    io, refusals = await refusing_server()
    steps = await run_scenario(io, "refused_handshake", transports=[transport])
    assert steps["connect_error"]["message"] in ("xhr poll error", "websocket error")
    [refusal] = refusals
    assert refusal.code is EngineError.FORBIDDEN
    assert refusal.message == "go away"
    assert refusal.context == {"message": "go away"}
    assert refusal.request.query["refuse"] == "yes"
    assert f"transport={transport}" in refusal.request.url


async def test_connection_error_reports_what_node_reports(caplog: pytest.LogCaptureFixture) -> None:
    io, refusals = await refusing_server()

    def broken(refusal: RequestRefused) -> None:
        raise RuntimeError("listener bug")

    io.on_connection_error(broken)
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            unknown_sid = await http.get("/socket.io/?EIO=4&transport=polling&sid=nope")
            unknown_transport = await http.get("/socket.io/?EIO=4&transport=carrier-pigeon")
            bad_method = await http.post("/socket.io/?EIO=4&transport=polling")
            old = await http.get("/socket.io/?EIO=3&transport=polling")
        tg.cancel_scope.cancel()
    assert [r.status_code for r in (unknown_sid, unknown_transport, bad_method, old)] == [400] * 4
    assert [(r.code, dict(r.context)) for r in refusals] == [
        (EngineError.UNKNOWN_SID, {"sid": "nope"}),
        (EngineError.UNKNOWN_TRANSPORT, {"transport": "carrier-pigeon"}),
        (EngineError.BAD_HANDSHAKE_METHOD, {"method": "POST"}),
        (EngineError.UNSUPPORTED_PROTOCOL_VERSION, {"protocol": "3"}),
    ]
    assert [r.message for r in refusals][:2] == ["Session ID unknown", "Transport unknown"]
    assert sum("listener" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records) == 4


async def test_connection_error_reports_refused_websockets() -> None:
    io, refusals = await refusing_server()
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        for path in (
            "/socket.io/?EIO=4&transport=websocket&sid=nope",
            "/socket.io/?EIO=5&transport=websocket",
            "/socket.io/?EIO=4&transport=websocket&refuse=1",
        ):
            async with RawWsClient.opened(port, path) as (_, response):
                assert response.status_code != 101
        tg.cancel_scope.cancel()
    assert [(r.code, dict(r.context)) for r in refusals] == [
        (EngineError.UNKNOWN_SID, {"sid": "nope"}),
        (EngineError.UNSUPPORTED_PROTOCOL_VERSION, {"protocol": "5"}),
        (EngineError.FORBIDDEN, {"message": "go away"}),
    ]
    assert refusals[0].request.query["sid"] == "nope"


async def test_background_tasks_run_under_the_server(caplog: pytest.LogCaptureFixture) -> None:
    io = SocketIo()

    @io.ns("/")
    def on_connect() -> None:
        pass

    caplog.set_level(logging.ERROR, logger="sioactor.socketio")
    with pytest.raises(RuntimeError, match="not running"):
        io.start_background_task(anyio.sleep, 1)
    stopped = anyio.Event()

    async def ticker(interval: float) -> None:
        n = 0
        try:
            while True:
                await io.emit("tick", n)
                n += 1
                await anyio.sleep(interval)
        finally:
            stopped.set()

    async def fails() -> None:
        raise ValueError("background bug")

    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        io.start_background_task(fails)
        scope = io.start_background_task(ticker, 0.05)
        steps = await run_driver(f"http://127.0.0.1:{port}", "ticks", transports=["websocket"])
        scope.cancel()
        with anyio.fail_after(5):
            await stopped.wait()
        tg.cancel_scope.cancel()
    assert len(steps["ticks"]["got"]) == 2
    assert steps["ticks"]["got"][1] == steps["ticks"]["got"][0] + 1
    [failure] = [r for r in caplog.records if "background task" in r.getMessage()]
    assert "fails" in failure.getMessage()
    assert failure.exc_info is not None
