"""One WebSocket connection after an HTTP/1.1 upgrade: ASGI ``websocket.*`` over websockets' sans-IO protocol.

The app runs first, in the connection's task. An app that knows the embedded server takes the connection
directly (``_direct.py``) and returns; this task then reads, calling the app's handler with each message,
and the app writes frames without awaiting: one task per connection and no ASGI message at all.

A plain ASGI app keeps the connection's task; when it decides the handshake, a reader task turns whole
messages into ASGI events in a bounded inbox (reading pauses while it is full), and the app's ``send``
frames its message and queues the bytes for a writer task (``_ws_outgoing.py``) without awaiting the
socket; ``send`` waits only when more than ``ws_write_buffer`` bytes are queued, which is the back-pressure
a slow client exerts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable

import anyio
from anyio.abc import SocketStream
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from sioactor._errors import ClientDisconnected
from sioactor._lowlevel import Backend

from ._aio_stream import pause_reading, stop_waiting, take_over_reading, wait_for_end
from ._config import ServerConfig
from ._direct import DIRECT_WEBSOCKET, DirectHandler, DirectSocket, make_sink
from ._parser import Request
from ._tasks import Spawn
from ._types import ASGIApp, DeadlineScope, Message, Scope
from ._ws_deflate import EXTENSIONS_HEADER, negotiate
from ._ws_frames import RAW, TEXT, FrameSplitter
from ._ws_handshake import HANDSHAKE_FAILED, HANDSHAKE_REFUSED, answer_by_websockets, switching_protocols
from ._ws_outgoing import STREAM_GONE, WebSocketOutgoing, wake

logger = logging.getLogger("sioactor.server")


class WebSocketConnection(WebSocketOutgoing):
    """Run the app's ``websocket`` scope on *stream*, from handshake to TCP close."""

    # Slots: an instance dict of this many attributes is large, and every idle connection would keep it.
    __slots__ = (
        "_app_returned",
        "_close_deadline",
        "_config",
        "_connect_sent",
        "_decided",
        "_direct",
        "_direct_socket",
        "_fragment_text",
        "_fragments",
        "_frames",
        "_gone",
        "_inbox",
        "_inbox_drained",
        "_inbox_wake",
        "_new_scope",
        "_open",
        "_protocol",
        "_read_resumed",
        "_read_scope",
        "_reader_done",
        "_reader_running",
        "_request",
        "_scope",
        "_spawn",
        "_stream",
        "_trailing",
    )

    def __init__(
        self,
        stream: SocketStream,
        config: ServerConfig,
        request: Request,
        trailing: bytes,
        scope: Scope,
        spawn: Spawn,
        backend: Backend,
    ) -> None:
        self._stream = stream
        self._spawn = spawn
        self._new_scope: Callable[..., DeadlineScope] = backend.new_cancel_scope
        self._config = config
        # Both are let go once used: an idle connection keeps neither (nor their headers).
        self._request: Request | None = request
        self._scope: Scope | None = scope
        self._trailing = trailing
        # websockets' protocol is made on first need (a control or fragmented frame, the end, an ASGI send):
        # plain data frames are read and written without it, and an idle connection need not keep one
        # (nor make a uuid4 per connect). Until then the connection is OPEN once accepted.
        self._open = False
        self._protocol: ServerProtocol | None = None
        # Every event below exists only while something waits on it and is dropped when set: an idle
        # direct connection holds none (ten thousand idle connections count).
        self._decided = False
        self._app_returned = False
        # A plain ASGI app's connection reads in a task of its own (see run()).
        self._reader_running = False
        self._reader_done: anyio.Event | None = None
        self._connect_sent = False
        # A list, not a deque: an empty deque is far larger, and the inbox holds at most ws_inbox_size.
        self._inbox: list[Message] = []
        self._inbox_wake: anyio.Event | None = None
        self._inbox_drained: anyio.Event | None = None
        self._gone: Message | None = None
        self._fragments: list[bytes] = []
        self._frames = FrameSplitter(config.ws_max_message_size)
        self._fragment_text = False
        self._close_deadline = math.inf
        self._read_scope: DeadlineScope | None = None
        # Exists while a direct handler paused reading and this task does the reading (no take-over).
        self._read_resumed: anyio.Event | None = None
        self._direct: DirectHandler | None = None
        self._direct_socket: DirectSocket | None = None
        self._init_outgoing()

    async def run(self, app: ASGIApp) -> None:
        """Handshake, then read until the connection closes; returns once the app has returned.

        The app runs in this task first. A direct app (sioactor's Engine.IO server) takes the connection and
        returns at once; this task then reads, with no second task and no hand-over per connect. A plain
        ASGI app runs for as long as its connection, so when it decides the handshake its reader (and the
        writer) start as tasks of their own, spawned beside this one rather than in a task group of the
        connection's (an idle connection would keep the task group). Server shutdown cancels them all;
        this method waits for them otherwise.
        """
        scope, self._scope = self._scope, None
        assert scope is not None, "run() is called once"
        scope["extensions"] = {**scope.get("extensions", {}), DIRECT_WEBSOCKET: self}
        try:
            await self._run_app(app, scope)
            del scope
            if self._direct is not None and self._open:
                await self._read_loop()
                self._disconnect(self._close_code())
            elif self._reader_running:  # bounded: the app closed, so the close timeout ends the reading
                self._reader_done = anyio.Event()
                await self._reader_done.wait()
            self._stop_writer()
            if self._writer_running:
                # What the app queued last (its close frame) goes out before the socket closes, within
                # the close timeout: a peer that stopped reading cannot hold the connection open.
                self._writer_done = anyio.Event()
                with anyio.move_on_after(self._config.ws_close_timeout):
                    await self._writer_done.wait()
        finally:
            self._stop_writer()
            if self._out_sink is not None:
                self._out_sink.close()  # a drain task still writing to a peer that is gone

    async def _read_beside(self) -> None:
        # A plain ASGI app's reader: the app holds the connection's task.
        try:
            await self._read_loop()
            self._disconnect(self._close_code())
        except Exception:
            logger.exception("WebSocket reading failed")
            self._disconnect(1011)
        finally:
            self._reader_running = False
            self._reader_done = wake(self._reader_done)

    def accept(
        self,
        handler: DirectHandler,
        first: Iterable[str | bytes] = (),
        headers: Iterable[tuple[bytes, bytes]] = (),
        *,
        deflate: int | None = None,
    ) -> DirectSocket:
        """The ``sioactor.direct_websocket`` extension: complete the handshake and hand every message to
        *handler* from the reader task; the app writes through the returned socket (see ``_direct.py``).
        *first* goes out in the 101's write, *headers* in the 101. Reading starts when the app returns,
        which it must do soon. *deflate*: see ``DirectOffer.accept``."""
        if self._decided or self._request is None:
            raise RuntimeError("direct accept after the handshake was decided")
        sink = make_sink(self._stream, self._spawn)
        socket = self._direct_socket = DirectSocket(
            sink, self._close, self._config.ws_write_buffer, self._pause_reading
        )
        self._direct = handler
        self._out_sink = sink
        if deflate is not None:
            socket.deflate = negotiate(self._request.headers, deflate)
        answer = (
            [*headers] if socket.deflate is None else [*headers, (EXTENSIONS_HEADER, socket.deflate.header)]
        )
        self._accept({"type": "websocket.accept", "headers": answer}, socket.frames(first))
        return socket

    # The app's side -------------------------------------------------------------------------------------

    async def _run_app(self, app: ASGIApp, scope: Scope) -> None:
        failed = False
        try:
            await app(scope, self._receive, self._send)
        except Exception:
            failed = True
            logger.exception("ASGI app failed on websocket %s", scope.get("path"))
        finally:
            self._finish_app(failed)

    def _finish_app(self, failed: bool) -> None:
        self._app_returned = True
        if self._direct is not None and not failed:
            return  # the handler owns the open connection now
        if not self._decided:
            self._queue([HANDSHAKE_FAILED if failed else HANDSHAKE_REFUSED, b""])
            self._decide()
        elif self._open and self._state() is State.OPEN:
            protocol = self._ws()
            protocol.send_close(1011 if failed else 1000)
            self._queue(protocol.data_to_send())
            self._expect_close()
        self._inbox.clear()
        self._inbox_drained = wake(self._inbox_drained)

    async def _receive(self) -> Message:
        if not self._connect_sent:
            self._connect_sent = True
            return {"type": "websocket.connect"}
        while True:
            if self._inbox:
                message = self._inbox.pop(0)
                if len(self._inbox) < self._config.ws_inbox_size:
                    self._inbox_drained = wake(self._inbox_drained)
                return message
            if self._gone is not None:
                return dict(self._gone)
            if self._inbox_wake is None:
                self._inbox_wake = anyio.Event()
            await self._inbox_wake.wait()

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.send":
            self._send_data(message)
            if self._out_size > self._config.ws_write_buffer:
                if self._out_drained is None:
                    self._out_drained = anyio.Event()
                await self._out_drained.wait()
        elif kind == "websocket.accept":
            self._accept(message)
        elif kind == "websocket.close":
            self._close(int(message.get("code") or 1000), str(message.get("reason") or ""))
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on a websocket connection")

    def _send_data(self, message: Message) -> None:
        if not self._open or self._state() is not State.OPEN:
            raise ClientDisconnected("websocket.send on a closed WebSocket")
        protocol = self._ws()
        text = message.get("text")
        if text is not None:
            protocol.send_text(text.encode())
        else:
            protocol.send_binary(message["bytes"])
        self._queue(protocol.data_to_send())

    def _accept(self, message: Message, first: bytes = b"") -> None:
        if self._decided:
            raise RuntimeError("websocket.accept after the handshake was decided")
        request, self._request = self._request, None
        assert request is not None, "the handshake is decided once"
        subprotocol = message.get("subprotocol")
        extra = [(bytes(name), bytes(value)) for name, value in message.get("headers", ())]
        answer = switching_protocols(request, subprotocol, extra)
        accepted = answer is not None
        if answer is None:  # not a plain valid handshake: websockets answers it (an error, or a rare 101)
            answer, accepted = answer_by_websockets(request, subprotocol, extra)
        if accepted:
            self._open = True
            self._queue([answer, first] if first else [answer])
        else:
            self._queue([answer, b""])
            self._disconnect(1006)
        self._decide()

    def _decide(self) -> None:
        self._decided = True
        if self._direct is None:  # a plain ASGI app: it goes on in this task, reading and writing beside it
            self._writer_running = True
            self._spawn(self._write_loop)
            if self._open:
                self._reader_running = True
                self._spawn(self._read_beside)

    def going_away(self) -> None:
        """The server shuts down and the app left this WebSocket open: close it (1001, RFC 6455 §7.4.1)."""
        if self._decided:
            self._close(1001, "server shutting down")

    def _close(self, code: int, reason: str) -> None:
        if not self._decided:
            self._queue([HANDSHAKE_REFUSED, b""])
            self._disconnect(1006)
            self._decide()
        elif self._open and self._state() is State.OPEN:
            protocol = self._ws()
            protocol.send_close(code, reason)
            self._queue(protocol.data_to_send())
            self._expect_close()

    # The socket's side ----------------------------------------------------------------------------------

    def _ws(self) -> ServerProtocol:
        # websockets' protocol, made now if this is its first need (see __init__).
        protocol = self._protocol
        if protocol is None:
            protocol = self._protocol = ServerProtocol(
                state=State.OPEN, max_size=self._config.ws_max_message_size
            )
            socket = self._direct_socket
            if socket is not None and socket.deflate is not None:  # it inflates the compressed frames
                protocol.extensions = [socket.deflate.extension]
        return protocol

    def _state(self) -> State:
        protocol = self._protocol
        return State.OPEN if protocol is None else protocol.state

    async def _read_loop(self) -> None:
        if self._trailing:
            trailing, self._trailing = self._trailing, b""
            self._feed(trailing)
        # One cancel scope for the connection's whole reading, not one per read: a scope's cost
        # would be paid by every one-message read. Its deadline is set when
        # the close handshake starts (``_expect_close``); when it passes, reading ends where it waits. The
        # backend's own scope (on trio trio's: anyio's wraps one in another).
        with self._new_scope(deadline=self._close_deadline) as scope:
            self._read_scope = scope
            if self._direct is not None and self._state() is not State.CLOSED:
                # A direct handler is synchronous: on asyncio the bytes reach it in the protocol's own
                # callback, sparing a task wake per read; this task then only waits for the end.
                buffered = take_over_reading(self._stream, self._on_bytes)
                if buffered is not None:
                    await self._wait_for_end(buffered)
                    self._read_scope = None
                    return
            await self._receive_loop()
        self._read_scope = None

    async def _receive_loop(self) -> None:
        read_size = self._config.read_size
        while self._state() is not State.CLOSED:
            if self._read_resumed is not None:
                await self._read_resumed.wait()
                continue
            if len(self._inbox) >= self._config.ws_inbox_size and not self._app_returned:
                if self._inbox_drained is None:
                    self._inbox_drained = anyio.Event()
                await self._inbox_drained.wait()
                continue
            # Inline, not a helper coroutine: an idle connection would keep its suspended frame.
            try:
                data = await self._stream.receive(read_size)
            except STREAM_GONE:
                data = b""
            self._feed(data)
            if not data:
                break

    async def _wait_for_end(self, buffered: bytes) -> None:
        if buffered:
            self._feed(buffered)
        while self._state() is not State.CLOSED:
            if await wait_for_end(self._stream):
                self._feed(b"")  # the peer closed or the connection is gone
                return

    def _pause_reading(self, paused: bool) -> None:
        # The direct handler's back-pressure: the reading stops where it happens (the asyncio protocol, the
        # trio reactor), or else in this task's receive loop.
        if pause_reading(self._stream, paused):
            return
        if paused:
            if self._read_resumed is None:
                self._read_resumed = anyio.Event()
        else:
            self._read_resumed = wake(self._read_resumed)

    def _on_bytes(self, data: bytes) -> None:
        # Called by the asyncio protocol with each chunk (see take_over_reading); must not raise.
        try:
            self._feed(data)
        except Exception:
            logger.exception("WebSocket reading failed")
            protocol = self._ws()
            protocol.fail(1011, "")
            self._after_protocol(protocol)
        made = self._protocol  # none yet: the connection is open (the common case, no call)
        if made is not None and made.state is State.CLOSED:
            stop_waiting(self._stream)  # the close handshake is over: the read loop ends

    def _feed(self, data: bytes) -> None:
        if not data:
            protocol = self._ws()
            rest = self._frames.take_pending()
            if rest:  # an incomplete frame: websockets sees it before the EOF, as it would have
                protocol.receive_data(rest)
            protocol.receive_eof()
            self._after_protocol(protocol)
            return
        # The state is looked at only where it can have changed: after websockets parsed bytes, or after a
        # delivery that made the protocol (to refuse a message): a message per read pays no extra call.
        is_open = self._state() is State.OPEN
        for kind, payload in self._frames.split(data, is_open and not self._fragments):
            if kind == RAW:
                protocol = self._ws()
                protocol.receive_data(payload)
                self._after_protocol(protocol)
                is_open = protocol.state is State.OPEN
            elif is_open:  # a message before it failed the connection goes on
                self._deliver(kind == TEXT, payload)
                if self._protocol is not None:
                    is_open = self._protocol.state is State.OPEN
        made = self._protocol
        if made is not None and made.state is not State.OPEN:  # e.g. a refused message (bad UTF-8)
            self._after_protocol(made)

    def _after_protocol(self, protocol: ServerProtocol) -> None:
        # What websockets made of the bytes it was given: frames, answers (pong, close), the state.
        for event in protocol.events_received():
            if isinstance(event, Frame):
                self._on_frame(event)
        self._queue(protocol.data_to_send())
        if protocol.state is not State.OPEN:
            self._disconnect(self._close_code())
            self._expect_close()

    def _on_frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if frame.fin:
                self._deliver(opcode is Opcode.TEXT, bytes(frame.data))
            else:
                self._fragments = [bytes(frame.data)]
                self._fragment_text = opcode is Opcode.TEXT
        elif opcode is Opcode.CONT:
            self._fragments.append(bytes(frame.data))
            if frame.fin:
                self._deliver(self._fragment_text, b"".join(self._fragments))
                self._fragments = []

    def _deliver(self, is_text: bool, data: bytes) -> None:
        if self._direct is not None:
            self._deliver_direct(self._direct, is_text, data)
            return
        if is_text:
            try:
                message: Message = {"type": "websocket.receive", "text": data.decode()}
            except UnicodeDecodeError:
                self._ws().fail(1007, "invalid UTF-8 in a text message")
                return
        else:
            message = {"type": "websocket.receive", "bytes": data}
        self._inbox.append(message)
        self._inbox_wake = wake(self._inbox_wake)

    def _deliver_direct(self, handler: DirectHandler, is_text: bool, data: bytes) -> None:
        try:
            handler.on_message(data.decode() if is_text else data)
        except UnicodeDecodeError:
            self._ws().fail(1007, "invalid UTF-8 in a text message")
        except Exception:
            logger.exception("direct WebSocket handler failed")
            self._ws().fail(1011, "")

    def _disconnect(self, code: int) -> None:
        if self._gone is None and self._direct is not None:
            self._gone = {"type": "websocket.disconnect", "code": code}
            if self._direct_socket is not None:
                self._direct_socket.closed = True
            try:
                self._direct.on_close(code)
            except Exception:
                logger.exception("direct WebSocket handler failed on close")
            return
        if self._gone is None:
            self._gone = {"type": "websocket.disconnect", "code": code}
            self._inbox.append(dict(self._gone))
            self._inbox_wake = wake(self._inbox_wake)

    def _close_code(self) -> int:
        protocol = self._protocol  # the code the peer sent, else the one sent to it, else 1006 (no close)
        frame = None if protocol is None else (protocol.close_rcvd or protocol.close_sent)
        return 1006 if frame is None else int(frame.code)

    def _expect_close(self) -> None:
        if self._close_deadline == math.inf:
            self._close_deadline = anyio.current_time() + self._config.ws_close_timeout
            if self._read_scope is not None:
                self._read_scope.deadline = self._close_deadline
