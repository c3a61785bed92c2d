"""One HTTP/1.1 connection: parsing (`_parser`), keep-alive, streamed request bodies, ``http.disconnect``.

The app runs in the connection's task and the socket is read only when the app asks: ``receive()`` pulls
request body bytes on demand, and once the body is complete a ``receive()`` waits on the socket itself, so
an app parked there (a long-poll) learns ``http.disconnect`` as soon as the client goes away. Bytes of a
pipelined next request are left in the parser's buffer for the next cycle. A request thus costs no task,
task group or event of its own (each cost tens of microseconds: a polling echo is two requests).

Between requests, a connection whose app offered a `SyncHandler` (``DirectHttp.serve_sync``) parks its
task on the stream's read callback instead (``park_reading``: asyncio's protocol, trio's reactor): each
whole keep-alive request that arrives is served there, answered or held, and the task stays parked, so a
polling exchange wakes no task at all. Whatever the callback cannot serve (a partial body, a request behind
an unanswered held one, a write backlog, a request the handler declines) it leaves to the task, in the
parser or stashed, and wakes it; the task then goes on exactly as if it had read the bytes itself.
"""

from __future__ import annotations

import logging

import anyio
from anyio.abc import SocketStream

from ._aio_stream import park_reading, receive_by
from ._config import ServerConfig
from ._direct import ByteSink, make_sink
from ._direct_http import DIRECT_HTTP, SyncHandler, is_inline_safe
from ._parser import END_OF_BODY, HttpError, Request, RequestParser
from ._request_cycle import RequestCycle
from ._response import error_response
from ._scope import ConnectionInfo, build_scope, is_websocket_upgrade, shared_scope
from ._tasks import Spawn
from ._types import ASGIApp
from ._websocket import WebSocketConnection
from ._writer import make_writer

logger = logging.getLogger("sioactor.server")

# Pipelined requests served by one read callback at most; the rest go to the connection's task, whose
# writes wait for the client to read, so a client that pipelines without reading holds no callback long.
_SERVED_PER_READ = 8
_STREAM_GONE = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError)


class HttpConnection:
    """Serve requests on one TCP connection until it closes, errs, idles out or upgrades.

    *pre_read*: bytes already taken from *stream* (a worker routing requests read the head, ``_routing.py``).
    With *single*, `run` returns after a request that leaves the connection idle and reusable, setting
    `idle`, so that the caller reads (and routes) the next request itself.
    """

    def __init__(
        self,
        stream: SocketStream,
        app: ASGIApp,
        config: ServerConfig,
        info: ConnectionInfo,
        spawn: Spawn,
        *,
        pre_read: bytes = b"",
        single: bool = False,
    ) -> None:
        self._stream = stream
        self._spawn = spawn
        self._app = app
        self._config = config
        self._info = info
        self._parser = RequestParser(config.max_header_size)
        self._writer = make_writer(stream)
        self._sink: ByteSink | None = None  # for answers written outside this task (held responses)
        self._clock = info.backend.clock
        self._single = single
        # Requests served by the app's SyncHandler (see _wait_bytes): where the config or the app allows it,
        # and not on a connection whose next request a worker routes (it is read by the worker, not here).
        inline = config.inline_requests
        self._inline = not single and (is_inline_safe(app) if inline is None else inline)
        self.idle = False
        # Serving requests from the read callback (see _wait_bytes): the app's handler, the held response
        # the connection waits on (whichever served it), the deadline of the current wait, and a request
        # the callback took but left to this task, with its body if it took that too.
        self._sync: SyncHandler | None = None
        self._held: RequestCycle | None = None
        self._deadline = 0.0
        self._stashed: Request | None = None
        self._preread: bytes | None = None
        self._failed = False
        if pre_read:
            self._parser.feed(pre_read)

    async def run(self) -> WebSocketConnection | None:
        """Serve requests until the connection is done or upgrades; never raises for the peer's mistakes.

        Returns the WebSocket the connection upgraded to, for the caller to run: only it lives on, so an idle
        WebSocket keeps neither this object, its parser nor this frame.
        """
        try:
            return await self._serve_requests()
        except HttpError as exc:
            # Raised only while waiting for a head, so no response of this cycle has started.
            logger.debug("bad request: %s", exc)
            await self._write(error_response(exc.status))
            return None
        finally:
            if self._held is not None:
                self._held.client_gone()  # no-op once answered
            self._parser.close()
            if self._sink is not None:
                self._sink.close()  # a drain task still writing a held answer to a peer that is gone

    async def _serve_requests(self) -> WebSocketConnection | None:
        while (request := await self._next_request()) is not None:
            if is_websocket_upgrade(request):
                scope = build_scope(request, self._info, websocket=True)
                trailing = self._parser.take_trailing()
                return WebSocketConnection(
                    self._stream, self._config, request, trailing, scope, self._spawn, self._info.backend
                )
            if not await self._serve(request):
                return None
            if self._single and not self._parser.buffered:
                self.idle = True
                return None
        return None

    async def _next_request(self) -> Request | None:
        self._deadline = self._clock() + self._config.keep_alive_timeout
        while (request := self._take_request()) is None:
            if not await self._wait_bytes():  # the keep-alive wait ran out or the client closed
                if self._held is not None:
                    self._held.client_gone()
                return None
            if self._held is not None and not await self._finish_held():
                return None
        if self._sink is not None and self._sink.buffered():
            await self._sink.drained()  # answers the read callback wrote go first: no interleaving
        return request

    def _take_request(self) -> Request | None:
        stashed = self._stashed
        if stashed is not None:
            self._stashed = None
            return stashed
        return self._parser.next_request()

    async def _wait_bytes(self) -> bool:
        """Wait (until ``_deadline``) for the client's next bytes, into the parser; False if it left, stayed
        silent, or the read callback failed.

        An idle connection (nothing unread, and the app offered a `SyncHandler`) parks instead: the read
        callback serves each whole request it can (`_serve_now`), moving ``_deadline`` and ``_held`` as this
        task would, and wakes this task only for what it cannot serve (left in the parser, or stashed)."""
        parser = self._parser
        while self._sync is not None and not parser.buffered and parser.body_done and self._stashed is None:
            ended = await park_reading(self._stream, self._on_idle_bytes, self._deadline)
            if ended is None:
                break  # bytes (or the end) arrived while this task was busy: read them below
            if ended or self._failed:
                return False
            if parser.buffered or self._stashed is not None:
                return True
            if self._clock() >= self._deadline:
                return False
            # Woken by the timer of a deadline that served requests have moved since: wait again.
        try:
            data = await receive_by(self._stream, self._config.read_size, self._deadline)
        except _STREAM_GONE:
            return False
        if not data:
            return False
        parser.feed(data)
        return True

    def _on_idle_bytes(self, data: bytes) -> bool:
        # The read callback of a parked connection: True when it served everything that came.
        parser = self._parser
        parser.feed(data)
        try:
            for _ in range(_SERVED_PER_READ):
                if not self._serve_now():
                    break
                if not parser.buffered:
                    return True
        except Exception:
            logger.exception("serving a request from the read callback failed")
            self._failed = True
        return False

    def _serve_now(self) -> bool:
        """Serve the next request through the app's `SyncHandler` if it is whole and the connection is
        free for it: True if served; False leaves it to this connection's task (in the parser or stashed)."""
        held = self._held
        if held is not None and not (held.answered and held.reusable):
            return False  # a request pipelined behind a held answer waits for it
        if self._sink is not None and self._sink.buffered():
            return False
        try:
            request = self._parser.next_request()
        except HttpError:
            return False  # still queued: the task raises it
        if request is None:
            return False
        body = self._parser.whole_body()
        handler = self._sync
        served = False
        if (
            handler is not None
            and body is not None
            and request.keep_alive
            and not request.expect_continue
            and not is_websocket_upgrade(request)
        ):
            cycle = RequestCycle(self, request)
            served = handler(shared_scope(request, self._info), cycle, body)
        if not served:
            self._stashed, self._preread = request, body
            return False
        now = self._clock()
        if cycle.held:
            self._held = cycle
            self._deadline = now + cycle.hold_bound + self._config.keep_alive_timeout
        elif cycle.answered:
            self._held = None
            self._deadline = now + self._config.keep_alive_timeout
        else:
            raise RuntimeError("a synchronous handler returned True without answering or holding")
        return True

    async def _read(self, deadline: float | None = None) -> bytes | None:
        """Bytes from the socket; ``b""`` once the client is gone, ``None`` if nothing came by *deadline*."""
        try:
            if deadline is None:
                return await self._stream.receive(self._config.read_size)
            return await receive_by(self._stream, self._config.read_size, deadline)
        except _STREAM_GONE:
            return b""

    async def _write(self, data: bytes) -> bool:
        return await self._writer.write(data)

    def _write_now(self, data: bytes) -> None:
        # A held answer, written from outside this task without waiting (see _wait_held).
        if self._sink is None:
            self._sink = make_sink(self._stream, self._spawn)
        self._sink.write(data)

    async def _serve(self, request: Request) -> bool:
        """Run the app for one request; tell if the connection may serve another."""
        cycle = RequestCycle(self, request)
        if self._preread is not None:
            cycle.preread, self._preread = self._preread, None
        scope = build_scope(request, self._info, websocket=False)
        scope["extensions"] = {DIRECT_HTTP: cycle}
        await cycle.run_app(scope)
        if cycle.held:
            return await self._wait_held(cycle)
        if cycle.disconnected or not cycle.reusable:
            return False
        try:
            return await self._skip_unread_body()
        except HttpError:
            return False

    async def _wait_held(self, cycle: RequestCycle) -> bool:
        """The app returned and answers later (a long-poll). Meanwhile this task waits for the client's next
        bytes, which is also how it sees the client leave; nothing wakes it for the answer itself. So the
        usual order is: the answer goes out, the client's next request arrives, this task reads it. Bytes
        before the answer come only from a client that pipelines: they wait in the parser for the answer.
        Bounded: the app's bound for the answer plus the keep-alive timeout for the next request."""
        self._held = cycle
        self._deadline = self._clock() + cycle.hold_bound + self._config.keep_alive_timeout
        # Unless a pipelined request is already here, wait for the client's next bytes: it may leave.
        if not self._parser.buffered and not await self._wait_bytes():
            if self._held is not None:
                self._held.client_gone()
            return False
        return await self._finish_held()

    async def _finish_held(self) -> bool:
        # The held response (this task's, or the last one the read callback held) goes out before the
        # next request is served; then the connection is reusable as after any response.
        cycle = self._held
        if cycle is None:
            return True  # the read callback served up to here, each answered
        if not cycle.answered and not await cycle.wait_answered(self._deadline):
            return False
        self._held = None
        if self._sink is not None and self._sink.buffered():
            await self._sink.drained()  # the next answer goes through the writer: no interleaving
        if cycle.disconnected or not cycle.reusable:
            return False
        if self._stashed is not None:
            return True  # the read callback took the next request: this one's body was all read
        try:
            return await self._skip_unread_body()
        except HttpError:
            return False

    async def _skip_unread_body(self) -> bool:
        # An app may answer without reading the body; the rest is skipped so the next request can be
        # parsed, if it comes within the body-buffer bound and the body read timeout. Else the connection
        # is not worth keeping: a body declared and never sent would hold it (and its descriptor) forever.
        budget = self._config.max_body_buffer
        deadline: float | None = None
        while (piece := self._parser.next_body()) is not END_OF_BODY:
            if piece is None:
                if budget <= 0:
                    return False
                if deadline is None:
                    deadline = self._clock() + self._config.body_read_timeout
                data = await self._read(deadline)
                if not data:
                    return False
                budget -= len(data)
                self._parser.feed(data)
        return True
