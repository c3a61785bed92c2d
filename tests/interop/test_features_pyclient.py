"""The reference server's contract for issue 15's features, with python-socketio's AsyncClient and npm
socket.io-client 4.8.1, the server on asyncio and trio (and under uvicorn for the ASGI WebSocket path):
``--cookie NAME``, ``handshake``, ``any_count``, the middleware refusing ``forbidden``, ``emit_reserved`` and
``local_bcast``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from test_socketio_clients import DRIVER, REFERENCE, ROOT, USE_ORACLE, Server, free_port, wait_for_listening

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(USE_ORACLE, reason="the oracle does not serve these features"),
]


@pytest.fixture(
    scope="module",
    params=[("embedded", "asyncio"), ("embedded", "trio"), ("uvicorn", "asyncio")],
    ids=["asyncio", "trio", "uvicorn"],
)
def cookie_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The reference server with ``--cookie srv``."""
    server, backend = request.param
    argv = [sys.executable, str(REFERENCE), "--host", "127.0.0.1", "--port", str(free_port())]
    argv += ["--server", server, "--backend", backend, "--cookie", "srv"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield Server(url=wait_for_listening(proc, timeout=15), parser="json", eio3=False)
    finally:
        proc.terminate()
        proc.communicate(timeout=5)


def with_client(server: Server, transports: list[str], scenario: Any) -> Any:
    import aiohttp
    import socketio

    async def main() -> Any:
        # A jar that keeps cookies of an IP host (aiohttp's default drops them).
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        client = socketio.AsyncClient(http_session=http)
        try:
            async with asyncio.timeout(10):
                await client.connect(
                    server.url, transports=transports, auth={"user": "ada"}, headers={"x-team": "blue"}
                )
                return await scenario(client)
        finally:
            await client.disconnect()
            await client.shutdown()
            await http.close()

    return asyncio.run(main())


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_pyclient_handshake_cookie_any_count_and_refusal(
    cookie_server: Server, transports: list[str]
) -> None:
    async def scenario(client: Any) -> dict[str, Any]:
        refused: asyncio.Queue[Any] = asyncio.Queue()
        client.on("refused", refused.put)
        shake = await client.call("handshake")
        await client.emit("forbidden", {"x": 1})
        name = await refused.get()
        count = await client.call("any_count")
        jar = {cookie.key: cookie.value for cookie in client.eio.http.cookie_jar}
        return {"shake": shake, "refused": name, "count": count, "jar": jar, "sid": client.eio.sid}

    got = with_client(cookie_server, transports, scenario)
    shake = got["shake"]
    assert shake["auth"] == {"user": "ada"}
    assert shake["headers"]["x-team"] == "blue"
    assert shake["address"] == "127.0.0.1"
    assert shake["query"]["transport"] == transports[0]
    assert shake["url"].startswith("/socket.io/?")
    assert isinstance(shake["issued"], int)
    assert shake["xdomain"] is False
    assert shake["secure"] is False
    assert got["refused"] == "forbidden"
    assert got["count"] == 3  # handshake, forbidden (refused, still seen), any_count
    assert got["jar"].get("srv") == got["sid"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_node_client_against_the_contract(cookie_server: Server, transports: list[str]) -> None:
    def run(scenario: str, **cfg: Any) -> dict[str, Any]:
        config = {"scenario": scenario, "url": cookie_server.url, "parser": "json", "client": "v4", **cfg}
        done = subprocess.run(
            ["node", str(DRIVER), json.dumps(config)], cwd=ROOT, capture_output=True, text=True, timeout=20
        )
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        assert lines, done.stderr
        assert lines[-1] == {"done": True}, (lines, done.stderr)
        return {line["step"]: line for line in lines if "step" in line}

    steps = run("any_and_middleware", transports=transports)
    assert steps["refused"]["args"] == ["forbidden"]
    assert steps["echo_after"]["args"] == ["after"]
    assert steps["any_count"]["args"] == [4]
    shake = run("handshake", transports=transports)["handshake"]["args"][0]
    assert sorted(shake) == sorted(
        ["headers", "time", "address", "xdomain", "secure", "issued", "url", "query", "auth"]
    )
    assert shake["auth"] == {"token": "t1"}
    cookie = run("cookie")
    assert cookie["polling"]["cookies"] == {"srv": cookie["polling"]["engine"]}
    [set_cookie] = cookie["websocket"]["setCookie"]
    assert set_cookie.startswith("srv=")
    assert set_cookie.endswith("; Path=/; HttpOnly; SameSite=Lax")
    reserved = run("emit_reserved", transports=transports)
    assert reserved["emit_reserved"]["args"] == [{"refused": True}]
    assert reserved["still_connected"]["args"] == ["alive"]
    assert run("local_bcast", transports=transports)["received"]["got"] == ["other"]


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]], ids=["websocket", "polling"])
def test_pyclient_reserved_emit_and_local_broadcast(cookie_server: Server, transports: list[str]) -> None:
    import socketio

    async def scenario(sender: Any) -> dict[str, Any]:
        other = socketio.AsyncClient()
        got: list[str] = []
        arrived = asyncio.Event()

        async def other_got() -> None:
            got.append("other")
            arrived.set()

        sender.on("local_bcast", lambda: got.append("sender"))
        other.on("local_bcast", other_got)
        try:
            await other.connect(cookie_server.url, transports=transports)
            reserved = await sender.call("emit_reserved")
            await sender.emit("local_bcast")
            await arrived.wait()
            # A round trip on each, so that a stray packet to the sender would have arrived.
            alive = await sender.call("echo_ack", "alive")
            await other.call("echo_ack")
        finally:
            await other.disconnect()
            await other.shutdown()
        return {"reserved": reserved, "alive": alive, "got": got}

    got = with_client(cookie_server, transports, scenario)
    assert got["reserved"] == {"refused": True}
    assert got["alive"] == "alive"
    assert got["got"] == ["other"]
