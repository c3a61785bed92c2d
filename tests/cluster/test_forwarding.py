"""Any worker takes any request, under ``uvicorn --workers 2`` joined through a real redis-server: the
reference server (``--server uvicorn --workers 2 --redis URL``), real socket.io-client 4.8 clients (polling
only, WebSocket only, polling then upgrade) and python-socketio's client, every HTTP request of theirs on a
new TCP connection, so the kernel hands each to either worker."""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import signal
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mixed_cluster import Clients, Server
from node_cluster import NODE, NODE_MISSING, ROOT
from redis_server import free_port
from websockets.sync.client import connect as ws_connect

pytestmark = pytest.mark.interop

TRANSPORTS = (["polling"], ["websocket"], ["polling", "websocket"])
PY_TRANSPORTS = [["polling"], ["websocket"], ["polling", "websocket"]] * 2


@pytest.fixture
def workers(redis_url: str, cluster_key: str) -> Iterator[Server]:
    """The reference server: two uvicorn workers, one cluster, session forwarding on."""
    script = str(ROOT / "examples/reference_server.py")
    args = [sys.executable, script, "--port", str(free_port()), "--server", "uvicorn", "--workers", "2"]
    # Heartbeats every 500 ms, answered across the workers; a 2 s timeout rides out a loaded machine.
    args += ["--ping-interval", "500", "--ping-timeout", "2000"]
    server = Server([*args, "--redis", redis_url, "--redis-key", cluster_key], "uvicorn-workers")
    try:
        yield server
    finally:
        errors = server.stop()
    assert "Traceback" not in errors, errors


@pytest.fixture
def clients() -> Iterator[Clients]:
    if NODE is None:
        pytest.skip(NODE_MISSING)
    driver = Clients()
    try:
        yield driver
    finally:
        driver.stop()


def test_socketio_client_sessions_work_whichever_worker_takes_each_request(
    workers: Server, clients: Clients
) -> None:
    names = [f"c{i}" for i in range(12)]
    owners: dict[str, int] = {}
    for name, transports in zip(names, itertools.cycle(TRANSPORTS), strict=False):
        answer = clients._command({"connect": name, "url": workers.url, "transports": transports})
        assert "sid" in answer, answer
    for _ in range(3):  # each ask is a POST and a GET (or frames) taken by either worker
        for name in names:
            pid = clients.ask(name, "worker")
            assert owners.setdefault(name, pid) == pid
            assert clients.ask(name, "echo_ack", {"n": name}) == {"n": name}
    assert len(set(owners.values())) == 2, owners  # sessions opened on both workers
    time.sleep(1.5)  # several heartbeats (500 ms) answered across the workers
    clients.send(names[0], "bcast", "to all")
    for name in names:
        assert clients.wait_event(name, "bcast") == ["to all"]
    answers = clients.ask(names[1], "cluster_emit_ack", "question", 7)
    assert len(answers) == len(names)  # acks of the clients of both workers
    for name in names:
        assert clients.ask(name, "worker") == owners[name]


def test_engine_requests_do_land_on_the_worker_that_does_not_own_the_session(workers: Server) -> None:
    # The control: the raw Engine.IO echo server at /engine.io/ is not clustered, so a request of its session
    # that reaches the other worker is refused; some are, so requests are spread over both workers (and the
    # Socket.IO sessions above, which never fail, are served across them).
    refused = 0
    with httpx.Client(
        base_url=workers.url, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
    ) as http:
        for _ in range(10):
            opened = http.get("/engine.io/", params={"EIO": "4", "transport": "polling"})
            sid = json.loads(opened.text[1:])["sid"]
            for _ in range(4):
                answer = http.post(
                    "/engine.io/", params={"EIO": "4", "transport": "polling", "sid": sid}, content="4x"
                )
                refused += answer.status_code == 400
    assert refused > 0


def test_python_socketio_client_across_uvicorn_workers(workers: Server) -> None:
    import aiohttp
    import socketio

    async def session(transports: list[str]) -> tuple[int, Any]:
        # "Connection: close": the server closes each connection after its answer, so every request of the
        # client opens a new one.
        http = aiohttp.ClientSession(headers={"Connection": "close"})
        client = socketio.AsyncClient(http_session=http)
        try:
            async with asyncio.timeout(15):
                await client.connect(workers.url, transports=transports)
                pids = {await client.call("worker") for _ in range(4)}
                assert len(pids) == 1
                echoed = await client.call("echo_ack", {"py": transports})
                return pids.pop(), echoed
        finally:
            await client.disconnect()
            await client.shutdown()
            await http.close()

    async def main() -> list[tuple[int, Any]]:
        return [await session(transports) for transports in PY_TRANSPORTS]

    with warnings.catch_warnings():
        # python-engineio's disconnect may cancel its next poll while aiohttp is still connecting it (a new
        # connection per request makes that likely), and aiohttp then warns of the unclosed connection when
        # it is collected: the client's own leak, collected here.
        warnings.simplefilter("ignore", ResourceWarning)
        results = asyncio.run(main())
        gc.collect()
    assert [echoed for _pid, echoed in results] == [{"py": t} for t in PY_TRANSPORTS]


@pytest.fixture(params=["asyncio", "trio"])
def two_servers(request: pytest.FixtureRequest, redis_url: str, cluster_key: str) -> Iterator[list[Server]]:
    """Two embedded reference servers on the backend, one cluster with --forward-sessions (two machines
    behind a balancer that does not stick)."""
    args = [sys.executable, str(ROOT / "examples/reference_server.py"), "--backend", request.param]
    args += ["--redis", redis_url, "--redis-key", cluster_key, "--forward-sessions"]
    args += ["--ping-interval", "2000", "--ping-timeout", "5000"]  # heartbeats are not under test here
    servers = [Server([*args, "--port", str(free_port())], f"embedded-{i}") for i in range(2)]
    try:
        yield servers
    finally:
        errors = [server.stop() for server in servers]
    assert not any("Traceback" in err for err in errors), errors


def polling(
    http: httpx.Client, url: str, method: str, sid: str | None = None, body: str | None = None
) -> str:
    params = {"EIO": "4", "transport": "polling", **({"sid": sid} if sid else {})}
    answer = http.request(method, f"{url}/socket.io/", params=params, content=body)
    assert answer.status_code == 200, answer.text
    return answer.text


def test_two_embedded_servers_behind_a_balancer_that_alternates(two_servers: list[Server]) -> None:
    # Every request of each session goes to the other server than the one before it, on a new connection.
    turn = itertools.cycle(two_servers)
    with httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as http:

        def call(method: str, sid: str | None = None, body: str | None = None) -> str:
            return polling(http, next(turn).url, method, sid, body)

        owners = set()
        for _ in range(2):
            sid = json.loads(call("GET")[1:])["sid"]
            assert call("POST", sid, "40") == "ok"
            assert call("GET", sid).startswith("40")
            assert call("POST", sid, '421["worker"]') == "ok"
            ack = call("GET", sid)
            assert ack.startswith("431[")
            owners.add(json.loads(ack[3:])[0])
            assert call("POST", sid, '422["echo_ack","hop"]') == "ok"
            assert call("GET", sid) == '432["hop"]'
        assert len(owners) == 2  # one session opened on each server, served through both


def test_an_upgrade_on_the_other_embedded_server_is_relayed(two_servers: list[Server]) -> None:
    # The WebSocket reaches the server that does not own the session (its direct WebSocket path, on
    # asyncio or trio); the owner's engine runs the probe and the session through the relay, under credit.
    owner, other = two_servers
    with httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        sid = json.loads(polling(http, owner.url, "GET")[1:])["sid"]
        assert polling(http, other.url, "POST", sid, "40") == "ok"
        assert polling(http, other.url, "GET", sid).startswith("40")
        pid = None
        ws_url = other.url.replace("http://", "ws://") + f"/socket.io/?EIO=4&transport=websocket&sid={sid}"
        with ws_connect(ws_url, open_timeout=10) as ws:
            ws.send("2probe")
            assert ws.recv(timeout=10) == "3probe"
            ws.send("5")
            ws.send('421["worker"]')
            for i in range(1000):
                ws.send(f'42["echo",{i}]')
            echoed = []
            while len(echoed) < 1000 or pid is None:
                frame = str(ws.recv(timeout=10))
                if frame == "2":
                    ws.send("3")
                elif frame.startswith("431["):
                    pid = json.loads(frame[3:])[0]
                else:
                    echoed.append(frame)
        assert echoed == [f'42["echo",{i}]' for i in range(1000)]
        assert pid == owner._proc.pid  # the owner's process handled the events


def test_a_worker_killed_mid_run_loses_its_sessions_only(workers: Server, clients: Clients) -> None:
    # Its own sessions end (a request for them finds no owner: "Session ID unknown"; a WebSocket relayed by
    # the other worker ends when the owner falls silent), and so does any connection it carried for the
    # other worker (a held poll, a relayed WebSocket); a WebSocket-only session of the other worker does
    # not notice, and new sessions open (uvicorn replaces the worker).
    names = [f"k{i}" for i in range(12)]
    transports = dict(zip(names, itertools.cycle(TRANSPORTS), strict=False))
    for name in names:
        assert "sid" in clients._command(
            {"connect": name, "url": workers.url, "transports": transports[name]}
        )
    owners = {name: clients.ask(name, "worker") for name in names}
    assert len(set(owners.values())) == 2, owners
    victim = owners[names[0]]
    os.kill(victim, signal.SIGKILL)
    for name, pid in owners.items():
        if pid == victim:
            clients.wait_disconnect(name, timeout=15)
        elif transports[name] == ["websocket"]:
            assert clients.ask(name, "worker") == pid
    assert "sid" in clients._command({"connect": "late", "url": workers.url, "transports": ["polling"]})
    assert clients.ask("late", "echo_ack", "after") == "after"
