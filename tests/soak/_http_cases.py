# ruff: noqa: E501  (a corpus of raw requests reads best one request a line)
"""The HTTP corpus: raw requests that HTTP servers have disagreed about (request smuggling, RFC 9112's
framing rules, the limits) with what sioactor's embedded server answers to each, in order.

``{sid}`` in a request is replaced by a fresh polling session's id and ``{poll}`` by the polling path with
it, so a body that is read reaches Engine.IO, which answers ``ok`` to a good one. ``expect`` lists the status
of every response on the connection, in order; the server closes the connection after the last (every case
ends with ``connection: close`` or a refusal). A request smuggled behind a refused one must never be
answered, so the count of statuses is part of the expectation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    request: bytes
    expect: tuple[int, ...]


HANDSHAKE = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nhost: x\r\n"
LAST = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
SMUGGLED = b"GET /socket.io/?EIO=4&transport=polling&smuggled=1 HTTP/1.1\r\nhost: x\r\n\r\n"
POST = b"POST {poll} HTTP/1.1\r\nhost: x\r\n"
CHUNKED = POST + b"transfer-encoding: chunked\r\n"


def refused(name: str, head: bytes, status: int = 400) -> Case:
    """A request (framing headers and all) answered *status* once, then closed: what follows is unread."""
    return Case(name, head + b"\r\n" + SMUGGLED, (status,))


CASES: tuple[Case, ...] = (
    # --- well-formed, for contrast
    Case("handshake", HANDSHAKE + b"connection: close\r\n\r\n", (200,)),
    Case("pipelined handshakes", HANDSHAKE + b"\r\n" + HANDSHAKE + b"\r\n" + LAST, (200, 200, 200)),
    Case("empty lines before a request", b"\r\n\r\n" + LAST, (200,)),
    Case("POST with content-length", POST + b"content-length: 2\r\nconnection: close\r\n\r\n40", (200,)),
    Case("POST then pipelined GET", POST + b"content-length: 2\r\n\r\n40" + LAST, (200, 200)),
    Case("chunked POST", CHUNKED + b"connection: close\r\n\r\n2\r\n40\r\n0\r\n\r\n", (200,)),
    Case(
        "chunked POST with extensions and trailers",
        CHUNKED + b"connection: close\r\n\r\n1;a=b\r\n4\r\n1;c\r\n0\r\n0\r\nx-t: 1\r\n\r\n",
        (200,),
    ),
    Case("chunk size in upper-case hex", CHUNKED + b"connection: close\r\n\r\nA\r\n42[\"ab\",1]\r\n00\r\n\r\n", (200,)),
    Case("expect 100-continue, body sent at once", POST + b"expect: 100-continue\r\ncontent-length: 2\r\nconnection: close\r\n\r\n40", (200,)),
    Case("Chunked in any case", POST + b"Transfer-Encoding: Chunked\r\nconnection: close\r\n\r\n2\r\n40\r\n0\r\n\r\n", (200,)),
    Case("h2c upgrade ignored", HANDSHAKE + b"connection: Upgrade, HTTP2-Settings, close\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", (200,)),
    Case("obs-text in a value", HANDSHAKE + b"x-a: caf\xc3\xa9 \xff\r\nconnection: close\r\n\r\n", (200,)),
    # Not the Engine.IO path, as for Node's engine.io (it compares the start of req.url with its path).
    Case("absolute-form target", b"GET http://x/socket.io/?EIO=4&transport=polling HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", (404,)),
    Case("asterisk-form OPTIONS", b"OPTIONS * HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", (404,)),
    Case("content-length with leading zeros", POST + b"content-length: 002\r\nconnection: close\r\n\r\n40", (200,)),
    Case("body over max_payload", POST + b"content-length: 200000\r\nconnection: close\r\n\r\n" + b"4" * 200_000, (413,)),
    Case("chunked body over max_payload", CHUNKED + b"connection: close\r\n\r\n30d40\r\n" + b"4" * 200_000 + b"\r\n0\r\n\r\n", (413,)),
    Case("unknown path", b"GET /elsewhere HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", (404,)),
    Case("HTTP/1.0 without host", b"GET /socket.io/?EIO=4&transport=polling HTTP/1.0\r\n\r\n", (200,)),
    # --- ambiguous body length (CL.TE / TE.CL smuggling)
    refused("content-length and transfer-encoding", CHUNKED + b"content-length: 4\r\n\r\n0\r\n\r\n"),
    refused("transfer-encoding after content-length", POST + b"content-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"),
    refused("duplicate content-length, same value", POST + b"content-length: 2\r\ncontent-length: 2\r\n\r\n40"),
    refused("duplicate content-length, other value", POST + b"content-length: 2\r\ncontent-length: 40\r\n\r\n40"),
    refused("content-length list", POST + b"content-length: 2, 2\r\n\r\n40"),
    refused("signed content-length", POST + b"content-length: +2\r\n\r\n40"),
    refused("negative content-length", POST + b"content-length: -1\r\n\r\n40"),
    refused("hex content-length", POST + b"content-length: 0x2\r\n\r\n40"),
    refused("content-length with a space inside", POST + b"content-length: 1 0\r\n\r\n40"),
    refused("overflowing content-length", POST + b"content-length: 99999999999999999999999\r\n\r\n40"),
    refused("duplicate transfer-encoding", CHUNKED + b"transfer-encoding: chunked\r\n\r\n0\r\n\r\n"),
    refused("transfer-encoding: chunked, chunked", POST + b"transfer-encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
    refused("transfer-encoding: gzip, chunked", POST + b"transfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    # RFC 9112 section 6.3: chunked is not the last coding, so the length is unknown: 400, then close.
    refused("transfer-encoding: identity", POST + b"transfer-encoding: identity\r\n\r\n40"),
    refused("transfer-encoding: xchunked", POST + b"transfer-encoding: xchunked\r\n\r\n0\r\n\r\n"),
    refused("transfer-encoding with a space before the colon", POST + b"transfer-encoding : chunked\r\n\r\n0\r\n\r\n"),
    # A tab is whitespace before a value (RFC 9110's OWS): chunked, and what follows the body is a request.
    Case("transfer-encoding after a tab", POST + b"transfer-encoding:\tchunked\r\n\r\n2\r\n40\r\n0\r\n\r\n" + LAST, (200, 200)),
    refused("chunked over HTTP/1.0", b"POST {poll} HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"),
    # --- malformed heads
    refused("obs-fold", HANDSHAKE + b"x-a: 1\r\n folded\r\n"),
    refused("bare LF line ending", HANDSHAKE + b"x-a: 1\nx-b: 2\r\n"),
    refused("head ending in bare LFs", b"GET / HTTP/1.1\nhost: x\n\n"),
    refused("bare CR in a value", HANDSHAKE + b"x-a: a\rb\r\n"),
    refused("NUL in a value", HANDSHAKE + b"x-a: a\x00b\r\n"),
    refused("header without a colon", HANDSHAKE + b"nonsense\r\n"),
    refused("space inside a header name", HANDSHAKE + b"x a: 1\r\n"),
    refused("no host", b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nx-a: 1\r\n"),
    refused("two hosts", HANDSHAKE + b"host: y\r\n"),
    refused("lower-case method", b"get /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nhost: x\r\n"),
    refused("trailing space after the version", b"GET / HTTP/1.1 \r\nhost: x\r\n"),
    refused("DEL in the target", b"GET /\x7f HTTP/1.1\r\nhost: x\r\n"),
    refused("HTTP/0.9 request line", b"GET /\r\n"),
    refused("not HTTP", b"GET / FTP/1.1\r\nhost: x\r\n"),
    refused("CONNECT", b"CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n"),
    refused("HTTP/2.0", b"GET / HTTP/2.0\r\nhost: x\r\n", 505),
    refused("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n"),
    # The HTTP/0.9 and HTTP/2.0 cases on the Engine.IO path, with nothing after them: Node serves both
    # (_http_node.py), which a 404 for "/" or a refusal of the bytes that follow would hide.
    Case("HTTP/0.9 request line on the Engine.IO path", b"GET /socket.io/?EIO=4&transport=polling\r\n\r\n", (400,)),
    Case("HTTP/2.0 on the Engine.IO path", b"GET /socket.io/?EIO=4&transport=polling HTTP/2.0\r\nhost: x\r\n\r\n", (505,)),
    # --- limits
    refused("a 20 KiB header", HANDSHAKE + b"x-big: " + b"a" * 20_480 + b"\r\n", 431),
    refused("a 20 KiB target", b"GET /" + b"a" * 20_480 + b" HTTP/1.1\r\nhost: x\r\n", 431),
    refused("2,100 small headers", HANDSHAKE + b"x-a: 1\r\n" * 2_100, 431),
    # --- chunked bodies
    refused("chunk size not hex", CHUNKED + b"\r\nzz\r\n40\r\n0\r\n\r\n"),
    refused("overflowing chunk size", CHUNKED + b"\r\nfffffffffffffffffff\r\n40\r\n0\r\n\r\n"),
    refused("chunk size with a leading space", CHUNKED + b"\r\n 2\r\n40\r\n0\r\n\r\n"),
    refused("chunk data longer than its size", CHUNKED + b"\r\n1\r\n40\r\n0\r\n\r\n"),
    refused("chunk lines ending in bare LF", CHUNKED + b"\r\n2\n40\n0\n\n"),
    refused("chunk size line of spaces", CHUNKED + b"\r\n2   \r\n40\r\n0\r\n\r\n"),
    # --- WebSocket upgrades that must not upgrade
    refused(
        "WebSocket upgrade over HTTP/1.0",
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.0\r\nhost: x\r\nupgrade: websocket\r\n"
        b"connection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n",
    ),
    refused(
        "WebSocket upgrade with a bad key",
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n"
        b"connection: Upgrade\r\nsec-websocket-key: short\r\nsec-websocket-version: 13\r\n",
    ),
)  # fmt: skip
