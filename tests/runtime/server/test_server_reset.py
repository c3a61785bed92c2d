"""A connection reset by the peer (RST) before the server shuts its write side is a normal end: the direct
writer's ``write_eof`` stays quiet. On asyncio, ``transport.write_eof`` raised ``ENOTCONN`` when the
transport had not yet read the reset (its reading paused, or the loop busy), and the server logged
"connection failed" with a traceback; the exhaustion soak (tests/soak/exhaustion.py) found it under a wave
of 700 hostile connections. (trio's writer shuts the raw socket down and has always caught that error.)"""

from __future__ import annotations

import socket
import struct

import anyio
import pytest
from anyio.abc import SocketStream
from backends import WITH_UVLOOP

from sioactor.runtime._server._aio_stream import accept_on_loop, pause_reading, take_over_reading
from sioactor.runtime._server._direct import make_sink

pytestmark = pytest.mark.anyio


@pytest.fixture(params=[param for param in WITH_UVLOOP if param.id != "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return request.param


def no_spawn(*args: object, **kwargs: object) -> None:
    raise AssertionError("nothing is left to write: no drain task")


async def test_write_eof_on_a_connection_the_peer_reset_is_quiet() -> None:
    streams: list[SocketStream] = []
    arrived = anyio.Event()

    def accepted(stream: SocketStream) -> None:
        streams.append(stream)
        arrived.set()

    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)  # as the server's listener: accepting must not block the loop
        async with anyio.create_task_group() as tg:
            tg.start_soon(accept_on_loop, listener, 65_536, 16, accepted)
            client = socket.create_connection(listener.getsockname())
            with anyio.fail_after(5):
                await arrived.wait()
            async with streams[0] as stream:
                # The server's end as a direct WebSocket holds it: read by callback, reading paused (the
                # client's input held), so the reset below stays unread.
                take_over_reading(stream, lambda data: None)
                assert pause_reading(stream, True)
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()  # RST
                await anyio.sleep(0.05)
                make_sink(stream, no_spawn).write_eof()
            tg.cancel_scope.cancel()
