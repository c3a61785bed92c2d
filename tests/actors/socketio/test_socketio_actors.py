"""The socket mailbox (on-demand drain), the room registry and the ack table."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest

from sioactor.actors import Closed, InternalChannelFull
from sioactor.actors.socketio import AckTable, RoomRegistry, SocketMailbox


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


@pytest.mark.anyio
async def test_mailbox_handles_in_order_without_an_idle_task() -> None:
    seen: list[int] = []
    failures: list[Exception] = []

    async def handle(message: int) -> None:
        await anyio.lowlevel.checkpoint()
        if message == 2:
            raise ValueError("boom")
        seen.append(message)

    async with anyio.create_task_group() as tg:
        box: SocketMailbox[int] = SocketMailbox(
            "s", 3, handle, tg.start_soon, lambda _m, e: failures.append(e)
        )
        for message in (1, 2, 3):
            box.tell(message)
        with pytest.raises(InternalChannelFull) as full:
            box.tell(4)
        assert full.value.message == 4
        with anyio.fail_after(2):
            await anyio.wait_all_tasks_blocked()
        assert seen == [1, 3]
        assert [str(e) for e in failures] == ["boom"]
        assert not box.busy
        box.stop()
        with pytest.raises(Closed):
            box.tell(5)


@pytest.mark.anyio
async def test_stop_cancels_a_hung_handler_then_handles_the_final_message() -> None:
    seen: list[str] = []

    async def handle(message: str) -> None:
        if message == "hang":
            await anyio.sleep_forever()
        seen.append(message)

    async with anyio.create_task_group() as tg:
        box: SocketMailbox[str] = SocketMailbox("s", 8, handle, tg.start_soon, lambda _m, _e: None)
        box.tell("hang")
        box.tell("queued")
        with anyio.fail_after(2):
            await anyio.wait_all_tasks_blocked()
        assert box.stop("bye") == ["queued"]
        with anyio.fail_after(2):
            await anyio.wait_all_tasks_blocked()
        assert seen == ["bye"]
        assert not box.busy
