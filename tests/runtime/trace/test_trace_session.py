"""A scripted Socket.IO session traces exactly the expected events, in order, on both backends.

The session runs over fake Engine.IO connections (our own ``EngineConnection`` interface), so the only
tasks are the server's actors and every step settles before the next: the order is deterministic.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from socketio_fakes import FakeConn
from trace_fakes import ListTracer

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.socketio import Socket, SocketIo, SocketIoConfig
from sioactor.runtime.socketio._extract import Data
from sioactor.runtime.trace import TraceHub

pytestmark = pytest.mark.anyio

K = TraceKind


def chat_server(tracer: Any, release: anyio.Event) -> SocketIo:
    io = SocketIo(SocketIoConfig(inbox_size=1), tracer=tracer)

    async def on_connect(socket: Socket) -> None:
        socket.join("lobby")
        socket.on("chat", chat)
        socket.on("hold", hold)
        socket.on("boom", boom)

    async def chat(socket: Socket, text: Data[str]) -> None:
        await socket.to("lobby").emit("chat", text)

    async def hold() -> None:
        await release.wait()

    async def boom() -> None:
        raise ValueError("boom")

    io.ns("/", on_connect)
    return io


async def settle() -> None:
    with anyio.fail_after(5):
        await anyio.wait_all_tasks_blocked()


async def feed(io: SocketIo, conn: FakeConn, *packets: str) -> None:
    for packet in packets:
        io._listener.on_message(conn, packet)
    await settle()


async def scripted_session(tracer: Any) -> tuple[str, str]:
    """connect A and B, A chats to the lobby, A's inbox overflows behind a held handler, a handler fails,
    A disconnects. Returns the two socket actors' names."""
    release = anyio.Event()
    io = chat_server(tracer, release)
    a, b = FakeConn("A" * 20, capacity=1001), FakeConn("B" * 20, capacity=1001)
    async with anyio.create_task_group() as tg:
        await tg.start(io.run)
        for conn in (a, b):
            io._listener.on_open(conn)
            await feed(io, conn, "0")
        names = [f"socket:/:{s.id}" for s in sorted(io.sockets(), key=lambda s: s.conn.sid)]
        await feed(io, a, '2["chat","hi"]')
        await feed(io, a, '2["hold"]', '2["boom"]', '2["chat","lost"]')  # inbox 1: the third is refused
        release.set()
        await settle()
        await feed(io, a, "1")  # DISCONNECT from the client
        with anyio.fail_after(5):
            await io.close()
    return names[0], names[1]


def summary(events: list[TraceEvent], actor: str) -> list[tuple[Any, ...]]:
    out = []
    for e in events:
        if e.actor == actor:
            fields = dict(e.fields or {})
            out.append((e.kind, e.message, fields.get("event", fields.get("reason")), e.detail))
    return out


async def test_scripted_session_traces_exactly_the_expected_events_in_order() -> None:
    tracer = ListTracer()
    a, b = await scripted_session(tracer)
    events = tracer.events
    assert summary(events, a) == [
        (K.SPAWNED, None, None, None),
        (K.ENQUEUED, "Connect", None, None),
        (K.ROOM_JOIN, None, None, "lobby"),
        (K.HANDLED, "Connect", None, None),
        (K.ENQUEUED, "EventReceived", "chat", None),
        (K.HANDLED, "EventReceived", "chat", None),
        (K.ENQUEUED, "EventReceived", "hold", None),
        (K.ENQUEUED, "EventReceived", "boom", None),  # an idle actor admits capacity + 1
        (K.MAILBOX_FULL, "EventReceived", "chat", None),
        (K.HANDLED, "EventReceived", "hold", None),
        (K.HANDLER_FAILED, "EventReceived", "boom", "ValueError('boom')"),
        (K.HANDLED, "Disconnect", "client_ns_disconnect", None),
        (K.STOPPED, None, None, "client_ns_disconnect"),
    ]
    assert summary(events, b)[-1] == (K.STOPPED, None, None, "closing_server")
    assert summary(events, "namespace:/") == [
        (K.SPAWNED, None, None, None),
        *[(K.ENQUEUED, "Admit", None, None), (K.HANDLED, "Admit", None, None)] * 2,
        (K.BROADCAST, None, "chat", "to lobby: 1 sent, 0 failed"),
        *[(K.ENQUEUED, "Remove", None, None), (K.HANDLED, "Remove", None, None)] * 2,
        (K.STOPPED, None, None, "shutdown"),
    ]
    # Across actors: the broadcast happens inside A's chat handler, the removal before A's stop.
    kinds = [(e.kind, e.actor) for e in events]
    chat_in = kinds.index((K.ENQUEUED, a), kinds.index((K.HANDLED, a)))
    assert chat_in < kinds.index((K.BROADCAST, "namespace:/")) < kinds.index((K.HANDLED, a), chat_in)
    first_removal = next(i for i, e in enumerate(events) if e.kind is K.HANDLED and e.message == "Remove")
    assert first_removal < kinds.index((K.STOPPED, a))
    spawned = next(e for e in events if e.actor == a)
    assert spawned.fields == {"engine": "A" * 20, "transport": "websocket", "protocol": 5, "namespace": "/"}
    assert {e.capacity for e in events if e.actor == a and e.capacity is not None} == {1}


@pytest.mark.parametrize("payloads", [False, True])
async def test_the_hub_keeps_payloads_only_when_asked(payloads: bool) -> None:
    hub = TraceHub(trace_payloads=payloads)
    with hub.subscribe() as subscription:
        a, _ = await scripted_session(hub)
        subscription.end()
        records = [record async for record in subscription]
    chat = next(
        r.event for r in records if r.event.actor == a and r.event.kind is K.ENQUEUED and r.event.fields
    )
    assert chat.fields is not None
    assert chat.fields["event"] == "chat"
    assert ("args" in chat.fields) is payloads
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert hub.snapshot() == []  # every actor stopped: nothing kept for a late console
