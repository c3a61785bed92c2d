"""Room events (``on_room_event``: Node's adapter ``create-room``, ``join-room``, ``leave-room``,
``delete-room``) with a fake Engine.IO connection; the interop test runs them with socket.io-client."""

from __future__ import annotations

import logging
import re

import pytest
from socketio_fakes import running

from sioactor import Args, ConfigError, Socket, SocketIo

pytestmark = pytest.mark.anyio


def join(socket: Socket, args: Args) -> None:
    socket.join(str(args[0]))


def leave(socket: Socket, args: Args) -> None:
    socket.leave(str(args[0]))


def recorder(io: SocketIo, path: str = "/") -> list[tuple[str, ...]]:
    log: list[tuple[str, ...]] = []
    ns = io.of(path)
    ns.on_room_event("create-room", lambda room: log.append(("create-room", room)))
    ns.on_room_event("delete-room", lambda room: log.append(("delete-room", room)))
    ns.on_room_event("join-room", lambda room, sid: log.append(("join-room", room, sid)))
    ns.on_room_event("leave-room", lambda room, sid: log.append(("leave-room", room, sid)))
    return log


def make_io() -> SocketIo:
    io = SocketIo()
    io.on("join", join)
    io.on("leave", leave)
    return io


async def test_room_events_follow_node_adapter_order() -> None:
    io = make_io()
    log = recorder(io)
    async with running(io) as h:
        ca = await h.open("e" * 20)
        await h.feed(ca, "40")
        sid_a = io.sockets()[0].id
        cb = await h.open("f" * 20)
        await h.feed(cb, "40")
        sid_b = io.sockets()[1].id
        log.clear()
        await h.feed(ca, '42["join","r"]', '42["join","r"]')
        await h.feed(cb, '42["join","r"]')
        await h.feed(ca, '42["leave","r"]')
        await h.feed(cb, '42["leave","r"]', '42["leave","r"]')
        assert log == [
            ("create-room", "r"),
            ("join-room", "r", sid_a),  # once: the second join changed nothing
            ("join-room", "r", sid_b),
            ("leave-room", "r", sid_a),
            ("leave-room", "r", sid_b),
            ("delete-room", "r"),
        ]
        log.clear()
        await h.drop(ca)
        assert log == [("leave-room", sid_a, sid_a), ("delete-room", sid_a)]


async def test_adapter_joins_and_leaves_are_reported_too() -> None:
    io = make_io()
    log = recorder(io)
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40")
        sid = io.sockets()[0].id
        log.clear()
        await io.join("all")
        await io.leave("all")
        await h.settle()
        assert log == [
            ("create-room", "all"),
            ("join-room", "all", sid),
            ("leave-room", "all", sid),
            ("delete-room", "all"),
        ]


async def test_a_listener_added_while_running_sees_later_changes_and_one_that_raises_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    io = make_io()
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40")
        sid = io.sockets()[0].id
        joined: list[str] = []

        def broken(room: str, sid: str) -> None:
            raise RuntimeError("listener bug")

        io.of("/").on_room_event("join-room", broken)
        io.of("/").on_room_event("join-room", lambda room, sid: joined.append(room))
        with caplog.at_level(logging.ERROR, logger="sioactor.socketio"):
            await h.feed(conn, '42["join","r"]')
        assert joined == ["r"]
        assert "join-room listener" in caplog.text
        assert await io.get_socket(sid).rooms() == [sid, "r"]  # type: ignore[union-attr]


async def test_listeners_are_checked_at_registration() -> None:
    io = SocketIo()

    async def awaits(room: str) -> None:
        pass

    with pytest.raises(ConfigError, match=r"awaits\(\) is an async def; declare it def"):
        io.of("/").on_room_event("create-room", awaits)
    with pytest.raises(ConfigError, match="is not a room event"):
        io.of("/").on_room_event("room-created", print)  # type: ignore[call-overload]
    io.on("x", join, namespace="/t/{id}")
    with pytest.raises(ConfigError, match=r"io.parent\(pattern\)"):
        io.of("/t/1").on_room_event("create-room", print)


async def test_a_parent_listener_serves_every_child() -> None:
    io = make_io()
    tenants = io.of(re.compile(r"/tenant-\d+"))
    tenants.on("join", join)
    created: list[str] = []
    tenants.on_room_event("create-room", created.append)
    async with running(io) as h:
        for i, sid in enumerate(("a" * 20, "b" * 20)):
            conn = await h.open(sid)
            await h.feed(conn, f"40/tenant-{i},", f'42/tenant-{i},["join","lobby"]')
        assert created[1::2] == ["lobby", "lobby"]
        assert len(created) == 4  # each socket's own room, then lobby in each child
