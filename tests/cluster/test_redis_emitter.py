"""sioactor's Redis emitter against the real thing: a Node socket.io 4.8 server with @socket.io/redis-adapter
8.3 on a real redis-server, real socket.io-client clients, and Node's own @socket.io/redis-emitter 5.1."""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
import coredis
import pytest
from node_cluster import NODE, ROOT, NodeCluster
from redis_server import free_port

from sioactor import RedisEmitter, RedisUnavailable, SyncRedisEmitter
from sioactor.protocol.cluster import (
    Broadcast,
    ClassicChannels,
    DisconnectSockets,
    ServerSideEmit,
    SocketsJoin,
    SocketsLeave,
    decode_classic_broadcast,
    decode_classic_request,
)


async def wait_for_end(node: NodeCluster, *clients: str) -> None:
    for client in clients:
        await anyio.to_thread.run_sync(
            lambda c=client: node.wait_for(
                lambda line: line.get("client") == c and line.get("event") == "end"
            )
        )


@pytest.mark.anyio
async def test_emit_reaches_the_selected_node_clients(
    node_cluster: NodeCluster, redis_url: str, cluster_key: str
) -> None:
    c2 = node_cluster.ids["c2"]
    with anyio.fail_after(20):
        async with RedisEmitter(redis_url, key=cluster_key) as emitter:
            await emitter.emit("all", "hi", 42, {"k": [1, 2]})
            await emitter.to("room1").emit("room-only", "r")
            await emitter.except_("room1").emit("not-room1", b"\x01\x02\xff")
            await emitter.of("/chat").emit("chat", {"bin": b"\xde\xad"})
            await emitter.to(c2).compress(False).emit("private", 1.5)  # (volatile may drop: bytes test)
            await emitter.of("/chat").emit("end")
            await emitter.emit("end")
        await wait_for_end(node_cluster, "c1", "c2", "c3")
    assert node_cluster.events("c1") == [
        ("all", ["hi", 42, {"k": [1, 2]}]),
        ("room-only", ["r"]),
        ("end", []),
    ]
    assert node_cluster.events("c2") == [
        ("all", ["hi", 42, {"k": [1, 2]}]),
        ("not-room1", [b"\x01\x02\xff"]),
        ("private", [1.5]),
        ("end", []),
    ]
    assert node_cluster.events("c3") == [("chat", [{"bin": b"\xde\xad"}]), ("end", [])]


@pytest.mark.anyio
async def test_sockets_join_leave_and_disconnect_reach_node_sockets(
    node_cluster: NodeCluster, redis_url: str, cluster_key: str
) -> None:
    with anyio.fail_after(20):
        async with RedisEmitter(redis_url, key=cluster_key) as emitter:
            await emitter.in_("room1").sockets_join("room9")
            await emitter.to("room9").emit("in-room9")
            await emitter.sockets_leave(["room9"])
            await emitter.to("room9").emit("still-in-room9")
            await emitter.in_(node_cluster.ids["c2"]).disconnect_sockets()
            await emitter.emit("end")
        await wait_for_end(node_cluster, "c1")
        gone = await anyio.to_thread.run_sync(
            lambda: node_cluster.wait_for(lambda line: line.get("client") == "c2" and "disconnect" in line)
        )
    assert node_cluster.events("c1") == [("in-room9", []), ("end", [])]
    assert gone["disconnect"] == "io server disconnect"
    assert node_cluster.events("c2") == []


@pytest.mark.anyio
async def test_server_side_emit_reaches_the_node_server(
    node_cluster: NodeCluster, redis_url: str, cluster_key: str
) -> None:
    with anyio.fail_after(20):
        async with RedisEmitter(redis_url, key=cluster_key) as emitter:
            await emitter.server_side_emit("sse", "from-python", 2, {"o": None})
            await emitter.of("/chat").server_side_emit("sse", "to-chat")
        await anyio.to_thread.run_sync(
            lambda: node_cluster.wait_for(lambda line: line.get("event") == "sse", count=2)
        )
    seen = [line for line in node_cluster.seen if line.get("event") == "sse"]
    assert sorted((line["server"], line["args"]) for line in seen) == [
        ("/", ["from-python", 2, {"o": None}]),
        ("/chat", ["to-chat"]),
    ]


def test_sync_emitter_reaches_node_clients(
    node_cluster: NodeCluster, redis_url: str, cluster_key: str
) -> None:
    with SyncRedisEmitter(redis_url, key=cluster_key) as emitter:
        emitter.to("room1").emit("sync", b"\x00")
        emitter.in_(node_cluster.ids["c2"]).disconnect_sockets(close=True)
    node_cluster.wait_for(lambda line: line.get("client") == "c1" and line.get("event") == "sync")
    gone = node_cluster.wait_for(lambda line: line.get("client") == "c2" and "disconnect" in line)
    assert node_cluster.events("c1") == [("sync", [b"\x00"])]
    assert gone["disconnect"] == "io server disconnect"  # with close=True too: Node says goodbye first


@pytest.mark.anyio
async def test_unreachable_redis_is_a_clear_error_naming_the_url() -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    with anyio.fail_after(10), pytest.raises(RedisUnavailable, match=f"Redis at {url} is unavailable"):
        async with RedisEmitter(url, timeout=2):
            pass


def test_sync_emitter_on_unreachable_redis_is_a_clear_error() -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    with (
        pytest.raises(RedisUnavailable, match=f"Redis at {url} is unavailable"),
        SyncRedisEmitter(url, timeout=2),
    ):
        pass


def test_emitting_outside_the_context_manager_is_refused() -> None:
    with pytest.raises(RuntimeError, match="inside 'with'"):
        SyncRedisEmitter("redis://127.0.0.1:1").emit("x")
    with pytest.raises(ValueError, match="reserved"):
        SyncRedisEmitter("redis://127.0.0.1:1").emit("disconnect")


async def capture(redis_url: str, key: str, count: int, publish: object) -> list[tuple[str, bytes]]:
    """Subscribe to every channel of *key*, run *publish* (an async callable), collect *count* messages."""
    got: list[tuple[str, bytes]] = []
    client = coredis.Redis.from_url(redis_url, decode_responses=False)
    async with client, client.pubsub(patterns=[f"{key}*"]) as pubsub:
        await publish()  # type: ignore[operator]
        async for message in pubsub:
            if message["type"] == "pmessage":
                got.append((message["channel"].decode(), message["data"]))
                if len(got) == count:
                    break
    return got


@pytest.mark.anyio
async def test_python_emitter_publishes_the_bytes_of_nodes_emitter(redis_url: str, cluster_key: str) -> None:
    if NODE is None:
        pytest.skip("node is not installed")
    sid = "ZWPnQ3pFqGfy4f24AAAC"
    config = json.dumps({"redis": redis_url, "key": cluster_key, "sid": sid})

    async def node_emitter() -> None:
        await anyio.run_process([NODE, str(ROOT / "tests/node/cluster_emitter.js"), config], cwd=ROOT)

    async def python_emitter() -> None:
        async with RedisEmitter(redis_url, key=cluster_key) as emitter:
            await emitter.emit("from-emitter", "hi", 42, {"k": [1, 2]})
            await emitter.to("room1").emit("from-emitter-room", "r")
            await emitter.to("room1").to("room2").except_("room3").volatile.compress(False).emit("multi", 1.5)
            await emitter.of("/chat").emit("bin", b"\xde\xad", {"nested": b"\x01"})
            await emitter.server_side_emit("sse", "from-emitter")
            await emitter.in_("room1").sockets_join("room9")
            await emitter.sockets_leave(["room9", "room8"])
            await emitter.in_(sid).disconnect_sockets(close=True)

    with anyio.fail_after(20):
        from_node = await capture(redis_url, cluster_key, 8, node_emitter)
        from_python = await capture(redis_url, cluster_key, 8, python_emitter)
    assert from_python == from_node

    root, chat = ClassicChannels("/", cluster_key), ClassicChannels("/chat", cluster_key)
    broadcasts = [decode_classic_broadcast(payload) for _, payload in from_node[:4]]
    assert [channel for channel, _ in from_node[:4]] == [
        root.broadcast,
        root.room("room1"),
        root.broadcast,
        chat.broadcast,
    ]
    assert all(isinstance(message, Broadcast) and message.uid == "emitter" for message in broadcasts)
    assert broadcasts[3].data == ["bin", b"\xde\xad", {"nested": b"\x01"}]
    assert broadcasts[2].recipients.flags == {"volatile": True, "compress": False}
    requests = [decode_classic_request(payload, nsp="/") for _, payload in from_node[4:]]
    assert {channel for channel, _ in from_node[4:]} == {root.request}
    assert [type(message) for message in requests] == [
        ServerSideEmit,
        SocketsJoin,
        SocketsLeave,
        DisconnectSockets,
    ]
    assert requests[2] == SocketsLeave(
        uid=None, nsp="/", recipients=requests[2].recipients, rooms=("room9", "room8")
    )


def test_example_emits_one_event_and_exits(
    node_cluster: NodeCluster, redis_url: str, cluster_key: str
) -> None:
    script = str(ROOT / "examples/redis_emitter.py")
    args = ["--redis", redis_url, "--key", cluster_key, "--to", "room1", "greet", '"hello"', '{"n": 1}']
    done = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    node_cluster.wait_for(lambda line: line.get("client") == "c1" and line.get("event") == "greet")
    assert node_cluster.events("c1") == [("greet", ["hello", {"n": 1}])]


def test_example_on_unreachable_redis_says_so_and_fails() -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    script = str(ROOT / "examples/redis_emitter.py")
    done = subprocess.run(
        [sys.executable, script, "--redis", url, "ev", "1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert f"Redis at {url} is unavailable" in done.stderr
    assert "Traceback" not in done.stderr
