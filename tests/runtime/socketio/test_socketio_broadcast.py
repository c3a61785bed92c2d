"""Rooms, operators and broadcasts with fake Engine.IO connections."""

from __future__ import annotations

from typing import Any

import pytest
from socketio_fakes import FakeConn, Harness, running

from sioactor.actors import InternalChannelFull
from sioactor.runtime.socketio import BroadcastError, Socket, SocketIo

pytestmark = pytest.mark.anyio


async def start(h: Harness, count: int, **kwargs: Any) -> list[FakeConn]:
    conns = []
    for i in range(count):
        conn = await h.open(f"{i:020d}", **kwargs)
        await h.feed(conn, "40")
        conn.take()
        conns.append(conn)
    return conns


def by_conn(io: SocketIo, conns: list[FakeConn]) -> list[Socket]:
    sockets = {s.conn: s for s in io.sockets()}
    return [sockets[c] for c in conns]


async def noop(socket: Socket) -> None:
    del socket


async def test_rooms_and_operators_select_the_right_sockets() -> None:
    io = SocketIo()
    io.ns("/", noop)
    async with running(io) as h:
        conns = await start(h, 4)
        a, b, c, d = by_conn(io, conns)
        a.join(["r1", "r2"])
        b.join("r1")
        c.join("r3")
        assert await a.rooms() == [a.id, "r1", "r2"]

        async def targets(ops: Any) -> set[str]:
            fetched = {s.id for s in await ops.fetch_sockets()}
            assert {s.id for s in ops.sockets()} == fetched  # the snapshot caught up: the ask was served
            return fetched

        assert await targets(a.to("r1")) == {b.id}
        assert await targets(a.within("r1")) == {a.id, b.id}
        assert await targets(a.broadcast()) == {b.id, c.id, d.id}
        assert await targets(a.except_("r3")) == {b.id, d.id}
        assert await targets(io.to(["r1", "r3"]).except_("r2")) == {b.id, c.id}
        assert await targets(io.to(d.id)) == {d.id}
        await io.to("r1").join("r4")
        assert await targets(io.to("r4")) == {a.id, b.id}
        await io.to("r4").leave("r1")
        assert await targets(io.to("r1")) == set()
        a.leave_all()
        assert await a.rooms() == []
        await io.to("r3").disconnect()
        assert conns[2].take() == ["41"]
        assert {s.id for s in await io.fetch_sockets()} == {a.id, b.id, d.id}


async def test_broadcast_is_encoded_once_for_every_receiver() -> None:
    io = SocketIo()
    io.ns("/", noop)
    async with running(io) as h:
        conns = await start(h, 3)
        await io.emit("news", (b"\x01", "x"))
        sent = [c.sent[0] for c in conns]
        assert all(s is sent[0] for s in sent)
        news = ('451-["news",{"_placeholder":true,"num":0},"x"]', b"\x01")
        assert [c.take() for c in conns] == [[news]] * 3
        first = by_conn(io, conns)[0]
        await first.broadcast().emit("hi")
        assert [c.take() for c in conns] == [[], ['42["hi"]'], ['42["hi"]']]


async def test_a_full_receiver_is_reported_and_the_others_served() -> None:
    io = SocketIo()
    io.ns("/", noop)
    async with running(io) as h:
        fast = await start(h, 2)
        slow = await h.open("s" * 20, capacity=1)
        await h.feed(slow, "40")
        slow_socket = by_conn(io, [slow])[0]
        with pytest.raises(InternalChannelFull) as full:
            slow_socket.emit("direct", [1])
        assert full.value.message == [1]
        with pytest.raises(BroadcastError) as failed:
            await io.emit("all")
        assert list(failed.value.errors) == [slow_socket.id]
        assert isinstance(failed.value.errors[slow_socket.id], InternalChannelFull)
        assert [c.take() for c in fast] == [['42["all"]'], ['42["all"]']]
        await io.volatile().emit("quiet")
        assert [c.take() for c in fast] == [['42["quiet"]'], ['42["quiet"]']]


async def test_broadcast_with_ack_counts_each_answer() -> None:
    io = SocketIo()
    io.ns("/", noop)
    async with running(io) as h:
        conns = await start(h, 3)
        sockets = by_conn(io, conns)
        stream = await io.timeout(0.2).emit_with_ack("vote")
        assert [c.take() for c in conns] == [['420["vote"]']] * 3
        await h.feed(conns[0], '430["yes"]')
        await h.feed(conns[1], "430[1,2]")
        results = {sid: result async for sid, result in stream}
        assert results[sockets[0].id] == "yes"
        assert results[sockets[1].id] == (1, 2)
        assert type(results[sockets[2].id]).__name__ == "AckTimeout"
        assert all(len(s.acks) == 0 for s in sockets)
