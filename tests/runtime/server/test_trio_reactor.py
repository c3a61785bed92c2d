"""The trio reactor (one task reading every direct WebSocket from an epoll of its own), over real socket
pairs: bytes reach the reader in order, the peer's close ends the watch and wakes its task, ``wake`` returns
early, a failing reader costs its socket nothing else, and cancelling the reactor ends every watch."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

pytestmark = pytest.mark.anyio
trio = pytest.importorskip("trio")

from sioactor.runtime._server._trio_reactor import TrioReactor, make_reactor  # noqa: E402 (needs trio)


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


@asynccontextmanager
async def reactor_running() -> AsyncIterator[TrioReactor]:
    reactor = make_reactor(65_536)
    if reactor is None:
        pytest.skip("no epoll on this platform")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(reactor.run)
        yield reactor
        nursery.cancel_scope.cancel()


class Collector:
    """A reader that keeps what it is given, and lets a test wait for a number of chunks."""

    def __init__(self, fail_first: bool = False) -> None:
        self.chunks: list[bytes] = []
        self._fail_first = fail_first
        self._changed = anyio.Event()

    def __call__(self, data: bytes) -> None:
        self.chunks.append(data)
        self._changed.set()
        if self._fail_first and len(self.chunks) == 1:
            raise ValueError("a bug")

    async def until(self, count: int) -> None:
        with anyio.fail_after(5):
            while len(self.chunks) < count:
                self._changed = anyio.Event()
                await self._changed.wait()


def socket_pair() -> tuple[socket.socket, socket.socket]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    return ours, theirs


async def test_bytes_reach_the_reader_in_order_and_the_peers_close_ends_the_watch() -> None:
    ours, theirs = socket_pair()
    received = Collector()
    with ours, theirs:
        async with reactor_running() as reactor:
            watch = reactor.watch(ours, received)
            theirs.sendall(b"one")
            await received.until(1)
            theirs.sendall(b"two")
            theirs.shutdown(socket.SHUT_WR)
            with anyio.fail_after(5):
                assert await watch.wait() is True  # the peer closed
    assert b"".join(received.chunks) == b"onetwo"
    assert watch.ended


async def test_wake_returns_a_wait_early_and_the_watch_goes_on() -> None:
    ours, theirs = socket_pair()
    received = Collector()
    with ours, theirs:
        async with reactor_running() as reactor, trio.open_nursery() as nursery:
            watch = reactor.watch(ours, received)
            results: list[bool] = []

            async def waiter() -> None:
                results.append(await watch.wait())

            nursery.start_soon(waiter)
            await anyio.wait_all_tasks_blocked()
            watch.wake()
            await anyio.wait_all_tasks_blocked()
            assert results == [False]
            theirs.sendall(b"still read")
            await received.until(1)
            watch.end()  # as the stream's close does: unregistered before the socket closes
    assert received.chunks == [b"still read"]


async def test_a_failing_reader_is_logged_and_its_socket_still_read(caplog: pytest.LogCaptureFixture) -> None:
    ours, theirs = socket_pair()
    reader = Collector(fail_first=True)
    with ours, theirs, caplog.at_level(logging.ERROR, logger="sioactor.server"):
        async with reactor_running() as reactor:
            watch = reactor.watch(ours, reader)
            theirs.sendall(b"first")
            await reader.until(1)
            theirs.sendall(b"second")
            await reader.until(2)
            watch.end()
    assert reader.chunks == [b"first", b"second"]
    assert "reader failed" in caplog.text


async def test_cancelling_the_reactor_ends_every_watch() -> None:
    ours, theirs = socket_pair()
    with ours, theirs:
        async with reactor_running() as reactor:
            watch = reactor.watch(ours, lambda data: None)
        with anyio.fail_after(5):
            assert await watch.wait() is True  # ended with the reactor: its task must not wait forever
