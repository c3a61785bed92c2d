"""HTTP long-polling: the handshake over GET, the long-poll GET, the POST, and Engine.IO's error answers."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING

import anyio.lowlevel

from sioactor._errors import PayloadTooLarge, ProtocolError
from sioactor.actors.engineio._session import PACKETS_PER_STEP, EngineSession, PollRefused
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.protocol.engineio import Packet, PacketType, encode_outbox_payload, payload_packets
from sioactor.protocol.engineio._payload import OutboxEntry
from sioactor.runtime._server._direct_http import DirectHttp, HeldAnswer
from sioactor.runtime.engineio._compression import PayloadCompression, wants_compression
from sioactor.runtime.engineio._http import (
    NOT_RUNNING,
    OCTET_STREAM,
    TEXT_PLAIN,
    EngineError,
    Headers,
    Receive,
    Responder,
    Scope,
    Send,
    cors_headers,
    error_body,
    query_of,
    read_body,
    respond_error,
)

if TYPE_CHECKING:
    from sioactor.runtime.engineio._host import TransportHost

__all__ = ("handle_http",)

logger = logging.getLogger("sioactor.engineio")


async def handle_http(server: TransportHost, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer one HTTP request under the server's path."""
    reply = Responder(scope, send)
    method = scope["method"]
    head = _head_of(server, scope, reply.direct)
    cors = head.cors
    if method == "OPTIONS" and server.config.cors is not None:
        await reply(204, b"", extra=cors)
        return
    query = head.query
    transport = query.get("transport")
    sid = query.get("sid")
    if not server.transport_known(transport):
        server.refused(scope, EngineError.UNKNOWN_TRANSPORT, transport=transport)
        await respond_error(reply, EngineError.UNKNOWN_TRANSPORT, cors)
        return
    if transport != "polling":
        # A WebSocket handshake or upgrade made as a plain HTTP request (Node's names for both).
        mismatch = "TRANSPORT_HANDSHAKE_ERROR" if sid is None else "TRANSPORT_MISMATCH"
        server.refused(scope, EngineError.BAD_REQUEST, name=mismatch, transport=transport)
        await respond_error(reply, EngineError.BAD_REQUEST, cors)
        return
    if sid is None:
        await _handshake(server, scope, method, reply, cors)
        return
    session = server.lookup(sid)
    if session is not None and reply.direct is not None:
        reply.direct.serve_sync(head.serve_now)  # this connection's next polling requests, if it can
    if session is None:
        locator = server.locator
        if locator is not None and await locator.forward(sid, scope, receive, send):
            return
        server.refused(scope, EngineError.UNKNOWN_SID, sid=sid)
        await respond_error(reply, EngineError.UNKNOWN_SID, cors)
    elif method == "GET":
        await _poll(session, query.get("b64"), receive, reply, cors, head.compression)
    elif method == "POST":
        await _post(session, head.content_length, receive, reply, cors)
    else:
        await respond_error(reply, EngineError.BAD_REQUEST, cors)


class _Head:
    """What the engine reads from a request's head: made once per header set on the embedded server (see
    ``DirectHttp.memo``), per request elsewhere; the query again only when it changes (socket.io-client
    adds a random ``t=`` to every poll)."""

    __slots__ = ("_query_key", "_query_string", "compression", "content_length", "cors", "query", "serve_now")

    def __init__(self, server: TransportHost, scope: Scope) -> None:
        config = server.config
        self.cors = cors_headers(config.cors, scope, preflight=scope["method"] == "OPTIONS")
        self._query_string: bytes = scope.get("query_string", b"")
        self._query_key = _without_cache_buster(self._query_string)
        self.query: Mapping[str, str] = query_of(scope)  # shared by the requests of this query: read only
        self.content_length = _content_length(scope)
        self.compression = PayloadCompression.for_request(scope, config)
        self.serve_now = partial(_serve_now, server)  # the embedded server's SyncHandler

    def for_target(self, scope: Scope) -> _Head:
        """This head, its query read again if *scope*'s differs from the last one's in more than its
        cache-busting ``t=`` (which the engine does not read: ``query["t"]`` stays the first one's)."""
        query_string = scope.get("query_string", b"")
        if query_string != self._query_string:
            self._query_string = query_string
            key = _without_cache_buster(query_string)
            if key != self._query_key:
                self._query_key = key
                self.query = query_of(scope)
        return self


def _without_cache_buster(query_string: bytes) -> bytes:
    # The query without its first `t=` field (socket.io-client's random value per request), as bytes.
    start = query_string.find(b"t=")
    while start > 0 and query_string[start - 1] != 0x26:  # inside another field ("transport=", "sid=…t=")
        start = query_string.find(b"t=", start + 1)
    if start < 0:
        return query_string
    end = query_string.find(b"&", start)
    return query_string[:start] + (b"" if end < 0 else query_string[end:])


def _head_of(server: TransportHost, scope: Scope, direct: DirectHttp | None) -> _Head:
    if direct is None:
        return _Head(server, scope)
    head: _Head | None = direct.memo.get(server)
    if head is None:
        head = direct.memo[server] = _Head(server, scope)
        return head
    return head.for_target(scope)


async def _handshake(
    server: TransportHost, scope: Scope, method: str, reply: Responder, cors: Headers
) -> None:
    query = query_of(scope)
    error = server.check_handshake(query, method)
    if error is not None:
        if error is EngineError.BAD_HANDSHAKE_METHOD:
            server.refused(scope, error, method=method)
        else:
            server.refused(scope, error, protocol=query.get("EIO"))
        await respond_error(reply, error, cors)
        return
    request = server.request_info(scope)
    refusal = await server.allowed(request)
    if refusal is not None:
        server.refused(scope, EngineError.FORBIDDEN, refusal, message=refusal)
        await respond_error(reply, EngineError.FORBIDDEN, cors, refusal)
        return
    if not server.running:
        server.refused(scope, EngineError.BAD_REQUEST, NOT_RUNNING)
        await respond_error(reply, EngineError.BAD_REQUEST, cors, NOT_RUNNING)
        return
    protocol = server.protocol_of(query)
    assert protocol is not None
    session = await server.open_session(protocol, "polling", request)
    open_text = server.open_packet(session)
    headers = cors + server.handshake_headers(session)
    if protocol == 4:
        await reply(200, open_text.encode(), extra=headers)
        return
    body = encode_outbox_payload([Packet(PacketType.OPEN, open_text[1:])], protocol=3, b64=True)
    await _respond_payload(reply, body, headers)


async def _poll(
    session: EngineSession,
    b64: str | None,
    receive: Receive,
    reply: Responder,
    cors: Headers,
    compression: PayloadCompression | None,
) -> None:
    # The embedded server holds the poll: the scheduler answers it once the session has something to send,
    # and the server's connection, reading for the client's next request, sees a client that leaves. Under
    # another server (or for a request that closes its connection) the poll waits in this task, watching
    # receive() for http.disconnect.
    direct = reply.direct
    try:
        if direct is not None and direct.can_hold:
            held = _HeldPoll(session, bool(b64), cors, compression)
            entries = session.hold_poll(held)
            if entries is None:
                held.answer = direct.hold(held.gone, _hold_bound(session))
                return
        else:
            entries = await session.poll(lambda: _until_disconnect(receive))
    except PollRefused:
        entries = []
    if entries is None:
        _poll_gone(session)
        return
    if not entries:
        await respond_error(reply, EngineError.BAD_REQUEST, cors)
        return
    body = encode_outbox_payload(entries, protocol=session.protocol, b64=bool(b64))
    if compression is not None and not wants_compression(entries):
        compression = None
    await _respond_payload(reply, body, cors, compression)


class _HeldPoll:
    """A long-poll GET held by the embedded server (``DirectHttp.hold``): answered from the engine
    scheduler's flush once the session has something to send, with no task waiting for it."""

    __slots__ = ("answer", "b64", "compression", "cors", "done", "session")

    def __init__(
        self, session: EngineSession, b64: bool, cors: Headers, compression: PayloadCompression | None
    ) -> None:
        self.session = session
        self.b64 = b64
        self.cors = cors
        self.compression = compression
        self.answer: HeldAnswer | None = None
        self.done = False

    def flush(self) -> None:
        """The scheduler's call: entries are queued or the outbox closed; answer with them."""
        if self.done:
            return
        self.done = True
        assert self.answer is not None, "set right after the hold"
        self.answer(200, *self.response(self.session.take_held()))

    def response(self, entries: list[OutboxEntry]) -> tuple[Headers, bytes]:
        """The headers and body of the answer carrying *entries*."""
        body = encode_outbox_payload(entries, protocol=self.session.protocol, b64=self.b64)
        data, content_type = _payload_body(body)
        headers = self.cors
        if self.compression is not None and wants_compression(entries):
            data, headers = self.compression.apply(data, headers)
        return [(b"content-type", content_type), *headers], data

    def gone(self) -> None:
        """The server's call: the client left (or the bound passed) before the answer."""
        if not self.done:
            self.done = True
            self.session.release_held()
            _poll_gone(self.session)


def _hold_bound(session: EngineSession) -> float:
    # A pending poll is answered within a ping interval (v4: the server's ping; v3: the client's ping gets
    # its pong), and a session that misses its heartbeat closes, which answers it too: this is a backstop.
    config = session.config
    return config.ping_interval + config.ping_timeout + config.flush_timeout


def _poll_gone(session: EngineSession) -> None:
    logger.info("engine.io session %s: poll connection closed prematurely", session.sid)
    session.close(EngineCloseReason.TRANSPORT_ERROR)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _post(
    session: EngineSession, declared: int | None, receive: Receive, reply: Responder, cors: Headers
) -> None:
    if not session.connected or session.transport != "polling":
        # As Node: a session carried by a WebSocket takes no polling request (TRANSPORT_MISMATCH), a POST
        # no more than a GET.
        await respond_error(reply, EngineError.BAD_REQUEST, cors)
        return
    if not session.machine.start_post():
        session.protocol_error("data request overlap from client")
        await respond_error(reply, EngineError.BAD_REQUEST, cors)
        return
    try:
        await _read_and_deliver(session, declared, receive, reply, cors)
    finally:
        session.machine.end_post()


async def _read_and_deliver(
    session: EngineSession, declared: int | None, receive: Receive, reply: Responder, cors: Headers
) -> None:
    limit = session.config.max_payload
    try:
        body = await read_body(receive, limit, declared)
        if body is None:
            return
        await _deliver(session, payload_packets(body, protocol=session.protocol, max_payload=limit))
    except PayloadTooLarge as exc:
        session.protocol_error(exc.reason)
        await reply(413, b"Payload Too Large", extra=cors)
        return
    except ProtocolError as exc:
        session.protocol_error(exc.reason)
        await respond_error(reply, EngineError.BAD_REQUEST, cors)
        return
    if session.close_reason is EngineCloseReason.PARSE_ERROR:
        await respond_error(reply, EngineError.BAD_REQUEST, cors)
    else:
        await reply(200, b"ok", extra=cors)


async def _deliver(session: EngineSession, packets: Iterator[Packet]) -> None:
    # Decoded as they are delivered, and the loop turns every PACKETS_PER_STEP: a body of a megabyte may hold
    # a hundred thousand tiny packets, whose handlers must not keep every other client waiting.
    budget = PACKETS_PER_STEP
    for packet in packets:
        budget -= 1
        if not budget:
            budget = PACKETS_PER_STEP
            await anyio.lowlevel.checkpoint()
        # Back-pressure: the POST is answered only once its packets are accepted; pending GETs drain the
        # outbox meanwhile, and the client sends no next POST before this answer.
        if not session.accepts_input():
            await session.until_accepting()
        if not session.connected:
            return  # as Node: what follows a close (or a bad packet) is not delivered
        session.receive(packet)


async def _respond_payload(
    reply: Responder, body: str | bytes, cors: Headers, compression: PayloadCompression | None = None
) -> None:
    data, content_type = _payload_body(body)
    if compression is not None:
        data, cors = compression.apply(data, cors)
    await reply(200, data, content_type, cors)


def _payload_body(body: str | bytes) -> tuple[bytes, bytes]:
    # A text payload (JSON, or v3's base64) is text/plain; a binary one (v3 binary) an octet stream.
    return (body.encode(), TEXT_PLAIN) if isinstance(body, str) else (body, OCTET_STREAM)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# Served from the embedded server's read callback (``DirectHttp.serve_sync``), with no task: a long-poll GET
# and a POST of one packet the session accepts now, of a known polling session. Each answers exactly as
# handle_http would; everything else (a handshake, an unknown session, a payload to refuse or to deliver in
# steps, back-pressure) returns False before doing anything, and goes to handle_http.


def _serve_now(server: TransportHost, scope: Scope, direct: DirectHttp, body: bytes) -> bool:
    if not server.handles(scope["path"]):
        return False
    head = _head_of(server, scope, direct)
    query = head.query
    sid = query.get("sid")
    if sid is None or query.get("transport") != "polling":
        return False
    session = server.lookup(sid)
    if session is None:
        return False
    method = scope["method"]
    if method == "GET":
        return _poll_now(session, query.get("b64"), direct, head)
    if method == "POST":
        return _post_now(session, body, direct, head.cors)
    return False


def _poll_now(session: EngineSession, b64: str | None, direct: DirectHttp, head: _Head) -> bool:
    if not direct.can_hold:
        return False
    held = _HeldPoll(session, bool(b64), head.cors, head.compression)
    try:
        entries = session.hold_poll(held)
    except PollRefused:
        entries = []
    if entries is None:
        held.answer = direct.hold(held.gone, _hold_bound(session))
    elif not entries:
        _refuse_now(direct, head.cors)
    else:
        held.done = True
        direct.respond_now(200, *held.response(entries))
    return True


def _post_now(session: EngineSession, body: bytes, direct: DirectHttp, cors: Headers) -> bool:
    machine = session.machine
    limit = session.config.max_payload
    if not session.connected or session.transport != "polling" or machine.post_pending or len(body) > limit:
        return False
    try:
        packets = list(payload_packets(body, protocol=session.protocol, max_payload=limit))
    except (PayloadTooLarge, ProtocolError):
        return False  # refused by handle_http, which tells the session
    if len(packets) != 1 or not session.accepts_input():
        return False
    machine.start_post()
    try:
        session.receive(packets[0])
    finally:
        machine.end_post()
    if session.close_reason is EngineCloseReason.PARSE_ERROR:
        _refuse_now(direct, cors)
    else:
        direct.respond_now(200, [(b"content-type", TEXT_PLAIN), *cors], b"ok")
    return True


def _refuse_now(direct: DirectHttp, cors: Headers) -> None:
    # respond_error's answer to a bad request, written without waiting.
    direct.respond_now(
        400, [(b"content-type", b"application/json"), *cors], error_body(EngineError.BAD_REQUEST)
    )
