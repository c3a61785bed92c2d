"""In a worker of several: every request reaches the worker that owns its session.

The kernel gives a new connection to any worker. Before a request is parsed, `Router` reads its head
itself and looks for an Engine.IO session id in the query (``sid=``, 20 characters). An id starts with its
owner's tag (``_worker_context.py``), so a request of another worker's session is handed over whole, the
connection with the bytes read so far (``_handoff.py``), and the owner serves that connection from then
on: polling GETs and POSTs, and the WebSocket upgrade, which then lives in the owner. A request with no
id (a handshake), or one of this worker's sessions, is served here by the ordinary `HttpConnection`, one
request at a time, so that the next request of a kept-alive connection is routed in turn. A hand-off that
fails (the owner is gone or not reading) is served here too: the engine answers the unknown session with
400 and the client reconnects.

Bytes of a next request that arrive before a response is complete (pipelining, or a request sent while a
long-poll is held) have been parsed already; that connection stays in this worker for them.
"""

from __future__ import annotations

import anyio
from anyio.abc import SocketAttribute, SocketStream

from sioactor.runtime._worker_context import WorkerSlot, owner_of_sid

from ._aio_stream import receive_by, resume_reading, take_buffered
from ._config import ServerConfig
from ._handoff import HandoffSender
from ._http import HttpConnection
from ._scope import ConnectionInfo
from ._tasks import Spawn
from ._types import ASGIApp
from ._websocket import WebSocketConnection

__all__ = ("Router", "handoff_limit", "owner_in_head")

_SID_LENGTH = 20
_END_OF_HEAD = b"\r\n\r\n"


def owner_in_head(head: bytes) -> int | None:
    """The worker index encoded in the ``sid`` of the request line's query, or ``None``."""
    line = head[: head.find(b"\r\n")]
    query_at = line.find(b"?")
    if query_at < 0:
        return None
    query = line[query_at + 1 : line.rfind(b" ")]
    for field in query.split(b"&"):
        if field.startswith(b"sid=") and len(field) == 4 + _SID_LENGTH:
            return owner_of_sid(field[4:])
    return None


def handoff_limit(config: ServerConfig) -> int:
    """The most bytes a hand-off carries: a head, the read that completed it, what was read ahead."""
    return config.max_header_size + config.read_size + config.max_body_buffer


class Router:
    """Serve one worker's connections, handing each request of another worker's session to its owner."""

    __slots__ = ("_app", "_config", "_count", "_handoff", "_index", "_limit", "_spawn")

    def __init__(
        self, slot: WorkerSlot, handoff: HandoffSender, app: ASGIApp, config: ServerConfig, spawn: Spawn
    ) -> None:
        self._index = slot.index
        self._count = slot.count
        self._limit = handoff_limit(config)
        self._handoff = handoff
        self._app = app
        self._config = config
        self._spawn = spawn

    async def serve(
        self, stream: SocketStream, info: ConnectionInfo, pre_read: bytes
    ) -> WebSocketConnection | None:
        """Serve *stream* (*pre_read*: bytes already taken from it) until it closes, upgrades (the WebSocket
        is returned) or goes to another worker."""
        while (head := await self._read_head(stream, info, pre_read)) is not None:
            owner = owner_in_head(head)
            if owner is not None and owner != self._index and owner < self._count:
                head += take_buffered(stream)
                raw = stream.extra(SocketAttribute.raw_socket)
                if len(head) <= self._limit and await self._handoff.send(owner, raw, head):
                    return None  # the caller closes this worker's descriptor
                resume_reading(stream)
            http = HttpConnection(
                stream, self._app, self._config, info, self._spawn, pre_read=head, single=True
            )
            upgrade = await http.run()
            if upgrade is not None or not http.idle:
                return upgrade
            pre_read = b""
        return None

    async def _read_head(self, stream: SocketStream, info: ConnectionInfo, data: bytes) -> bytes | None:
        # Until the head is complete; a head past the bound goes to HttpConnection as it is, to be refused.
        config = self._config
        deadline = info.backend.clock() + config.keep_alive_timeout
        buffer = bytearray(data)
        while _END_OF_HEAD not in buffer and len(buffer) <= config.max_header_size:
            try:
                chunk = await receive_by(stream, config.read_size, deadline)
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                return None
            if not chunk:
                return None
            buffer += chunk
        return bytes(buffer)
