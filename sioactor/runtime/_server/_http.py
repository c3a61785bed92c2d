"""One HTTP/1.1 connection: h11 parsing, keep-alive, streamed request bodies, ``http.disconnect``.

While the app handles a request, the connection task keeps reading the socket beside it: request body
chunks go to a bounded buffer the app's ``receive()`` drains, and once the body is complete the same read
notices the client going away, so an app parked in ``receive()`` (a long-poll) learns ``http.disconnect``
at once. Bytes of a pipelined next request are left in h11's buffer for the next cycle.
"""

from __future__ import annotations

import logging
from collections import deque
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
        self._cycle: _RequestCycle | None = None

    async def run(self) -> None:
        """Serve until the connection is done; never raises for the peer's mistakes."""
        try:
            while (request := await self._next_request()) is not None:
                if is_websocket_upgrade(request):
                    await self._upgrade(request)
                    return
                if not await self._serve(request):
                    return
                self._h11.start_next_cycle()
        except h11.RemoteProtocolError as exc:
            if self._h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                await self._write(error_response(exc.error_status_hint))

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

    async def _upgrade(self, request: h11.Request) -> None:
        scope = build_scope(request, self._info, websocket=True)
        trailing = bytes(self._h11.trailing_data[0])
        await WebSocketConnection(self._stream, self._config, request, trailing).run(self._app, scope)

    async def _serve(self, request: h11.Request) -> bool:
        """Run the app for one request; tell if the connection may serve another."""
        cycle = _RequestCycle(self, request)
        self._cycle = cycle
        async with anyio.create_task_group() as tg:
            tg.start_soon(cycle.read_body)
            await cycle.run_app(build_scope(request, self._info, websocket=False))
            tg.cancel_scope.cancel()
        reusable = self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE
        return reusable and not cycle.disconnected


class _RequestCycle:
    """One request/response exchange: the app's ``receive``/``send`` and the body reader beside it."""

    def __init__(self, connection: HttpConnection, request: h11.Request) -> None:
        self._conn = connection
        self._h11 = connection._h11
        self._is_head = request.method == b"HEAD"
        self._body: deque[bytes] = deque()
        self._body_size = 0
        self._body_done = False
        self._final_sent = False
        self.disconnected = False
        self._wake = anyio.Event()
        self._drained = anyio.Event()
        self._status: int | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._started = False
        self._response_done = False

    def _notify(self) -> None:
        self._wake.set()
        self._wake = anyio.Event()

    async def read_body(self) -> None:
        """Feed the body to the app's buffer, then watch for the client closing; cancelled when done."""
        try:
            await self._read_until_paused()
        except h11.RemoteProtocolError:
            logger.debug("bad request body", exc_info=True)
        self.disconnected = True
        self._notify()

    async def _read_until_paused(self) -> None:
        limit = self._conn._config.max_body_buffer
        while True:
            event = self._h11.next_event()
            if isinstance(event, h11.Data):
                self._body.append(bytes(event.data))
                self._body_size += len(event.data)
                self._notify()
            elif isinstance(event, h11.EndOfMessage):
                self._body_done = True
                self._notify()
            elif event is h11.NEED_DATA or event is h11.PAUSED:
                if self._body_size >= limit or len(self._h11.trailing_data[0]) >= limit:
                    await self._drained.wait()
                    continue
                data = await self._conn._read()
                if not data:
                    return
                self._h11.receive_data(data)
            else:
                return

    async def receive(self) -> Message:
        """ASGI ``receive``: body chunks (joined), then ``http.disconnect`` once gone or answered."""
        while True:
            if self._body or (self._body_done and not self._final_sent):
                body = b"".join(self._body)
                self._body.clear()
                self._body_size = 0
                self._drained.set()
                self._drained = anyio.Event()
                self._final_sent = self._body_done
                return {"type": "http.request", "body": body, "more_body": not self._body_done}
            if self.disconnected or self._response_done:
                return dict(_DISCONNECT)
            await self._wake.wait()

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
            self._notify()
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
