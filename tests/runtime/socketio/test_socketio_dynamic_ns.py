"""Namespaces decided by a regex or a predicate, and their parent (``io.parent`` / ``io.of(regex)``), with a
fake Engine.IO connection; ``tests/interop/test_namespaces_node.py`` runs the same with socket.io-client."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import anyio.lowlevel
import pytest
from socketio_fakes import FakeConn, Harness, running

from sioactor import (
    BroadcastError,
    ConfigError,
    NsParams,
    ParentNamespace,
    ReservedEventError,
    Socket,
    SocketIo,
    SocketIoConfig,
)
from sioactor.runtime.socketio._client import MAX_PENDING_DECISIONS

pytestmark = pytest.mark.anyio

TENANT = re.compile(r"/tenant-(?P<id>\d+)")


def whoami(socket: Socket, params: NsParams) -> None:
    socket.emit("you", (socket.ns, dict(params)))


async def connect(h: Harness, nsp: str, sid: str, auth: Any = None) -> FakeConn:
    conn = await h.open(sid)
    await h.feed(conn, "40" + ("" if nsp == "/" else f"{nsp},") + ("" if auth is None else json.dumps(auth)))
    return conn


def accepted(conn: FakeConn, nsp: str) -> bool:
    prefix = "40{" if nsp == "/" else f"40{nsp},{{"
    return any(str(m).startswith(prefix) for m in conn.take())


async def test_a_regex_namespace_matches_whole_names_and_gives_its_groups() -> None:
    io = SocketIo()
    io.on("whoami", whoami, namespace=TENANT)
    async with running(io) as h:
        conn = await connect(h, "/tenant-7", "a" * 20)
        assert accepted(conn, "/tenant-7")
        await h.feed(conn, '42/tenant-7,["whoami"]')
        assert conn.take() == ['42/tenant-7,["you","/tenant-7",{"id":"7"}]']
        for name in ("/tenant-x", "/tenant-7/more", "/x/tenant-7"):
            refused = await connect(h, name, "b" * 20)
            assert refused.take() == [f'44{name},{{"message":"Invalid namespace"}}']


@pytest.mark.parametrize("kind", ["def", "async def"])
async def test_a_predicate_decides_once_per_name_with_the_clients_auth(kind: str) -> None:
    asked: list[tuple[str, Any]] = []

    def exists(name: str, auth: Any) -> bool:
        asked.append((name, auth))
        return name.startswith("/org-") and auth == {"token": "ok"}

    async def exists_later(name: str, auth: Any) -> bool:
        await anyio.lowlevel.checkpoint()
        return exists(name, auth)

    io = SocketIo()
    io.on("whoami", whoami, namespace=exists if kind == "def" else exists_later)
    async with running(io) as h:
        refused = await connect(h, "/org-a", "a" * 20, {"token": "no"})
        assert refused.take() == ['44/org-a,{"message":"Invalid namespace"}']
        first = await connect(h, "/org-a", "b" * 20, {"token": "ok"})
        assert accepted(first, "/org-a")
        # The name exists now: a later client joins it without asking, whatever its auth (Node's rule).
        later = await connect(h, "/org-a", "c" * 20, {"token": "no"})
        assert accepted(later, "/org-a")
        await h.feed(later, '42/org-a,["whoami"]')
        assert later.take() == ['42/org-a,["you","/org-a",{}]']
    assert asked == [("/org-a", {"token": "no"}), ("/org-a", {"token": "ok"})]


async def test_paths_and_patterns_come_before_predicates_which_go_in_order() -> None:
    order: list[str] = []

    def first(name: str, auth: Any) -> bool:
        order.append("first")
        return False

    async def second(name: str, auth: Any) -> bool:
        order.append("second")
        return True

    io = SocketIo()
    io.ns(first, lambda: None)
    io.ns(second, lambda: None)
    io.on("whoami", whoami, namespace="/t/{id}")
    async with running(io) as h:
        conn = await connect(h, "/t/1", "a" * 20)
        await h.feed(conn, '42/t/1,["whoami"]')
        assert conn.take()[-1] == '42/t/1,["you","/t/1",{"id":"1"}]'
        assert order == []
        other = await connect(h, "/other", "b" * 20)
        assert accepted(other, "/other")
        assert order == ["first", "second"]
        assert io.of(second).children() == ["/other"]


async def test_a_failing_predicate_refuses_and_the_server_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    def broken(name: str, auth: Any) -> bool:
        raise LookupError("no such tenant table")

    io = SocketIo()
    io.ns(broken, lambda: None)
    io.ns("/", lambda: None)
    with caplog.at_level(logging.WARNING, logger="sioactor.socketio"):
        async with running(io) as h:
            conn = await connect(h, "/x", "a" * 20)
            assert conn.take() == ['44/x,{"message":"Invalid namespace"}']
            assert accepted(await connect(h, "/", "b" * 20), "/")
    assert "broken() failed for '/x'" in caplog.text


async def test_a_predicate_that_hangs_is_given_up_at_the_connect_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    given_up = anyio.Event()

    async def hangs(name: str, auth: Any) -> bool:
        try:
            await anyio.sleep_forever()
        finally:
            given_up.set()
        return False

    io = SocketIo(SocketIoConfig(connect_timeout=0.05))
    io.ns(hangs, lambda: None)
    with caplog.at_level(logging.WARNING, logger="sioactor.socketio"):
        async with running(io) as h:
            await connect(h, "/x", "a" * 20)
            with anyio.fail_after(5):
                await given_up.wait()
            await h.settle()
            assert io.running
    assert "hangs() failed for '/x'" in caplog.text


async def test_a_second_connect_while_the_predicate_decides_is_ignored() -> None:
    gate = anyio.Event()

    async def exists(name: str, auth: Any) -> bool:
        await gate.wait()
        return True

    io = SocketIo()
    io.ns(exists, lambda: None)
    async with running(io) as h:
        conn = await h.open("a" * 20)
        await h.feed(conn, "40/org,", "40/org,")
        gate.set()
        await h.settle()
        [reply] = conn.take()
        assert str(reply).startswith('40/org,{"sid":')
        assert len(io.of(exists).sockets()) == 1


async def test_the_parent_emits_to_every_child_and_their_rooms() -> None:
    io = SocketIo()

    def join(socket: Socket) -> None:
        socket.join("vip")

    io.on("join", join, namespace=TENANT)
    io.ns("/", lambda: None)
    async with running(io) as h:
        root = await connect(h, "/", "r" * 20)
        one = await connect(h, "/tenant-1", "a" * 20)
        two = await connect(h, "/tenant-2", "b" * 20)
        await h.feed(two, '42/tenant-2,["join"]')
        for conn in (root, one, two):
            conn.take()
        parent = io.of(TENANT)
        assert isinstance(parent, ParentNamespace)
        assert parent.children() == ["/tenant-1", "/tenant-2"]
        await parent.emit("news", "all")
        await parent.to("vip").emit("news", "vip")
        await parent.except_("vip").emit("news", "plain")
        assert root.take() == []
        assert one.take() == ['42/tenant-1,["news","all"]', '42/tenant-1,["news","plain"]']
        assert two.take() == ['42/tenant-2,["news","all"]', '42/tenant-2,["news","vip"]']
        assert sorted(s.ns for s in parent.sockets()) == ["/tenant-1", "/tenant-2"]
        await parent.to("vip").disconnect()
        await h.settle()
        assert two.take() == ["41/tenant-2,"]
        assert [s.ns for s in parent.sockets()] == ["/tenant-1"]


async def test_a_template_has_a_parent_too_and_a_path_has_none() -> None:
    io = SocketIo()
    io.on("whoami", whoami, namespace="/t/{id}")
    with pytest.raises(ConfigError, match=r"io.parent\('/t/\{id\}'\)"):
        io.of("/t/{id}")
    with pytest.raises(ConfigError, match=r"not a dynamic pattern; use io.of\('/chat'\)"):
        io.parent("/chat")
    with pytest.raises(ConfigError, match="a namespace is a path"):
        io.ns(42, lambda: None)  # type: ignore[call-overload]
    async with running(io) as h:
        conn = await connect(h, "/t/9", "a" * 20)
        conn.take()
        await io.parent("/t/{id}").emit("hi")
        assert conn.take() == ['42/t/9,["hi"]']


async def test_a_parent_reports_full_receivers_of_every_child_together() -> None:
    io = SocketIo()
    parent = io.of(TENANT)
    with pytest.raises(ReservedEventError):
        await parent.emit("disconnect")
    async with running(io) as h:
        one = await h.open("a" * 20, capacity=1)
        await h.feed(one, "40/tenant-1,")
        two = await h.open("b" * 20, capacity=1)
        await h.feed(two, "40/tenant-2,")
        with pytest.raises(BroadcastError) as caught:
            await parent.emit("news", {"n": 1})
        assert len(caught.value.errors) == 2
        assert all(error.message == {"n": 1} for error in caught.value.errors.values())


async def test_handlers_registered_on_a_parent_serve_children_created_later() -> None:
    io = SocketIo()
    tenants = io.of(TENANT)

    @tenants.on("ping")
    def ping(socket: Socket) -> None:
        socket.emit("pong", socket.ns)

    async with running(io) as h:
        conn = await connect(h, "/tenant-3", "a" * 20)
        conn.take()
        await h.feed(conn, '42/tenant-3,["ping"]')
        assert conn.take() == ['42/tenant-3,["pong","/tenant-3"]']
        with pytest.raises(ConfigError, match=r"re.compile"):
            io.of("/tenant-3").on("x", ping)


async def test_a_client_may_have_only_so_many_names_decided_at_once() -> None:
    gate = anyio.Event()

    async def exists(name: str, auth: Any) -> bool:
        await gate.wait()
        return True

    io = SocketIo()
    io.ns(exists, lambda: None)
    async with running(io) as h:
        conn = await h.open()
        names = [f"/n{i}" for i in range(MAX_PENDING_DECISIONS + 1)]
        await h.feed(conn, *(f"40{name}," for name in names))
        assert conn.take() == [f'44{names[-1]},{{"message":"Invalid namespace"}}']
        gate.set()
        await h.settle()
        assert len(conn.take()) == MAX_PENDING_DECISIONS
        assert sorted(io.of(exists).children()) == sorted(names[:-1])
