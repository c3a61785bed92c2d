"""The trio stream (`_trio_stream.TrioStream`): a direct wait-then-read, anyio's errors, a keep-alive wait."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketListener, SocketStream

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


@asynccontextmanager
async def connected(first: bytes = b"") -> AsyncIterator[tuple[SocketStream, SocketStream]]:
    """(server, client): a loopback connection, the server side adopted; the client sends *first* before
    the server accepts."""
    from sioactor.runtime._server._trio_stream import adopt_trio

    multi = await anyio.create_tcp_listener(local_host="127.0.0.1")
    listener = multi.listeners[0]
    assert isinstance(listener, SocketListener)
    async with listener:
        client = await anyio.connect_tcp("127.0.0.1", listener.extra(SocketAttribute.local_port))
        if first:
            await client.send(first)
        server = adopt_trio(await listener.accept())
        async with server, client:
            yield server, client


async def test_reads_what_comes_then_end_of_stream_and_a_deadline_with_nothing() -> None:
    async with connected() as (server, client):
        with anyio.fail_after(5):
            waited = await server.receive_by(100, anyio.current_time() + 0.05)  # type: ignore[attr-defined]
            assert waited is None  # nothing came in time
            await client.send(b"hello")
            assert await server.receive(100) == b"hello"
            await client.send(b"abcdef")
            assert await server.receive(3) == b"abc"  # the rest stays in the kernel for the next read
            assert await server.receive(100) == b"def"
            peer = server.extra(SocketAttribute.remote_address)
            assert peer == client.extra(SocketAttribute.local_address)
            await client.send_eof()
            with pytest.raises(anyio.EndOfStream):
                await server.receive()


async def test_the_first_read_takes_what_already_came_without_waiting() -> None:
    import trio

    # A client speaks first, right after connecting.
    async with connected(b"GET / HTTP/1.1\r\n\r\n") as (server, client):
        with anyio.fail_after(5):  # wait (outside the read) until the bytes are there to be read
            await trio.lowlevel.wait_readable(server.extra(SocketAttribute.raw_socket))
        # Under a cancelled scope any wait would raise: the first read returns without one.
        with trio.CancelScope() as scope:
            scope.cancel()
            assert await server.receive(100) == b"GET / HTTP/1.1\r\n\r\n"
        await client.send(b"more")
        with trio.CancelScope() as scope:
            scope.cancel()
            await server.receive(100)  # later reads wait for readability first: cancelled here
        assert scope.cancelled_caught
        with anyio.fail_after(5):
            assert await server.receive(100) == b"more"
