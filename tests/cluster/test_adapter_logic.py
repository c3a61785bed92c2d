"""The Redis adapters' logic without Redis: two sioactor nodes in one process on an in-memory bus, with fake
Engine.IO connections, each test on the classic and the sharded adapter (fast tests; test_redis_adapter.py
runs the same operations on the real thing)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from memory_bus import MemoryBus, MemoryHub
from socketio_fakes import FakeConn, Harness, running

from sioactor import (
    AckTimeout,
    AdapterFactory,
    ClusterTimeout,
    RedisAdapterFactory,
    RedisShardedAdapterFactory,
    RedisUnavailable,
    RemoteSocket,
    Socket,
    SocketIo,
)

pytestmark = pytest.mark.anyio

# Whose subscribers are the nodes: the classic request channel, the sharded main channel.
MEMBERS = {"classic": "k-request#/#", "sharded": "k#/#"}


@pytest.fixture(params=["classic", "sharded"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def factory(bus: MemoryBus, kind: str, mode: str = "dynamic") -> AdapterFactory:
    if kind == "sharded":
        return RedisShardedAdapterFactory(bus, key="k", requests_timeout=0.5, subscription_mode=mode)
    return RedisAdapterFactory(bus, key="k", requests_timeout=0.5)


def node(bus: MemoryBus, kind: str, mode: str = "dynamic") -> SocketIo:
    io = SocketIo(adapter=factory(bus, kind, mode))

    def on_connect(socket: Socket) -> None:
        socket.data = {"sid": socket.id}

    io.ns("/", on_connect)
    io.on_server_side("ping", lambda value: {"pong": value, "by": id(io)})
    return io


@asynccontextmanager
async def two_nodes(
    kind: str, mode: str = "dynamic"
) -> AsyncIterator[tuple[MemoryHub, tuple[SocketIo, Harness], tuple[SocketIo, Harness]]]:
    hub = MemoryHub()
    a, b = node(hub.bus(), kind, mode), node(hub.bus(), kind, mode)
    with anyio.fail_after(10):
        async with running(a) as ha, running(b) as hb:
            yield hub, (a, ha), (b, hb)


async def connect(harness: Harness, engine_sid: str) -> tuple[FakeConn, str]:
    conn = await harness.open(engine_sid)
    await harness.feed(conn, "40")
    accepted = conn.take()[-1]
    assert isinstance(accepted, str)
    assert accepted.startswith("40")
    return conn, str(json.loads(accepted[2:])["sid"])


async def test_broadcasts_reach_the_other_node_and_local_is_never_published(kind: str) -> None:
    async with two_nodes(kind) as (hub, (a, ha), (_b, hb)):
        conn_a, _ = await connect(ha, "a" * 20)
        conn_b, sid_b = await connect(hb, "b" * 20)
        await a.emit("news", {"n": 1})
        await a.to(sid_b).emit("private", b"\x01\x02")
        await hb.settle()
        sent = conn_b.take()
        assert '42["news",{"n":1}]' in sent
        assert any(isinstance(m, tuple) and "private" in m[0] for m in sent) or any(
            isinstance(m, str) and "private" in m for m in sent
        )
        published = len(hub.published)
        await a.local().emit("here-only")
        assert len(hub.published) == published
        assert '42["here-only"]' in conn_a.take()
        assert not any("here-only" in str(m) for m in conn_b.take())


async def test_fetch_sockets_all_rooms_and_server_count_across_nodes(kind: str) -> None:
    async with two_nodes(kind) as (_hub, (a, ha), (b, hb)):
        _conn_a, sid_a = await connect(ha, "a" * 20)
        _conn_b, sid_b = await connect(hb, "b" * 20)
        await b.to(sid_b).join("room-b")
        assert await a.server_count() == 2
        found = {s.id: s for s in await a.fetch_sockets()}
        assert set(found) == {sid_a, sid_b}
        assert isinstance(found[sid_a], Socket)
        remote = found[sid_b]
        assert isinstance(remote, RemoteSocket)
        assert remote.data == {"sid": sid_b}
        assert remote.rooms == {sid_b, "room-b"}
        assert "headers" in remote.handshake
        assert [s.id for s in await a.to("room-b").fetch_sockets()] == [sid_b]
        assert await a.all_rooms() == {sid_a, sid_b, "room-b"}
        await remote.join("joined-remotely")
        await hb.settle()
        assert "joined-remotely" in await b.all_rooms()


async def test_server_side_emit_with_acks_and_a_node_that_never_answers(kind: str) -> None:
    async with two_nodes(kind) as (hub, (a, _ha), (b, _hb)):
        answers = await a.server_side_emit_with_ack("ping", 7)
        assert answers == [{"pong": 7, "by": id(b)}]
        silent = hub.bus()
        async with anyio.create_task_group() as tg:
            await silent.start(tg)

            async def ignore(channel: str, payload: bytes) -> None:
                pass

            await silent.subscribe({MEMBERS[kind]: ignore}, {})
            with pytest.raises(ClusterTimeout) as caught:
                await a.server_side_emit_with_ack("ping", 8, ack_timeout=0.3)
            assert caught.value.expected == 2
            assert caught.value.received == 1
            assert caught.value.responses == [{"pong": 8, "by": id(b)}]
            with pytest.raises(ClusterTimeout, match="fetch_sockets"):
                await a.fetch_sockets()
            await silent.close()


async def test_broadcast_with_acks_collects_every_node(kind: str) -> None:
    async with two_nodes(kind) as (_hub, (a, ha), (_b, hb)):
        conn_a, _ = await connect(ha, "a" * 20)
        conn_b, _ = await connect(hb, "b" * 20)
        stream = await a.timeout(2).emit_with_ack("poll", "q")
        await hb.settle()
        asked_b = conn_b.take()[-1]
        asked_a = conn_a.take()[-1]
        assert isinstance(asked_a, str)
        assert isinstance(asked_b, str)
        id_a = asked_a[2 : asked_a.index("[")]
        id_b = asked_b[2 : asked_b.index("[")]
        await ha.feed(conn_a, f'43{id_a}["from-a"]')
        await hb.feed(conn_b, f'43{id_b}["from-b"]')
        results: list[Any] = []
        with anyio.fail_after(3):
            async for _sid, value in stream:
                results.append(value)
        assert sorted(results) == ["from-a", "from-b"]


async def test_a_silent_remote_client_times_out_in_the_stream(kind: str) -> None:
    async with two_nodes(kind) as (_hub, (a, _ha), (_b, hb)):
        await connect(hb, "b" * 20)
        stream = await a.timeout(0.3).emit_with_ack("poll")
        with anyio.fail_after(3):
            results = [value async for _sid, value in stream]
        assert len(results) == 1
        assert isinstance(results[0], AckTimeout)


async def test_a_lost_bus_fails_cluster_operations_fast_and_local_ones_still_work(kind: str) -> None:
    hub = MemoryHub()
    bus = hub.bus()
    a = node(bus, kind)
    async with running(a) as ha:
        conn, sid = await connect(ha, "a" * 20)
        bus.up = False
        with anyio.fail_after(1):
            with pytest.raises(RedisUnavailable):
                await a.emit("still-here")
            with pytest.raises(RedisUnavailable):
                await a.fetch_sockets()
            with pytest.raises(RedisUnavailable):
                await a.join("r")
        assert '42["still-here"]' in conn.take()
        (mine,) = await a.local().fetch_sockets()
        assert isinstance(mine, Socket)
        assert mine.id == sid
        assert "r" in await mine.rooms()


async def test_garbage_on_the_channels_is_dropped(kind: str) -> None:
    async with two_nodes(kind) as (hub, (a, _ha), (_b, hb)):
        conn_b, _ = await connect(hb, "b" * 20)
        for channel in ("k#/#", "k-request#/#", "k-response#/#", "k#/#room#"):
            for garbage in (b"", b"\xc1", b"{not json", b"\x93\xa1x\x01\x02", b'{"type": 99}'):
                hub.deliver(channel, garbage)
        await a.emit("after")
        await hb.settle()
        assert '42["after"]' in conn_b.take()


@pytest.mark.parametrize(
    ("mode", "room_channel", "own_channel"),
    [("dynamic", True, False), ("dynamic-private", True, True), ("static", False, False)],
)
async def test_sharded_room_channels_follow_the_rooms(
    mode: str, room_channel: bool, own_channel: bool
) -> None:
    # createShardedAdapter's subscription modes: a one-room broadcast goes to the room's own channel, which
    # a node hears while it holds the room (a socket's own room too in dynamic-private), else to k#/#.
    async with two_nodes("sharded", mode) as (hub, (a, _ha), (b, hb)):
        bus_b = hub.buses[1]
        conn_b, sid_b = await connect(hb, "b" * 20)
        await b.to(sid_b).join("r")
        await hb.settle()
        assert ("k#/#r#" in bus_b.channels) is room_channel
        assert (f"k#/#{sid_b}#" in bus_b.channels) is own_channel
        await a.to("r").emit("to-room", 1)
        await a.to(sid_b).emit("to-socket", 2)
        await hb.settle()
        channels = [channel for channel, _ in hub.published[-2:]]
        assert channels == [
            "k#/#r#" if room_channel else "k#/#",
            f"k#/#{sid_b}#" if own_channel else "k#/#",
        ]
        sent = [str(m) for m in conn_b.take()]
        assert '42["to-room",1]' in sent
        assert '42["to-socket",2]' in sent
        await b.to(sid_b).leave("r")
        await hb.settle()
        assert "k#/#r#" not in bus_b.channels  # the room is gone here: so is its channel


async def test_sharded_all_rooms_gathers_the_rooms_of_every_node() -> None:
    async with two_nodes("sharded") as (_hub, (a, ha), (b, hb)):
        _conn_a, sid_a = await connect(ha, "a" * 20)
        _conn_b, sid_b = await connect(hb, "b" * 20)
        await b.to(sid_b).join("only-on-b")
        await hb.settle()
        assert await a.all_rooms() == {sid_a, sid_b, "only-on-b"}


def test_an_unknown_subscription_mode_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="'often' is none of 'static', 'dynamic', 'dynamic-private'"):
        RedisShardedAdapterFactory(MemoryHub().bus(), key="k", requests_timeout=1, subscription_mode="often")
