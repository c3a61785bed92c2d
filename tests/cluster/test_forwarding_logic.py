"""Session forwarding without Redis: two sioactor nodes in one process, each on its own embedded server and
port (two machines behind a balancer that does not stick), joined by the in-memory bus; a raw Engine.IO
client sends each request of one session to the node it chooses, every request on a new connection
(test_forwarding.py runs real clients under ``uvicorn --workers 2`` with a real Redis)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from memory_bus import MemoryHub
from websockets.asyncio.client import connect as ws_connect

from sioactor import (
    AckSender,
    Args,
    Data,
    EngineConfig,
    ServerConfig,
    Socket,
    SocketIo,
    SocketIoConfig,
    serve_asgi,
)
from sioactor.protocol.cluster._forwarding import (
    Taken,
    encode_forward_message,
)
from sioactor.runtime.cluster import RedisAdapterFactory

pytestmark = pytest.mark.anyio


def node(hub: MemoryHub, name: str) -> SocketIo:
    factory = RedisAdapterFactory(hub.bus(), key="k", requests_timeout=0.5, forward_sessions=True)
    assert factory.forwarder is not None
    config = SocketIoConfig(engine=EngineConfig(ping_interval=1.0, ping_timeout=2.0))
    io = SocketIo(config, adapter=factory)

    def worker(ack: AckSender) -> None:
        ack.send([name, os.getpid()])

    async def bcast(text: Data[str]) -> None:
        await io.emit("bcast", text)

    def echo(socket: Socket, args: Args) -> None:
        socket.emit("echo", args)

    def on_connect(socket: Socket) -> None:
        socket.on("echo", echo)
        socket.on("worker", worker)
        socket.on("bcast", bcast)

    io.ns("/", on_connect)
    return io


@asynccontextmanager
async def two_nodes(hub: MemoryHub | None = None) -> AsyncIterator[tuple[str, str]]:
    hub = MemoryHub() if hub is None else hub
    a, b = node(hub, "a"), node(hub, "b")
    async with anyio.create_task_group() as tg:
        port_a = await tg.start(serve_asgi, a.asgi(), ServerConfig(host="127.0.0.1", port=0))
        port_b = await tg.start(serve_asgi, b.asgi(), ServerConfig(host="127.0.0.1", port=0))
        yield f"127.0.0.1:{port_a}", f"127.0.0.1:{port_b}"
        tg.cancel_scope.cancel()


async def request(method: str, host: str, query: str, body: str | None = None) -> httpx.Response:
    # A new connection per request, as a balancer without sticky sessions would spread them.
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.request(
            method, f"http://{host}/socket.io/?EIO=4&transport=polling{query}", content=body
        )


async def handshake(host: str) -> str:
    answer = await request("GET", host, "")
    assert answer.status_code == 200
    return str(json.loads(answer.text[1:])["sid"])


async def poll(host: str, sid: str) -> list[str]:
    answer = await request("GET", host, f"&sid={sid}")
    assert answer.status_code == 200, answer.text
    return answer.text.split("\x1e")


async def until(host: str, sid: str, prefix: str) -> str:
    # Polls (answering pings) until a packet starting with *prefix* arrives.
    with anyio.fail_after(10):
        while True:
            for packet in await poll(host, sid):
                if packet.startswith(prefix):
                    return packet
                if packet == "2":
                    assert (await request("POST", host, f"&sid={sid}", "3")).text == "ok"


async def test_polling_requests_of_one_session_are_served_by_either_node() -> None:
    async with two_nodes() as (a, b):
        sid = await handshake(a)
        assert (await request("POST", b, f"&sid={sid}", "40")).text == "ok"
        connected = await until(b, sid, "40")
        assert "sid" in json.loads(connected[2:])
        assert (await request("POST", b, f"&sid={sid}", '421["worker"]')).text == "ok"
        assert json.loads((await until(a, sid, "431"))[3:]) == [["a", os.getpid()]]
        assert (await request("POST", a, f"&sid={sid}", '422["worker"]')).text == "ok"
        assert json.loads((await until(b, sid, "432"))[3:]) == [["a", os.getpid()]]


async def test_broadcast_reaches_sessions_owned_by_each_node_through_either() -> None:
    async with two_nodes() as (a, b):
        sids = [await handshake(a), await handshake(b)]
        for sid, other in zip(sids, (b, a), strict=True):
            assert (await request("POST", other, f"&sid={sid}", "40")).text == "ok"
            await until(other, sid, "40")
        assert (await request("POST", b, f"&sid={sids[0]}", '42["bcast","hi"]')).text == "ok"
        for sid, other in zip(sids, (b, a), strict=True):
            assert await until(other, sid, "42") == '42["bcast","hi"]'


async def test_an_unknown_sid_is_refused_after_the_bounded_wait() -> None:
    async with two_nodes() as (a, _b):
        started = anyio.current_time()
        answer = await request("GET", a, "&sid=" + "x" * 20)
        assert answer.status_code == 400
        assert answer.json() == {"code": 1, "message": "Session ID unknown"}
        assert anyio.current_time() - started >= 0.3
        started = anyio.current_time()
        malformed = await request("GET", a, "&sid=short")  # not forwarded: refused at once
        assert malformed.json()["code"] == 1
        assert anyio.current_time() - started < 0.3


async def test_a_post_too_large_is_refused_by_the_owner_and_closes_the_session() -> None:
    async with two_nodes() as (a, b):
        sid = await handshake(a)
        answer = await request("POST", b, f"&sid={sid}", "4" + "x" * 1_000_001)
        assert answer.status_code == 413
        refused = await request("GET", a, f"&sid={sid}")
        assert refused.status_code == 400


async def test_a_session_whose_owner_left_the_cluster_is_unknown_and_garbage_is_ignored() -> None:
    hub = MemoryHub()
    async with two_nodes(hub) as (a, b):
        sid = await handshake(a)
        hub.deliver("k-forward#", b"\x93garbage")  # dropped (the Redis link logs it); nothing breaks
        hub.deliver("k-forward#", encode_forward_message(Taken(exchange=1, owner="nobody")))
        assert (await request("POST", b, f"&sid={sid}", "40")).text == "ok"
        hub.buses[0].up = False  # node a loses its bus: nobody answers for its sessions
        refused = await request("GET", b, f"&sid={sid}")
        assert refused.status_code == 400
        assert refused.json()["message"] == "Session ID unknown"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # websockets' client runs on asyncio only
async def test_websocket_upgrade_on_the_other_node_is_relayed_to_the_owner() -> None:
    async with two_nodes() as (a, b):
        sid = await handshake(a)
        assert (await request("POST", b, f"&sid={sid}", "40")).text == "ok"
        await until(a, sid, "40")
        async with anyio.create_task_group() as tg:
            released: list[list[str]] = []
            answered = anyio.Event()

            async def held_poll() -> None:
                released.append(await poll(a, sid))
                answered.set()

            tg.start_soon(held_poll)
            await anyio.sleep(0.1)
            async with ws_connect(f"ws://{b}/socket.io/?EIO=4&transport=websocket&sid={sid}") as ws:
                await ws.send("2probe")
                assert await ws.recv() == "3probe"
                with anyio.fail_after(5):
                    await answered.wait()
                assert released[0] in (["6"], ["2"])  # the noop, or a ping that came first
                await ws.send("5")
                await ws.send('423["worker"]')
                with anyio.fail_after(5):
                    while (frame := await ws.recv()) == "2":
                        await ws.send("3")
                assert json.loads(str(frame)[3:]) == [["a", os.getpid()]]
                assert str(frame).startswith("433")
                # Binary travels as binary frames both ways (an event with one attachment, echoed back).
                await ws.send('451-["echo",{"_placeholder":true,"num":0}]')
                await ws.send(b"\x00\x01\xff")
                with anyio.fail_after(5):
                    while (frame := await ws.recv()) == "2":
                        await ws.send("3")
                    assert frame == '451-["echo",{"_placeholder":true,"num":0}]'
                    assert await ws.recv() == b"\x00\x01\xff"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_burst_over_a_relayed_websocket_is_pushed_back_not_cut_off() -> None:
    # Far more frames than the relay's queues hold, each way: credit keeps both within their bounds.
    async with two_nodes() as (a, b):
        sid = await handshake(a)
        assert (await request("POST", b, f"&sid={sid}", "40")).text == "ok"
        await until(a, sid, "40")
        async with ws_connect(f"ws://{b}/socket.io/?EIO=4&transport=websocket&sid={sid}") as ws:
            await ws.send("2probe")
            assert await ws.recv() == "3probe"
            await ws.send("5")
            count = 3000
            for i in range(count):
                await ws.send(f'42["echo",{i}]')
            echoed = []
            with anyio.fail_after(30):
                while len(echoed) < count:
                    frame = str(await ws.recv())
                    if frame == "2":
                        await ws.send("3")
                    else:
                        echoed.append(frame)
            assert echoed == [f'42["echo",{i}]' for i in range(count)]
