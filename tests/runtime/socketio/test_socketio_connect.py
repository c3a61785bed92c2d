"""Connecting to namespaces with a fake Engine.IO connection: replies, auth, middleware, errors, timeouts."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import pytest
from socketio_fakes import FakeConn, running

from sioactor import EngineConfig, SocketIoConfig
from sioactor.protocol._reasons import DisconnectReason, EngineCloseReason
from sioactor.runtime.socketio import ConnectRefused, Socket, SocketIo
from sioactor.runtime.socketio._extract import Auth, NsParams

pytestmark = pytest.mark.anyio


def make_io(config: SocketIoConfig | None = None) -> SocketIo:
    io = SocketIo(config)

    async def on_connect(socket: Socket, auth: Auth[dict[str, Any] | None]) -> None:
        socket.emit("auth", auth or {})

    io.ns("/", on_connect)
    io.ns("/custom", on_connect)
    return io


async def test_connect_replies_with_sid_then_the_handler_runs() -> None:
    io = make_io()
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40")
        reply, auth = conn.take()
        assert isinstance(reply, str)
        assert reply.startswith("40{")
        sid = json.loads(reply[2:])["sid"]
        assert list(json.loads(reply[2:])) == ["sid"]
        assert len(sid) == 20
        assert auth == '42["auth",{}]'
        assert [s.id for s in io.sockets()] == [sid]
        assert io.get_socket(sid) is not None


async def test_auth_and_custom_namespace() -> None:
    io = make_io()
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, '40/custom,{"token":"abc"}')
        reply, auth = conn.take()
        assert isinstance(reply, str)
        assert reply.startswith('40/custom,{"sid":"')
        assert auth == '42/custom,["auth",{"token":"abc"}]'


async def test_unknown_namespace_is_refused() -> None:
    io = make_io()
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40/random")
        assert conn.take() == ['44/random,{"message":"Invalid namespace"}']
        assert conn.connected


async def test_middleware_refuses_with_message_and_data() -> None:
    io = SocketIo()
    seen: list[object] = []

    async def check(auth: Auth[dict[str, str] | None]) -> None:
        seen.append(auth)
        if not auth or auth.get("token") != "ok":
            raise ConnectRefused("not authorized", {"code": 401})

    async def on_connect(socket: Socket) -> None:
        socket.emit("welcome")

    io.ns("/", on_connect, middleware=[check])
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, '40{"token":"bad"}')
        assert conn.take() == ['44{"message":"not authorized","data":{"code":401}}']
        assert io.sockets() == []
        await h.feed(conn, '40{"token":"ok"}')
        sent = conn.take()
        assert isinstance(sent[0], str)
        assert sent[0].startswith('40{"sid"')
        assert sent[1] == '42["welcome"]'
        assert seen == [{"token": "bad"}, {"token": "ok"}]


async def test_dynamic_namespace_params_reach_handlers() -> None:
    io = SocketIo()

    @io.ns("/tenant/{id}")
    async def on_connect(socket: Socket, params: NsParams) -> None:
        socket.emit("tenant", params["id"])

    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40/tenant/42,")
        assert conn.take()[1] == '42/tenant/42,["tenant","42"]'
        assert len(io.of("/tenant/42").sockets()) == 1
        assert io.of("/tenant/43").sockets() == []  # a namespace of the pattern nobody joined yet


async def test_connect_timeout_closes_a_session_that_joins_nothing() -> None:
    io = make_io(SocketIoConfig(connect_timeout=0.05))
    async with running(io) as h:
        idle = await h.open("i" * 20)
        joined = await h.open("j" * 20)
        await h.feed(joined, "40")
        early = FakeConn("k" * 20)  # joins before its timer task first ran
        io._listener.on_open(early)
        io._listener.on_message(early, "0")
        await anyio.sleep(0.2)
        assert idle.close_reason is EngineCloseReason.FORCED_CLOSE
        assert joined.connected
        assert early.connected


async def test_eio3_client_is_connected_to_root_implicitly() -> None:
    io = make_io(SocketIoConfig(engine=EngineConfig(allow_eio3=True)))
    async with running(io) as h:
        conn = await h.open(protocol=3)
        assert conn.take() == ["40", '42["auth",{}]']
        await h.feed(conn, "40/nope")
        assert conn.take() == ['44/nope,"Invalid namespace"']


async def test_malformed_packet_closes_the_connection(caplog: pytest.LogCaptureFixture) -> None:
    io = make_io()
    async with running(io) as h:
        for bad in ("4abc", "42{}", "42abc[]"):
            conn = await h.open()
            with caplog.at_level(logging.WARNING, "sioactor.socketio"):
                await h.feed(conn, "40", bad)
            assert conn.close_reason is EngineCloseReason.PARSE_ERROR, bad
            await h.drop(conn, EngineCloseReason.PARSE_ERROR)
        assert "protocol error" in caplog.text
        assert io.sockets() == []


async def test_close_disconnects_every_socket_with_closing_server() -> None:
    io = SocketIo()
    reasons: list[DisconnectReason] = []

    async def on_disconnect(reason: DisconnectReason) -> None:
        reasons.append(reason)

    async def on_connect(socket: Socket) -> None:
        socket.on_disconnect(on_disconnect)

    io.ns("/", on_connect)
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40")
        conn.take()
    assert reasons == [DisconnectReason.CLOSING_SERVER]
    assert conn.take() == ["41"]


async def test_eio3_namespace_query_is_the_auth_payload() -> None:
    io = make_io(SocketIoConfig(engine=EngineConfig(allow_eio3=True)))
    async with running(io) as h:
        conn = await h.open(protocol=3)
        conn.take()
        await h.feed(conn, "40/custom?token=abc&x=1,")
        assert conn.take() == ["40/custom,", '42/custom,["auth",{"token":"abc","x":"1"}]']
