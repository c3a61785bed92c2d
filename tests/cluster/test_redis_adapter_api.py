"""sioactor's cluster API from Python code, against a Node socket.io 4.8 server (@socket.io/redis-adapter 8.3,
classic and sharded) with socket.io-client clients on a real redis-server: ``RemoteSocket`` (emit, join,
leave, disconnect), and the io-level operations, on asyncio and trio. The sioactor node runs in the test's
own event loop."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from node_cluster import ADAPTER_KINDS, NODE, ROOT, NodeCluster
from redis_server import MISSING_REASON, REDIS_SERVER, RedisServer
from socketio_fakes import FakeConn, Harness, running
from trace_fakes import ListTracer

from sioactor import (
    LifespanFailed,
    RedisAdapter,
    RedisEmitter,
    RedisShardedAdapter,
    RedisUnavailable,
    RemoteSocket,
    Socket,
    SocketIo,
    TraceKind,
)

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def python_node(redis_url: str, key: str, kind: str = "classic") -> AsyncIterator[SocketIo]:
    if kind == "sharded":
        io = SocketIo(adapter=RedisShardedAdapter.from_url(redis_url, key=key))
    else:
        io = SocketIo(adapter=RedisAdapter.from_url(redis_url, key=key))
    io.ns("/", lambda: None)
    io.ns("/chat", lambda: None)
    async with running(io):
        yield io


async def connect(harness: Harness, engine_sid: str, nsp: str = "/") -> tuple[FakeConn, str]:
    """A fake Engine.IO session joined to *nsp*: the connection and the socket id."""
    conn = await harness.open(engine_sid)
    await harness.feed(conn, "40" if nsp == "/" else f"40{nsp},")
    accepted = str(conn.take()[-1])
    return conn, str(json.loads(accepted[accepted.index("{") :])["sid"])


async def node_lines(node: NodeCluster, predicate: object, count: int = 1) -> None:
    await anyio.to_thread.run_sync(lambda: node.wait_for(predicate, count=count))  # type: ignore[arg-type]


@pytest.mark.parametrize("adapter_kind", ADAPTER_KINDS)
async def test_remote_sockets_of_a_node_server(
    node_cluster: NodeCluster, redis_url: str, cluster_key: str, adapter_kind: str
) -> None:
    ids = node_cluster.ids
    with anyio.fail_after(20):
        async with python_node(redis_url, cluster_key, adapter_kind) as io:
            assert await io.server_count() == 2
            found = {s.id: s for s in await io.fetch_sockets()}
            assert set(found) == {ids["c1"], ids["c2"]}
            c1 = found[ids["c1"]]
            assert isinstance(c1, RemoteSocket)
            assert c1.rooms == {ids["c1"], "room1"}
            assert c1.data == {}
            assert c1.handshake["query"]["room"] == "room1"
            assert await io.all_rooms() == {ids["c1"], ids["c2"], "room1"}
            chat = await io.of("/chat").fetch_sockets()
            assert [s.id for s in chat] == [ids["c3"]]

            await c1.emit("direct", b"\x01\xff")
            await node_lines(node_cluster, lambda line: line.get("event") == "direct")
            assert node_cluster.events("c1") == [("direct", [b"\x01\xff"])]

            await c1.join("joined")
            assert [s.id for s in await io.to("joined").fetch_sockets()] == [ids["c1"]]
            await c1.leave("joined")
            assert await io.to("joined").fetch_sockets() == []

            await io.except_("room1").emit("not-room1")
            await io.volatile().to("room1").emit("room1-volatile")
            await io.local().emit("never-published")
            await io.of("/chat").emit("chat", 1)
            await node_lines(node_cluster, lambda line: line.get("event") == "chat")
            await node_lines(node_cluster, lambda line: line.get("event") == "room1-volatile")
            await node_lines(node_cluster, lambda line: line.get("event") == "not-room1")
            assert not any(line.get("event") == "never-published" for line in node_cluster.seen)

            await io.of("/chat").server_side_emit("sse", ("from-python", 2))
            await node_lines(node_cluster, lambda line: line.get("server") == "/chat")
            assert {"server": "/chat", "event": "sse", "args": ["from-python", 2]} in node_cluster.seen

            c2 = found[ids["c2"]]
            await c2.disconnect()
            await node_lines(node_cluster, lambda line: line.get("client") == "c2" and "disconnect" in line)
            assert [s.id for s in await io.fetch_sockets()] == [ids["c1"]]


@pytest.mark.parametrize("adapter", [RedisAdapter, RedisShardedAdapter])
async def test_unreachable_redis_fails_the_start_naming_the_url(
    adapter: type[RedisAdapter | RedisShardedAdapter],
) -> None:
    url = "redis://127.0.0.1:1"
    io = SocketIo(adapter=adapter.from_url(url, connect_timeout=2))
    io.ns("/", lambda: None)
    with anyio.fail_after(10), pytest.raises(LifespanFailed, match=re.escape(f"Redis at {url}")) as caught:
        async with io.lifespan():
            pass
    assert isinstance(caught.value.__cause__, RedisUnavailable)
    assert caught.value.__cause__.url == url


async def test_a_redis_without_sharded_pub_sub_is_refused_clearly(tmp_path: Path) -> None:
    # What a Redis older than 7.0 answers to SSUBSCRIBE (unknown command), made here by disabling it.
    if REDIS_SERVER is None:
        pytest.skip(MISSING_REASON)
    server = RedisServer(tmp_path, "--rename-command", "SSUBSCRIBE", "")
    server.start()
    try:
        io = SocketIo(adapter=RedisShardedAdapter.from_url(server.url, connect_timeout=2))
        io.ns("/", lambda: None)
        with (
            anyio.fail_after(10),
            pytest.raises(LifespanFailed, match=r"needs Redis 7\.0 or later") as caught,
        ):
            async with io.lifespan():
                pass
        assert isinstance(caught.value.__cause__, RedisUnavailable)
    finally:
        server.stop()


@pytest.mark.parametrize("adapter_kind", ADAPTER_KINDS)
async def test_the_trace_shows_the_cluster(
    node_cluster: NodeCluster, redis_url: str, cluster_key: str, adapter_kind: str
) -> None:
    tracer = ListTracer()
    adapter = RedisShardedAdapter if adapter_kind == "sharded" else RedisAdapter
    io = SocketIo(adapter=adapter.from_url(redis_url, key=cluster_key), tracer=tracer)
    io.ns("/", lambda: None)
    with anyio.fail_after(20):
        async with running(io):
            await io.fetch_sockets()
            while len(tracer.of(TraceKind.CLUSTER_STATS)) < 2:  # noqa: ASYNC110 (a fake tracer: no event)
                await anyio.sleep(0.1)
    connected = tracer.of(TraceKind.CLUSTER_CONNECTED)
    assert [e.actor for e in connected] == [f"cluster:{redis_url}"]
    stats = tracer.of(TraceKind.CLUSTER_STATS)[1]  # the first is taken on connecting
    assert stats.fields is not None
    assert stats.fields["members"] == 2
    assert stats.fields["pending"] == 0
    assert stats.fields["out"] >= 1
    assert stats.capacity is not None
    # fetch_sockets' request, counted by channel kind (the sharded format asks on broadcast-style channels)
    kind = "broadcast" if adapter_kind == "sharded" else "request"
    assert stats.fields["channels"][kind]["out"] >= 1


@pytest.mark.parametrize("emitter", ["node", "python"])
async def test_an_emitter_reaches_a_sioactor_node(redis_url: str, cluster_key: str, emitter: str) -> None:
    """Node's @socket.io/redis-emitter 5.1 (and sioactor's) publishing into a cluster of sioactor nodes."""
    if NODE is None:
        pytest.skip("node is not installed")
    heard: list[tuple[Any, ...]] = []
    io = SocketIo(adapter=RedisAdapter.from_url(redis_url, key=cluster_key))
    io.ns("/", lambda: None)
    io.ns("/chat", lambda: None)
    io.on_server_side("sse", lambda *args: heard.append(args))
    with anyio.fail_after(30):
        async with running(io) as harness:
            in_room, plain = await connect(harness, "a" * 20), await connect(harness, "b" * 20)
            chat = await connect(harness, "c" * 20, "/chat")
            await io.local().within(in_room[1]).join("room1")
            await harness.settle()
            if emitter == "node":
                config = json.dumps({"redis": redis_url, "key": cluster_key, "sid": plain[1]})
                await anyio.run_process([NODE, str(ROOT / "tests/node/cluster_emitter.js"), config], cwd=ROOT)
            else:
                async with RedisEmitter(redis_url, key=cluster_key) as publisher:
                    await publisher.emit("from-emitter", "hi", 42, {"k": [1, 2]})
                    await publisher.to("room1").emit("from-emitter-room", "r")
                    await publisher.to("room1").to("room2").except_("room3").volatile.emit("multi", 1.5)
                    await publisher.of("/chat").emit("bin", b"\xde\xad", {"nested": b"\x01"})
                    await publisher.server_side_emit("sse", "from-emitter")
                    await publisher.in_("room1").sockets_join("room9")
                    await publisher.sockets_leave(["room9", "room8"])
                    await publisher.in_(plain[1]).disconnect_sockets(close=True)
            while plain[0].close_reason is None or not heard:  # noqa: ASYNC110 (fakes: no event to wait on)
                await anyio.sleep(0.05)
            await harness.settle()
            events_in_room = [str(m) for m in in_room[0].take()]
            assert '42["from-emitter","hi",42,{"k":[1,2]}]' in events_in_room
            assert '42["from-emitter-room","r"]' in events_in_room
            assert '42["multi",1.5]' in events_in_room
            events_plain = [str(m) for m in plain[0].take()]
            assert '42["from-emitter","hi",42,{"k":[1,2]}]' in events_plain
            assert not any("room" in e or "multi" in e for e in events_plain)
            assert any("bin" in str(m) for m in chat[0].take())
            assert heard == [("from-emitter",)]
            (member,) = await io.to("room1").fetch_sockets()
            assert isinstance(member, Socket)
            assert sorted(await member.rooms()) == sorted([in_room[1], "room1"])
