"""The room registry (state and actor), the namespace actor and the ack table."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from sioactor.actors import Closed, InternalChannelFull
from sioactor.actors._ref import Reply
from sioactor.actors._supervisor import Supervisor
from sioactor.actors.socketio import (
    AckTable,
    AddSocket,
    Admit,
    FetchSockets,
    Join,
    Leave,
    NamespaceActor,
    Remove,
    RemoveSocket,
    RoomRegistry,
    RoomRegistryActor,
    RoomsOf,
    Select,
)


class Recorder:
    def __init__(self) -> None:
        self.resolved: list[tuple[str, list[Any]]] = []
        self.failed: list[tuple[str, Exception]] = []

    def resolve(self, sid: str, args: list[Any]) -> None:
        self.resolved.append((sid, args))

    def fail(self, sid: str, error: Exception) -> None:
        self.failed.append((sid, error))


def test_rooms_select_union_minus_exceptions() -> None:
    reg = RoomRegistry()
    for sid in ("a", "b", "c"):
        reg.add_socket(sid)
    reg.join("a", ["r1", "r2"])
    reg.join("b", ["r2"])
    reg.join("c", ["r3"])
    assert reg.select(["r1", "r2"]) == ["a", "b"]
    assert reg.select([]) == ["a", "b", "c"]
    assert reg.select([], except_rooms=["r2"]) == ["c"]
    assert reg.select(["r2"], except_sids=["a"]) == ["b"]
    reg.leave("b", ["r2"])
    assert reg.rooms_of("b") == []
    assert reg.remove_socket("a") == frozenset({"r1", "r2"})
    assert reg.rooms() == ["r3"]
    assert "a" not in reg


def test_ack_table_resolves_once_and_fails_the_rest() -> None:
    table = AckTable("s1")
    rec = Recorder()
    table.register(0, rec)
    table.register(1, rec)
    assert table.resolve(0, [1, 2])
    assert not table.resolve(0, [3])
    assert not table.resolve(99, [])
    error = RuntimeError("gone")
    table.fail_all(error)
    assert rec.resolved == [("s1", [1, 2])]
    assert rec.failed == [("s1", error)]
    assert len(table) == 0


async def settle() -> None:
    with anyio.fail_after(5):
        await anyio.wait_all_tasks_blocked()


@pytest.mark.anyio
async def test_room_actor_sees_joins_told_before_a_select() -> None:
    async with Supervisor() as sup:
        actor = RoomRegistryActor("rooms:/", mailbox_size=16)
        rooms = await sup.spawn(actor)
        rooms.tell(AddSocket(sid="a"))
        rooms.tell(Join(sid="a", rooms=("a", "r1", "r2")))
        rooms.tell(AddSocket(sid="b"))
        rooms.tell(Join(sid="b", rooms=("r2",)))
        assert actor.peek_select(frozenset({"r2"})) == []  # nothing handled yet: the snapshot lags
        with anyio.fail_after(5):
            picked = await rooms.ask(
                lambda r: Select(
                    rooms=frozenset({"r2"}), except_rooms=frozenset(), except_sids=frozenset({"b"}), reply=r
                )
            )
            assert picked == ["a"]
            rooms.tell(Leave(sid="a", rooms=("r1",)))
            assert await rooms.ask(lambda r: RoomsOf(sid="a", reply=r)) == ["a", "r2"]
            rooms.tell(Leave(sid="a", rooms=None))
            assert await rooms.ask(lambda r: RoomsOf(sid="a", reply=r)) == []
            rooms.tell(RemoveSocket(sid="b"))
            everyone = await rooms.ask(
                lambda r: Select(
                    rooms=frozenset(), except_rooms=frozenset(), except_sids=frozenset(), reply=r
                )
            )
            assert everyone == ["a"]
        assert actor.peek_select(frozenset()) == ["a"]


@pytest.mark.anyio
async def test_select_now_answers_only_when_every_earlier_change_is_applied() -> None:
    async with Supervisor() as sup:
        actor = RoomRegistryActor("rooms:/", mailbox_size=16)
        rooms = await sup.spawn(actor)
        assert actor.select_now(frozenset()) == []  # nothing told: the empty state is exact
        rooms.tell(AddSocket(sid="a"))
        rooms.tell(Join(sid="a", rooms=("r1",)))
        assert actor.select_now(frozenset({"r1"})) is None  # the join is queued: only an ask sees it
        await settle()
        assert actor.select_now(frozenset({"r1"})) == ["a"]  # drained (the task may linger): exact
        rooms.tell(Leave(sid="a", rooms=("r1",)))
        assert actor.select_now(frozenset({"r1"})) is None
        await settle()
        assert actor.select_now(frozenset({"r1"})) == []
        rooms.stop()
        assert actor.select_now(frozenset()) is None  # stopping: the ask reports Closed


@pytest.mark.anyio
async def test_room_actor_mailbox_is_bounded() -> None:
    async with Supervisor() as sup:
        rooms = await sup.spawn(RoomRegistryActor("rooms:/", mailbox_size=2))
        for sid in "abc":  # idle: capacity + 1 admitted
            rooms.tell(AddSocket(sid=sid))
        with pytest.raises(InternalChannelFull) as full:
            rooms.tell(AddSocket(sid="d"))
        assert full.value.message == AddSocket(sid="d")
        await settle()
        rooms.tell(AddSocket(sid="d"))  # drained: room again


@pytest.mark.anyio
async def test_namespace_actor_admits_and_removes_with_their_rooms() -> None:
    async with Supervisor() as sup:
        room_actor = RoomRegistryActor("rooms:/")
        rooms = await sup.spawn(room_actor)
        ns: NamespaceActor[object] = NamespaceActor("namespace:/", rooms)
        ref = await sup.spawn(ns)
        one, two = object(), object()
        with anyio.fail_after(5):
            await ref.ask(lambda r: Admit(sid="s1", socket=one, reply=r))
            await ref.ask(lambda r: Admit(sid="s2", socket=two, reply=r))
            assert dict(ns.sockets) == {"s1": one, "s2": two}
            assert await ref.ask(lambda r: FetchSockets(reply=r)) == [one, two]
            assert await rooms.ask(lambda r: RoomsOf(sid="s1", reply=r)) == ["s1"]
            await ref.ask(lambda r: Remove(sid="s2", socket=object(), reply=r))  # not that socket
            assert "s2" in ns.sockets
            await ref.ask(lambda r: Remove(sid="s2", socket=two, reply=r))
            assert list(ns.sockets) == ["s1"]
            assert await rooms.ask(lambda r: RoomsOf(sid="s2", reply=r)) == []
        with pytest.raises(TypeError):
            ns.sockets["x"] = one  # type: ignore[index]  # a read-only view


@pytest.mark.anyio
async def test_namespace_actor_waits_for_a_full_registry_and_refuses_on_a_closed_one() -> None:
    async with Supervisor() as sup:
        rooms = await sup.spawn(RoomRegistryActor("rooms:/", mailbox_size=0))
        ns: NamespaceActor[object] = NamespaceActor("namespace:/", rooms)
        ref = await sup.spawn(ns)
        with anyio.fail_after(5):
            for sid in ("s1", "s2", "s3"):  # each admission tells two messages into a 0-size mailbox
                ref.tell(Admit(sid=sid, socket=sid, reply=Reply("test", set())))
            assert await ref.ask(lambda r: FetchSockets(reply=r)) == ["s1", "s2", "s3"]
            await settle()  # a 0-size mailbox admits this test's ask only while the registry is idle
            assert await rooms.ask(lambda r: RoomsOf(sid="s3", reply=r)) == ["s3"]
            rooms.stop()
            with pytest.raises(Closed):
                await ref.ask(lambda r: Admit(sid="s4", socket="s4", reply=r))
        assert list(ns.sockets) == ["s1", "s2", "s3"]


@pytest.mark.anyio
async def test_namespace_actor_answers_at_once_only_when_the_registry_has_room() -> None:
    async with Supervisor() as sup:
        rooms = await sup.spawn(RoomRegistryActor("rooms:/", mailbox_size=3))
        ns: NamespaceActor[object] = NamespaceActor("namespace:/", rooms)
        await sup.spawn(ns)
        with anyio.fail_after(5):
            # Idle, with room for the two tells of an admission: answered in this task, no hop.
            answer = ns.ask_or_handle(lambda r: Admit(sid="s1", socket="one", reply=r))
            assert "s1" not in ns.sockets  # nothing ran yet: the ask is a coroutine
            await answer
            assert dict(ns.sockets) == {"s1": "one"}
            assert rooms.depth() == 2  # AddSocket and the own-room Join, told from this task
            # The registry has room for one more message only: an admission could wait, so it is queued.
            reply: Reply[None] = Reply("test", set())
            ns.tell_or_handle(Admit(sid="s2", socket="two", reply=reply))
            assert "s2" not in ns.sockets
            assert not reply.done
            await settle()
            assert reply.done
            assert dict(ns.sockets) == {"s1": "one", "s2": "two"}
            assert await ns.ask_or_handle(lambda r: FetchSockets(reply=r)) == ["one", "two"]
