"""The local trace endpoint: token check, the stream a console reads, and a stalled console."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.socketio import ConfigError
from sioactor.runtime.trace import (
    STATS_INTERVAL,
    StatsRecord,
    TraceEndpoint,
    TraceHub,
    TraceRecord,
    decode_line,
)

pytestmark = pytest.mark.anyio


def event(n: int) -> TraceEvent:
    return TraceEvent(kind=TraceKind.HANDLED, actor=f"a{n}", actor_kind="socket", message="EventReceived")


@asynccontextmanager
async def serving(endpoint: TraceEndpoint) -> AsyncIterator[str]:
    async with anyio.create_task_group() as tg:
        address = await tg.start(endpoint.serve)
        yield address
        tg.cancel_scope.cancel()


async def connect(endpoint: TraceEndpoint) -> SocketStream:
    if endpoint.unix_path is not None:
        return await anyio.connect_unix(endpoint.unix_path)
    return await anyio.connect_tcp("127.0.0.1", endpoint.port)


async def read_line(reader: BufferedByteReceiveStream) -> Any:
    return decode_line(await reader.receive_until(b"\n", 1 << 20))


async def test_wrong_token_is_refused_and_closed() -> None:
    endpoint = TraceEndpoint(TraceHub(), token="right")
    with anyio.fail_after(5):
        async with serving(endpoint), await connect(endpoint) as stream:
            await stream.send(b"wrong\n")
            reader = BufferedByteReceiveStream(stream)
            assert (await read_line(reader))["control"] == "refused"
            with pytest.raises(anyio.EndOfStream):
                await reader.receive()


async def test_silent_connection_is_refused_after_the_handshake_timeout() -> None:
    endpoint = TraceEndpoint(TraceHub(), handshake_timeout=0.05)
    with anyio.fail_after(5):
        async with serving(endpoint), await connect(endpoint) as stream:
            reader = BufferedByteReceiveStream(stream)
            assert (await read_line(reader))["control"] == "refused"


def state_event(n: int) -> TraceEvent:
    return TraceEvent(kind=TraceKind.ROOM_JOIN, actor=f"a{n}", actor_kind="socket", detail="lobby")


async def read_item(reader: BufferedByteReceiveStream) -> TraceRecord | StatsRecord:
    while True:
        item = await read_line(reader)
        if isinstance(item, TraceRecord | StatsRecord) and not (
            isinstance(item, StatsRecord) and not item.actors
        ):
            return item


async def test_console_gets_hello_state_records_and_message_counts(tmp_path: Path) -> None:
    hub = TraceHub()
    endpoint = TraceEndpoint(hub, unix_path=str(tmp_path / "trace.sock"))
    with anyio.fail_after(5):
        async with serving(endpoint) as address:
            assert address == f"unix:{tmp_path / 'trace.sock'}"
            async with await connect(endpoint) as stream:
                await stream.send(endpoint.token.encode() + b"\n")
                reader = BufferedByteReceiveStream(stream)
                hello = await read_line(reader)
                assert (hello["control"], hello["stats"]) == ("hello", STATS_INTERVAL)
                marker = await read_line(reader)  # the stream says: message counts come as stats
                assert isinstance(marker, StatsRecord)
                assert marker.actors == ()
                assert endpoint.consoles == 1
                hub.record(state_event(1))
                hub.record(event(1))
                hub.record(event(1))
                joined = await read_item(reader)
                assert isinstance(joined, TraceRecord)
                assert joined.event.kind is TraceKind.ROOM_JOIN
                stats = await read_item(reader)  # the endpoint flushes the counters a few times a second
                assert isinstance(stats, StatsRecord)
                assert [(s.actor, s.handled) for s in stats.actors] == [("a1", 2)]
            # The console left: the endpoint notices the EOF and unsubscribes.
            await anyio.wait_all_tasks_blocked()
            assert (endpoint.consoles, hub.subscribers) == (0, 0)


async def test_console_asks_for_the_message_records_of_some_actors() -> None:
    hub = TraceHub()
    endpoint = TraceEndpoint(hub)
    with anyio.fail_after(5):
        async with serving(endpoint), await connect(endpoint) as stream:
            await stream.send(endpoint.token.encode() + b"\n")
            reader = BufferedByteReceiveStream(stream)
            assert (await read_line(reader))["control"] == "hello"
            # Split across sends, with garbage and an unknown request before it: only the request counts.
            await stream.send(b'not json\n{"control": "colour"}\n{"control": "messages", ')
            await stream.send(b'"actors": ["a1", "kind:engine_session"]}\n')
            await anyio.wait_all_tasks_blocked()
            hub.record(event(2))
            hub.record(event(1))
            engine = TraceEvent(
                kind=TraceKind.ENQUEUED, actor="E1", actor_kind="engine_session", message="str"
            )
            hub.record(engine)
            first, second = await read_item(reader), await read_item(reader)
            assert isinstance(first, TraceRecord)
            assert isinstance(second, TraceRecord)
            assert (first.event.actor, second.event.actor) == ("a1", "E1")
            stats = await read_item(reader)
            assert isinstance(stats, StatsRecord)
            assert sorted(s.actor for s in stats.actors) == ["E1", "a1", "a2"]
            await stream.send(b'{"control": "messages", "actors": []}\n')
            await anyio.wait_all_tasks_blocked()
            hub.record(event(1))
            assert isinstance(await read_item(reader), StatsRecord)  # no record: only its count


async def test_stalled_console_never_blocks_and_is_told_what_it_lost() -> None:
    hub = TraceHub()
    endpoint = TraceEndpoint(hub, buffer=16)
    with anyio.fail_after(10):
        async with serving(endpoint), await connect(endpoint) as stream:
            await stream.send(endpoint.token.encode() + b"\n")
            reader = BufferedByteReceiveStream(stream)
            assert (await read_line(reader))["control"] == "hello"
            await stream.send(b'{"control": "messages", "actors": ["*"]}\n')
            await anyio.wait_all_tasks_blocked()
            # The console reads nothing while the server traces far more than socket buffers hold.
            total = 200_000
            started = anyio.current_time()
            for n in range(total):
                hub.record(event(n % 100))
            assert anyio.current_time() - started < 5
            records = lost = 0
            while records + lost < total:
                line = await read_line(reader)
                if isinstance(line, TraceRecord):
                    records += 1
                elif isinstance(line, dict) and line["control"] == "lost":
                    lost += line["count"]
            assert lost > 0
            # The counters of those 100 actors go out in one flush, which the full buffer may drop too.
            assert records + lost in (total, total + 1)


def test_non_loopback_host_is_refused_unless_asked() -> None:
    with pytest.raises(ConfigError, match="loopback"):
        TraceEndpoint(TraceHub(), host="0.0.0.0")
    assert TraceEndpoint(TraceHub(), host="0.0.0.0", allow_remote=True).host == "0.0.0.0"


async def test_cancelling_the_endpoint_as_a_unix_console_leaves_reports_nothing(
    tmp_path: Path, anyio_backend: str
) -> None:
    # The server shuts down in the loop turn a console's EOF arrives: on asyncio, anyio's unix stream used to
    # complete an already-cancelled future there ("Exception in callback ... InvalidStateError").
    reported: list[dict[str, Any]] = []
    if anyio_backend == "asyncio":
        import asyncio

        asyncio.get_running_loop().set_exception_handler(lambda loop, context: reported.append(context))
    for turns in range(60):
        path = str(tmp_path / f"t{turns}.sock")
        hub = TraceHub()
        endpoint = TraceEndpoint(hub, unix_path=path)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                await tg.start(endpoint.serve)
                stream = await anyio.connect_unix(path)
                await stream.send(endpoint.token.encode() + b"\n")
                assert (await read_line(BufferedByteReceiveStream(stream)))["control"] == "hello"
                await stream.aclose()
                for _ in range(turns % 6):  # vary which loop turn the cancellation lands in
                    await anyio.lowlevel.checkpoint()
                tg.cancel_scope.cancel()
    assert reported == []
