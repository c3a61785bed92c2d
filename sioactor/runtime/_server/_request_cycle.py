"""One request/response exchange of an `HttpConnection` (``_http.py``): the app's ASGI ``receive`` and
``send``, and the ``sioactor.direct_http`` extension (``_direct_http.py``), run in the connection's task or,
for a request served from the read callback, in that callback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import anyio

from ._config import ServerConfig
from ._direct_http import HeldAnswer, SyncHandler
from ._parser import END_OF_BODY, HttpError, Request, RequestParser
from ._response import CONTINUE, ResponseEncoder, error_response
from ._types import ASGIApp, Message, Scope

__all__ = ("RequestCycle",)

logger = logging.getLogger("sioactor.server")

_DISCONNECT: Message = {"type": "http.disconnect"}


class Connection(Protocol):
    """What a cycle uses of its connection (``_http.HttpConnection``)."""

    _parser: RequestParser
    _config: ServerConfig
    _app: ASGIApp
    _clock: Callable[[], float]
    _inline: bool
    _sync: SyncHandler | None

    async def _write(self, data: bytes) -> bool: ...
    async def _read(self, deadline: float | None = None) -> bytes | None: ...
    def _write_now(self, data: bytes) -> None: ...


class RequestCycle:
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

    def __init__(self, connection: Connection, request: Request) -> None:
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
        # Only where the server allows it (HttpConnection._inline); elsewhere the app serves every request.
        if self._conn._inline:
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
