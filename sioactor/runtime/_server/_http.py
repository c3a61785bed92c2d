"""One HTTP/1.1 connection: h11 parsing, keep-alive, streamed request bodies, ``http.disconnect``.

The app runs in the connection's task and the socket is read only when the app asks: ``receive()`` pulls
request body bytes on demand, and once the body is complete a ``receive()`` waits on the socket itself, so
an app parked there (a long-poll) learns ``http.disconnect`` as soon as the client goes away. Bytes of a
pipelined next request are left in h11's buffer for the next cycle. A request thus costs no task, task
group or event of its own (each cost tens of microseconds: a polling echo is two requests).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

import anyio
import h11
from anyio.abc import SocketStream

from ._config import ServerConfig
from ._scope import ConnectionInfo, build_scope, is_websocket_upgrade
from ._types import ASGIApp, Message, Scope
from ._websocket import WebSocketConnection

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
    """Serve requests on one TCP connection until it closes, errs, idles out or upgrades."""

    def __init__(
        self, stream: SocketStream, app: ASGIApp, config: ServerConfig, info: ConnectionInfo
    ) -> None:
        self._stream = stream
        self._app = app
        self._config = config
        self._info = info
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=config.max_header_size)

    async def run(self) -> None:
        """Serve until the connection is done; never raises for the peer's mistakes."""
        try:
            upgrade = await self._serve_requests()
        except h11.RemoteProtocolError as exc:
            if self._h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                await self._write(error_response(exc.error_status_hint))
            return
        if upgrade is not None:
            # Only the WebSocket lives on: the h11 state, the request and this frame's locals are let go
            # (~3 KB per idle connection).
            del self._h11
            await upgrade.run(self._app)

    async def _serve_requests(self) -> WebSocketConnection | None:
        while (request := await self._next_request()) is not None:
            if is_websocket_upgrade(request):
                scope = build_scope(request, self._info, websocket=True)
                trailing = bytes(self._h11.trailing_data[0])
                return WebSocketConnection(self._stream, self._config, request, trailing, scope)
            if not await self._serve(request):
                return None
            self._h11.start_next_cycle()
        return None

    async def _next_request(self) -> h11.Request | None:
        with anyio.move_on_after(self._config.keep_alive_timeout):
            while True:
                event = self._h11.next_event()
                if isinstance(event, h11.Request):
                    self._check_size(event)
                    return event
                if event is not h11.NEED_DATA:
                    return None
                self._h11.receive_data(await self._read())
        return None

    def _check_size(self, request: h11.Request) -> None:
        # h11's bound covers only a head still incomplete in its buffer; a head that arrived whole in one
        # read is measured here, so the limit holds however the bytes were split.
        size = len(request.target) + sum(len(name) + len(value) + 4 for name, value in request.headers)
        if size > self._config.max_header_size:
            raise h11.RemoteProtocolError("request head too large", error_status_hint=431)

    async def _read(self) -> bytes:
        try:
            return await self._stream.receive(self._config.read_size)
        except _STREAM_GONE:
            return b""

    async def _write(self, data: bytes) -> bool:
        try:
            await self._stream.send(data)
        except _STREAM_GONE:
            return False
        return True

    async def _serve(self, request: h11.Request) -> bool:
        """Run the app for one request; tell if the connection may serve another."""
        cycle = _RequestCycle(self, request)
        await cycle.run_app(build_scope(request, self._info, websocket=False))
        if cycle.disconnected or self._h11.our_state is not h11.DONE:
            return False
        return await self._skip_unread_body()

    async def _skip_unread_body(self) -> bool:
        # An app may answer without reading the body; the rest is skipped (within the body-buffer bound,
        # beyond which the connection is not worth keeping) so the next request can be parsed.
        budget = self._config.max_body_buffer
        while self._h11.their_state is h11.SEND_BODY:
            event = self._h11.next_event()
            if event is h11.NEED_DATA:
                data = await self._read() if budget > 0 else b""
                if not data:
                    return False
                budget -= len(data)
                self._h11.receive_data(data)
        return self._h11.their_state is h11.DONE


class _RequestCycle:
    """One request/response exchange: the app's ``receive``/``send``, run in the connection's own task.

    Nothing reads the socket unless the app asks: ``receive`` pulls body bytes on demand (so the buffer
    bound is the read size), and once the body is complete a ``receive`` parks on the socket itself, so an
    app waiting there (a long-poll) learns of the client leaving at once. Completing the response wakes
    that parked ``receive`` through a cancel scope that exists only while it waits. No task, task group
    or event per request: a request costs the app's work, the parse and one write.
    """

    __slots__ = (
        "_conn",
        "_final_sent",
        "_h11",
        "_headers",
        "_is_head",
        "_park",
        "_response_done",
        "_started",
        "_status",
        "_trailing_full",
        "disconnected",
    )

    def __init__(self, connection: HttpConnection, request: h11.Request) -> None:
        self._conn = connection
        self._h11 = connection._h11
        self._is_head = request.method == b"HEAD"
        self._final_sent = False
        self.disconnected = False
        self._status: int | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._started = False
        self._response_done = False
        self._park: anyio.CancelScope | None = None
        self._trailing_full: anyio.Event | None = None

    async def receive(self) -> Message:
        """ASGI ``receive``: the body chunks h11 has, read on demand; then ``http.disconnect`` once the
        client is gone or the response is complete."""
        while not self._final_sent and not self.disconnected:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError:
                logger.debug("bad request body", exc_info=True)
                self.disconnected = True
                break
            if isinstance(event, h11.Data):
                return {"type": "http.request", "body": bytes(event.data), "more_body": True}
            if isinstance(event, h11.EndOfMessage):
                self._final_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if event is not h11.NEED_DATA:
                break
            await self._read_more()
        if not self.disconnected and not self._response_done:
            await self._watch()
        return dict(_DISCONNECT)

    async def _read_more(self) -> None:
        data = await self._conn._read()
        if not data:
            self.disconnected = True
        else:
            self._h11.receive_data(data)

    async def _watch(self) -> None:
        # The body is complete: the next thing on the socket is EOF or a pipelined request, kept in h11's
        # buffer for the next cycle (up to the body-buffer bound, past which reading stops).
        with anyio.CancelScope() as park:
            self._park = park
            try:
                while not self.disconnected and not self._response_done:
                    if len(self._h11.trailing_data[0]) >= self._conn._config.max_body_buffer:
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
        out = bytearray()
        if not self._started:
            out += self._start_bytes(len(body) if not more else None)
        if body and not self._is_head:
            out += self._h11.send(h11.Data(data=body)) or b""
        if not more:
            out += self._h11.send(h11.EndOfMessage()) or b""
            self._response_done = True
            if self._park is not None:
                self._park.cancel()  # a receive() parked on the socket now answers http.disconnect
        if not self.disconnected and not await self._conn._write(bytes(out)):
            self.disconnected = True

    def _start_bytes(self, complete_length: int | None) -> bytes:
        self._started = True
        names = {name.lower() for name, _ in self._headers}
        headers = self._headers
        if (
            complete_length is not None
            and b"content-length" not in names
            and b"transfer-encoding" not in names
        ):
            # A body sent whole gets a length; only streamed bodies fall back to chunked (h11's choice).
            headers = [*headers, (b"content-length", str(complete_length).encode())]
        assert self._status is not None
        return self._h11.send(h11.Response(status_code=self._status, headers=headers)) or b""

    async def run_app(self, scope: Scope) -> None:
        """Run the app; answer 500 if it fails (or returns) before responding, else cut the connection."""
        try:
            await self._conn._app(scope, self.receive, self.send)
        except Exception:
            logger.exception("ASGI app failed on %s %s", scope.get("method"), scope.get("path"))
        if not self._started:
            self._started = True
            self._h11.send_failed()
            await self._conn._write(error_response(500))
        elif not self._response_done:
            self._h11.send_failed()
