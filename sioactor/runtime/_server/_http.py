"""One HTTP/1.1 connection: parsing (`_parser`), keep-alive, streamed request bodies, ``http.disconnect``.

The app runs in the connection's task and the socket is read only when the app asks: ``receive()`` pulls
request body bytes on demand, and once the body is complete a ``receive()`` waits on the socket itself, so
an app parked there (a long-poll) learns ``http.disconnect`` as soon as the client goes away. Bytes of a
pipelined next request are left in the parser's buffer for the next cycle. A request thus costs no task,
task group or event of its own (each cost tens of microseconds: a polling echo is two requests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

import anyio
from anyio.abc import SocketStream

from ._aio_stream import park_reading, receive_by
from ._config import ServerConfig
from ._direct import ByteSink, make_sink
from ._direct_http import DIRECT_HTTP, HeldAnswer, SyncHandler
from ._parser import END_OF_BODY, HttpError, Request, RequestParser
from ._response import CONTINUE, ResponseEncoder
from ._scope import ConnectionInfo, build_scope, is_websocket_upgrade, reuse_scope
from ._tasks import Spawn
from ._types import ASGIApp, Message, Scope
from ._websocket import WebSocketConnection
from ._writer import make_writer

logger = logging.getLogger("sioactor.server")

_STREAM_GONE = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError)
_DISCONNECT: Message = {"type": "http.disconnect"}


def error_response(status: int) -> bytes:
    """A complete, self-contained error response that closes the connection."""
    phrase = HTTPStatus(status).phrase
    body = phrase.encode()
    head = f"HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
    return f"{head}content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body


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
        self.idle = False
        # Serving requests from the read callback (see _wait_bytes): the app's handler, the held response
        # the connection waits on (whichever served it), the deadline of the current wait, and a request
        # the callback took but left to this task, with its body if it took that too.
        self._sync: SyncHandler | None = None
        self._held: _RequestCycle | None = None
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
            while self._serve_now():
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
        scope = None
        if body is not None and request.keep_alive and not request.expect_continue:
            scope = reuse_scope(request)
        handler = self._sync
        cycle = _RequestCycle(self, request)
        if scope is None or handler is None or not handler(scope, cycle, body or b""):
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
        cycle = _RequestCycle(self, request)
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

    async def _wait_held(self, cycle: _RequestCycle) -> bool:
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


class _RequestCycle:
    """One request/response exchange: the app's ``receive``/``send``, run in the connection's own task.

    Nothing reads the socket unless the app asks: ``receive`` pulls body bytes on demand (so the buffer
    bound is the read size), and once the body is complete a ``receive`` parks on the socket itself, so an
    app waiting there (a long-poll) learns of the client leaving at once. Completing the response wakes
    that parked ``receive`` through a cancel scope that exists only while it waits. No task, task group
    or event per request: a request costs the app's work, the parse and one write.
    """

    __slots__ = (
        "_answered_wake",
        "_bad_body",
        "_body_deadline",
        "_conn",
        "_continue_due",
        "_encoder",
        "_final_sent",
        "_headers",
        "_held",
        "_park",
        "_parser",
        "_response_done",
        "_started",
        "_status",
        "disconnected",
        "hold_bound",
        "memo",
        "preread",
    )

    def __init__(self, connection: HttpConnection, request: Request) -> None:
        self._conn = connection
        self._parser = connection._parser
        self.memo = request.memo  # the direct_http extension's: what an app derives from the header set
        self._encoder = ResponseEncoder(
            version=request.http_version, keep_alive=request.keep_alive, is_head=request.method == b"HEAD"
        )
        self._continue_due = request.expect_continue
        self._final_sent = False
        self._bad_body: int | None = None
        self._body_deadline: float | None = None  # set by the first body read that waits
        self.disconnected = False
        self._status: int | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._started = False
        self._response_done = False
        self._park: anyio.CancelScope | None = None
        # A held response (see hold()): the app's callback for a client that leaves first, and the bound.
        self._held: Callable[[], None] | None = None
        self.hold_bound = 0.0
        self._answered_wake: anyio.Event | None = None
        self.preread: bytes | None = None  # the whole body, if the read callback took it (see _serve_now)

    @property
    def reusable(self) -> bool:
        """Tell if the response completed cleanly on a connection that stays open."""
        return self._response_done and not self._encoder.close and self._bad_body is None

    async def receive(self) -> Message:
        """ASGI ``receive``: the body bytes the parser has, read on demand; then ``http.disconnect`` once
        the client is gone or the response is complete."""
        if self.preread is not None and not self._final_sent:
            self._final_sent = True
            return {"type": "http.request", "body": self.preread, "more_body": False}
        while not self._final_sent and not self.disconnected and self._bad_body is None:
            try:
                piece = self._parser.next_body()
            except HttpError as exc:
                # The app is told the client is gone; its answer (or our error answer) ends the connection.
                logger.debug("bad request body: %s", exc)
                self._bad_body = exc.status
                return dict(_DISCONNECT)
            if piece is END_OF_BODY:
                self._final_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if piece is not None:
                assert isinstance(piece, bytes)
                # A body that ends with this piece says so now, sparing the app one more receive().
                self._final_sent = self._parser.body_done
                return {"type": "http.request", "body": piece, "more_body": not self._final_sent}
            deadline = self._next_body_deadline()
            if deadline is None:
                logger.debug("request body timed out")
                self._bad_body = 408
            else:
                await self._read_more(deadline)
        if not self.disconnected and not self._response_done and self._bad_body is None:
            await self._watch()
        return dict(_DISCONNECT)

    def _next_body_deadline(self) -> float | None:
        # A body must keep coming (each read waits body_read_timeout at most) and arrive in full within
        # body_timeout of the first read that waited; None once that has passed. A client that declares
        # a body and never sends it, or trickles it, is answered 408 and its connection closed.
        config = self._conn._config
        now = self._conn._clock()
        if self._body_deadline is None:
            self._body_deadline = now + config.body_timeout
        elif now >= self._body_deadline:
            return None
        return min(self._body_deadline, now + config.body_read_timeout)

    async def _read_more(self, deadline: float | None = None) -> None:
        if self._continue_due:
            # The client waits for leave to send its body (RFC 9110 §10.1.1); the app asking for it is that.
            self._continue_due = False
            if not self._started and not await self._conn._write(CONTINUE):
                self.disconnected = True
                return
        data = await self._conn._read(deadline)
        if data is None:
            logger.debug("request body read timed out")
            self._bad_body = 408
        elif not data:
            self.disconnected = True
        else:
            self._parser.feed(data)

    async def _watch(self) -> None:
        # The body is complete: the next thing on the socket is EOF or a pipelined request, kept in the
        # parser's buffer for the next cycle (up to the body-buffer bound, past which reading stops).
        with anyio.CancelScope() as park:
            self._park = park
            try:
                while not self.disconnected and not self._response_done:
                    if self._parser.buffered >= self._conn._config.max_body_buffer:
                        await anyio.sleep_forever()
                    await self._read_more()
            finally:
                self._park = None

    async def send(self, message: Message) -> None:
        """ASGI ``send``: headers are held back to go out with the first body chunk in one write."""
        kind = message["type"]
        if kind == "http.response.start":
            if self._status is not None:
                raise RuntimeError("http.response.start sent twice")
            self._status = int(message["status"])
            self._headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
        elif kind == "http.response.body":
            await self._send_body(bytes(message.get("body", b"")), bool(message.get("more_body", False)))
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an http connection")

    async def _send_body(self, body: bytes, more: bool) -> None:
        if self._status is None:
            raise RuntimeError("http.response.body before http.response.start")
        if self._response_done:
            raise RuntimeError("http.response.body after the response completed")
        encoder = self._encoder
        out = b""
        if not self._started:
            self._started = True
            out = encoder.head(self._status, self._headers, None if more else len(body))
        out += encoder.body(body)
        if not more:
            out += encoder.end()
            self._response_done = True
            if self._park is not None:
                self._park.cancel()  # a receive() parked on the socket now answers http.disconnect
        if out and not self.disconnected and not await self._conn._write(out):
            self.disconnected = True

    # The sioactor.direct_http extension (see _direct_http.py) ------------------------------------------

    @property
    def can_hold(self) -> bool:
        # A connection that closes after this response (HTTP/1.0, "connection: close") is answered in the
        # request's task: only that task can close it, and a held answer would leave it parked.
        return not self._encoder.close

    def hold(self, gone: Callable[[], None], bound: float) -> HeldAnswer:
        if bound <= 0:
            raise ValueError(f"a held response needs a positive bound, not {bound}")
        if not self.can_hold:
            raise RuntimeError("this response closes the connection: it cannot be held")
        if self._status is not None or self.held:
            raise RuntimeError("hold after the response started")
        self._held = gone
        self.hold_bound = bound
        return self._answer_held

    @property
    def held(self) -> bool:
        """The app holds the response, to answer it later (see ``hold``)."""
        return self.hold_bound > 0.0

    @property
    def answered(self) -> bool:
        """The response went out."""
        return self._response_done

    def _answer_held(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if self.disconnected:
            return  # the client left first (its gone callback ran): nobody to answer
        if self._response_done:
            raise RuntimeError("a held response answered twice")
        self._held = None
        self._conn._write_now(self._whole(status, headers, body))
        if self._answered_wake is not None:
            self._answered_wake.set()

    def client_gone(self) -> None:
        """The connection ended before the held answer: tell the app, once."""
        if self._response_done or self.disconnected:
            return
        self.disconnected = True
        gone, self._held = self._held, None
        if gone is not None:
            try:
                gone()
            except Exception:
                logger.exception("the app's callback for a client gone mid-response failed")

    def serve_sync(self, handler: SyncHandler) -> None:
        # A connection whose next request a worker routes (single) is read by the worker, not parked here.
        if not self._conn._single:
            self._conn._sync = handler

    def respond_now(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if self._status is not None:
            raise RuntimeError("direct respond after the response started")
        self._conn._write_now(self._whole(status, headers, body))

    async def wait_answered(self, deadline: float) -> bool:
        """Wait (up to *deadline*) for the held answer; False, the app told, if it does not come."""
        self._answered_wake = anyio.Event()
        with anyio.CancelScope(deadline=deadline):
            await self._answered_wake.wait()
        if not self._response_done:
            self.client_gone()
            return False
        return True

    async def respond(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if self._status is not None:
            raise RuntimeError("direct respond after the response started")
        out = self._whole(status, headers, body)
        if self._park is not None:
            self._park.cancel()
        if not self.disconnected and not await self._conn._write(out):
            self.disconnected = True

    def _whole(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
        # The whole response at once (direct respond, or a held answer): this cycle's response is done.
        self._status = status
        self._started = self._response_done = True
        return self._encoder.whole(status, headers, body)

    async def run_app(self, scope: Scope) -> None:
        """Run the app; answer 500 if it fails (or returns) before responding, else cut the connection."""
        try:
            await self._conn._app(scope, self.receive, self.send)
        except Exception:
            logger.exception("ASGI app failed on %s %s", scope.get("method"), scope.get("path"))
        if not self._started and not self.held:
            self._started = True
            await self._conn._write(error_response(self._bad_body or 500))
