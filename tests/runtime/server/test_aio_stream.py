"""The asyncio read-ahead stream (`_aio_stream`): reading goes on between receives, up to a limit.

Connections are accepted as the server accepts them: by the loop's server onto the read-ahead protocol on
asyncio (`accept_on_loop`), by anyio then wrapped in a `TrioStream` on trio.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketListener, SocketStream

from sioactor._lowlevel import current_backend
from sioactor.runtime._server._aio_stream import (
    accept_on_loop,
    receive_by,
    stop_waiting,
    take_over_reading,
    wait_for_end,
)

pytestmark = pytest.mark.anyio


async def listen() -> SocketListener:
    multi = await anyio.create_tcp_listener(local_host="127.0.0.1")
    one = multi.listeners[0]
    assert isinstance(one, SocketListener)
    return one


@dataclass
class Accepted:
    """The streams accepted so far, and an event set by the first."""

    arrived: anyio.Event = field(default_factory=anyio.Event)
    streams: list[SocketStream] = field(default_factory=list)

    def add(self, stream: SocketStream) -> None:
        self.streams.append(stream)
        self.arrived.set()


@asynccontextmanager
async def accepted(listener: SocketListener, limit: int = 65_536) -> AsyncIterator[Accepted]:
    """Accept on *listener* as the server does, until the block ends."""
    found = Accepted()

    async def accept_with_anyio() -> None:
        from sioactor.runtime._server._trio_stream import adopt_trio  # trio only

        found.add(adopt_trio(await listener.accept()))

    async with anyio.create_task_group() as tg:
        if current_backend().name == "asyncio":
            tg.start_soon(accept_on_loop, listener.extra(SocketAttribute.raw_socket), limit, 16, found.add)
        else:
            tg.start_soon(accept_with_anyio)
        yield found
        tg.cancel_scope.cancel()


@asynccontextmanager
async def pair(limit: int = 65_536) -> AsyncIterator[tuple[SocketStream, SocketStream]]:
    """(server side as the server accepts it, client side) of one loopback TCP connection."""
    async with await listen() as listener, accepted(listener, limit) as found:
        client = await anyio.connect_tcp("127.0.0.1", listener.extra(SocketAttribute.local_port))
        with anyio.fail_after(5):
            await found.arrived.wait()
        async with found.streams[0] as server, client:
            yield server, client


async def read_exactly(stream: SocketStream, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += await stream.receive()
    return data


def transport_of(stream: SocketStream) -> asyncio.Transport | None:
    # Duck-typed: uvloop's transports are not asyncio.Transport subclasses.
    transport = getattr(stream, "_transport", None)
    return transport if hasattr(transport, "is_reading") else None


async def test_the_read_ahead_stream_serves_asyncio_only(backend_name: str) -> None:
    async with pair() as (server, _):
        read_ahead = type(server).__name__ == "_ReadAheadStream"
        assert read_ahead is (backend_name == "asyncio")


async def test_bytes_sent_before_the_first_receive_and_after_arrive_in_order(backend_name: str) -> None:
    async with await listen() as listener, accepted(listener) as found:
        client = await anyio.connect_tcp("127.0.0.1", listener.extra(SocketAttribute.local_port))
        await client.send(b"early ")
        with anyio.fail_after(5):
            await found.arrived.wait()
        await anyio.sleep(0.05)  # the early bytes are read ahead before anyone receives
        async with found.streams[0] as server, client:
            await client.send(b"late")
            with anyio.fail_after(5):
                assert await read_exactly(server, 10) == b"early late"


async def test_reading_continues_while_nobody_receives(backend_name: str) -> None:
    async with pair() as (server, client):
        await client.send(b"one")
        with anyio.fail_after(5):
            assert await server.receive() == b"one"
            transport = transport_of(server)
            if transport is not None:
                assert transport.is_reading()  # no pause between receives: no epoll_ctl churn
            await client.send(b"two")
            await client.send(b"three")
            assert await read_exactly(server, 8) == b"twothree"


async def test_reading_pauses_past_the_limit_and_resumes_when_drained(backend_name: str) -> None:
    if backend_name != "asyncio":
        pytest.skip("the read-ahead protocol exists on asyncio only")
    async with pair(limit=1024) as (server, client):
        transport = transport_of(server)
        assert transport is not None
        with anyio.fail_after(5):
            await client.send(b"x" * 4096)
            for _ in range(500):  # the kernel hands the bytes over in one or more reads
                if not transport.is_reading():
                    break
                await anyio.sleep(0.01)
            assert await server.receive(100) == b"x" * 100
            assert not transport.is_reading()  # still above the limit
            rest = await read_exactly(server, 3996)
            assert rest == b"x" * 3996
            assert transport.is_reading()


async def test_eof_ends_reads_and_the_write_side_stays_open(backend_name: str) -> None:
    async with pair() as (server, client):
        await client.send(b"bye")
        await client.send_eof()
        with anyio.fail_after(5):
            assert await read_exactly(server, 3) == b"bye"
            with pytest.raises(anyio.EndOfStream):
                await server.receive()
            await server.send(b"still here")
            assert await read_exactly(client, 10) == b"still here"


async def test_a_cancelled_receive_leaves_the_stream_usable(backend_name: str) -> None:
    async with pair() as (server, client):
        with anyio.move_on_after(0.05) as scope:
            await server.receive()
        assert scope.cancelled_caught
        await client.send(b"after")
        with anyio.fail_after(5):
            assert await read_exactly(server, 5) == b"after"


async def test_a_closed_peer_breaks_or_ends_the_stream(backend_name: str) -> None:
    async with pair() as (server, client):
        await client.aclose()
        with anyio.fail_after(5), pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
            await read_exactly(server, 1)


async def test_receive_by_gives_none_past_the_deadline_then_reads_on(backend_name: str) -> None:
    async with pair() as (server, client):
        with anyio.fail_after(5):
            assert await receive_by(server, 100, anyio.current_time() + 0.05) is None
            await client.send(b"late")
            assert await receive_by(server, 100, anyio.current_time() + 5) == b"late"
            await client.send(b"queued")
            await anyio.sleep(0.05)
            if backend_name == "asyncio":
                # The read-ahead buffer answers even past the deadline (trio's socket is not asked).
                assert await receive_by(server, 3, anyio.current_time() - 1) == b"que"
            else:
                assert await receive_by(server, 3, anyio.current_time() + 5) == b"que"


async def test_connections_sharing_the_read_buffer_keep_their_own_bytes() -> None:
    # Every connection reads into one buffer per thread: bytes larger than it, arriving on two connections
    # at once, must come out whole and unmixed on each.
    first_bytes = bytes(range(256)) * 800  # 200 KiB, over three times the shared buffer
    second_bytes = b"\xff" * 150_000
    got: dict[str, bytes] = {}

    async def read(name: str, stream: SocketStream, size: int) -> None:
        got[name] = await read_exactly(stream, size)

    async with (
        pair(limit=1 << 20) as (first, first_client),
        pair(limit=1 << 20) as (second, second_client),
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(first_client.send, first_bytes)
        tg.start_soon(second_client.send, second_bytes)
        tg.start_soon(read, "first", first, len(first_bytes))
        tg.start_soon(read, "second", second, len(second_bytes))
    assert got == {"first": first_bytes, "second": second_bytes}


async def test_a_reader_taking_over_gets_each_chunk_in_the_callback_then_the_end(backend_name: str) -> None:
    async with pair() as (server, client):
        await client.send(b"before")
        await anyio.sleep(0.05)  # buffered: no receive was waiting
        seen: list[bytes] = []
        arrived = anyio.Event()

        def on_data(data: bytes) -> None:
            seen.append(data)
            arrived.set()

        buffered = take_over_reading(server, on_data)
        if backend_name != "asyncio":
            assert buffered is None  # only the read-ahead stream can; the caller keeps receiving
            return
        assert buffered == b"before"
        with anyio.fail_after(5):
            await client.send(b"after")
            await arrived.wait()
            assert b"".join(seen) == b"after"
            async with anyio.create_task_group() as tg:

                async def stop_soon() -> None:
                    await anyio.sleep(0.02)
                    stop_waiting(server)

                tg.start_soon(stop_soon)
                assert await wait_for_end(server) is False  # woken without an end
            await client.send_eof()
            assert await wait_for_end(server) is True


async def test_closing_the_acceptor_closes_connections_not_yet_given_a_transport() -> None:
    # A connection accepted in the same loop turn as the acceptor closes has a task that never ran: the
    # acceptor closes it (the client sees the end at once) instead of leaving it to the garbage collector.
    if current_backend().name != "asyncio":
        pytest.skip("the selector acceptor is asyncio's")
    import socket

    from sioactor.runtime._server._aio_accept import SelectorAcceptor

    loop = asyncio.get_running_loop()
    if not isinstance(loop, asyncio.selector_events.BaseSelectorEventLoop):
        pytest.skip("the selector acceptor serves the selector loop only")
    made: list[asyncio.BaseProtocol] = []

    def protocol() -> asyncio.BaseProtocol:
        made.append(asyncio.Protocol())
        return made[-1]

    with socket.create_server(("127.0.0.1", 0)) as listening, socket.socket() as client:
        listening.setblocking(False)
        client.connect(listening.getsockname())
        acceptor = SelectorAcceptor(loop, listening, protocol)
        acceptor._accept()  # accepts the client: its transport is made in a task that has not run yet
        acceptor.close()
        client.settimeout(5)
        await anyio.to_thread.run_sync(client.recv, 1)  # b"" once the server side is closed; else times out
    assert made == []  # no transport was made for it
