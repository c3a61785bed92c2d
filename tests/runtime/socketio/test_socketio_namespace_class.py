"""Class-based namespaces (``NamespaceHandlers`` + ``io.register_namespace``) with a fake Engine.IO
connection; the interop test runs one with socket.io-client."""

from __future__ import annotations

import re

import anyio.lowlevel
import pytest
from socketio_fakes import running

from sioactor import (
    AckSender,
    Auth,
    ConnectRefused,
    Data,
    DisconnectReason,
    HandlerSignatureError,
    NamespaceHandlers,
    NsParams,
    Socket,
    SocketIo,
)

pytestmark = pytest.mark.anyio


class Chat(NamespaceHandlers):
    def __init__(self, namespace: str | re.Pattern[str] = "/chat") -> None:
        super().__init__(namespace)
        self.seen: list[str] = []

    def on_connect(self, socket: Socket, params: NsParams) -> None:
        socket.emit("welcome", dict(params))

    def on_hello(self, text: Data[str], ack: AckSender) -> None:
        self.seen.append(f"hello {text}")
        ack.send(text.upper())

    async def on_slow(self, socket: Socket, text: Data[str]) -> None:
        await anyio.lowlevel.checkpoint()
        await self.io.of(socket.ns).emit("slow", text)

    def on_disconnect(self, reason: DisconnectReason) -> None:
        self.seen.append(reason.value)

    def helper(self) -> str:  # not on_<event>: not a handler
        return "helper"


async def test_methods_serve_the_namespace() -> None:
    io = SocketIo()
    chat = Chat()
    io.register_namespace(chat)
    assert chat.io is io
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40/chat,")
        assert conn.take()[1] == '42/chat,["welcome",{}]'
        await h.feed(conn, '42/chat,1["hello","you"]', '42/chat,["slow","later"]', '42/chat,["helper"]')
        assert conn.take() == ['43/chat,1["YOU"]', '42/chat,["slow","later"]']
        await h.feed(conn, "41/chat,")
        assert chat.seen == ["hello you", "client_ns_disconnect"]


async def test_a_class_on_a_regex_namespace_gets_its_parameters() -> None:
    io = SocketIo()
    io.register_namespace(Chat(re.compile(r"/room-(?P<name>\w+)")))
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40/room-blue,")
        assert conn.take()[1] == '42/room-blue,["welcome",{"name":"blue"}]'


async def test_middleware_and_earlier_io_on_handlers_are_kept() -> None:
    io = SocketIo()

    def extra(ack: AckSender) -> None:
        ack.send("extra")

    def only_ok(auth: Auth[dict[str, str]]) -> None:
        if auth.get("token") != "ok":
            raise ConnectRefused("go away")

    io.on("extra", extra, namespace="/chat")
    io.register_namespace(Chat(), middleware=[only_ok])
    async with running(io) as h:
        bad = await h.open("a" * 20)
        await h.feed(bad, '40/chat,{"token":"no"}')
        assert bad.take() == ['44/chat,{"message":"go away"}']
        good = await h.open("b" * 20)
        await h.feed(good, '40/chat,{"token":"ok"}')
        good.take()
        await h.feed(good, '42/chat,2["extra"]')
        assert good.take() == ['43/chat,2["extra"]']


async def test_a_socket_own_disconnect_handler_overrides_the_class() -> None:
    io = SocketIo()
    own: list[str] = []

    class Chat2(Chat):
        def on_connect(self, socket: Socket, params: NsParams) -> None:
            socket.on_disconnect(lambda: own.append("own"))

    chat = Chat2()
    io.register_namespace(chat)
    async with running(io) as h:
        conn = await h.open()
        await h.feed(conn, "40/chat,")
        await h.feed(conn, "41/chat,")
    assert own == ["own"]
    assert chat.seen == []


def test_signatures_are_checked_at_registration_and_io_needs_it() -> None:
    class Bad(NamespaceHandlers):
        def on_oops(self, mystery: complex) -> None:
            pass

    with pytest.raises(HandlerSignatureError, match="mystery"):
        SocketIo().register_namespace(Bad("/bad"))
    with pytest.raises(RuntimeError, match="is not registered"):
        _ = Chat().io
