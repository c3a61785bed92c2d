"""The server's log line for a failed handler names the socket, the event and the error: a slow consumer
(``InternalChannelFull`` from a full outbox) is recognisable from the log alone."""

from __future__ import annotations

import re

import pytest
from socketio_fakes import running

from sioactor.runtime.socketio import Socket, SocketIo, SocketIoConfig

pytestmark = pytest.mark.anyio

SID = "f" * 20


async def test_a_handler_failing_on_a_full_outbox_is_logged_with_its_event_and_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What a slow consumer looks like in the server's log: the socket, the event, InternalChannelFull.
    io = SocketIo(SocketIoConfig(stall_threshold=None))

    def chat(socket: Socket) -> None:
        socket.emit("chat", "hello")

    io.on("chat", chat)
    async with running(io) as h:
        conn = await h.open(SID, capacity=1)
        await h.feed(conn, "40")  # the CONNECT answer fills the outbox
        await h.feed(conn, '42["chat"]')
    (line,) = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert re.fullmatch(
        r"socket:/:\S+: a handler failed \(InternalChannelFull\): the handler of 'chat': .*", line
    )
