"""A strict HTTP/1.1 request parser (RFC 9112), sans-IO: bytes in, request heads and body pieces out.

h11 took a large share of a long-polling server's CPU (its event machinery and per-header validation in
Python); a polling echo is two requests, so the head parse is on the hot path. This parser does the same
checks in C-level passes over the whole head: one ``translate`` for the bytes allowed, CR/LF counts, and
one anchored regex ``findall`` for the field lines (figures: bench/RESULTS.md, design measurements).

What it refuses, and why (each is a request-smuggling or desync vector, or a bound):
- a head over ``max_header_size`` → 431; bare CR or LF, obs-fold, whitespace before a colon, bad tokens,
  control bytes in values, missing or repeated Host on HTTP/1.1 → 400;
- both Content-Length and Transfer-Encoding, a repeated Content-Length or Transfer-Encoding, a
  non-digit length, Transfer-Encoding on HTTP/1.0 → 400; a transfer coding other than ``chunked`` → 501;
- chunk sizes that are not 1 to 16 hex digits, chunk data not followed by CRLF, control bytes in chunk
  extensions, oversized chunk-size lines or trailers → 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from sioactor._errors import HttpError

__all__ = ("END_OF_BODY", "EndOfBody", "HttpError", "Request", "RequestParser")

_TCHAR: Final = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VCHAR: Final = bytes(range(0x21, 0x7F))
# Field values: visible ASCII, space, tab, obs-text; anything else (CR, LF, NUL, other controls) is refused.
_FIELD_CHARS: Final = _VCHAR + b" \t" + bytes(range(0x80, 0x100))
_HEAD_CHARS: Final = _FIELD_CHARS + b"\r\n"
_HEX: Final = b"0123456789abcdefABCDEF"
# One field line, anchored at a line start: a token name, a colon, the value trimmed of OWS. A line that
# does not match (obs-fold, space before the colon, no colon) leaves the match count short of the lines.
_FIELD_LINE: Final = re.compile(rb"^([-!#$%&'*+.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*\r\n", re.MULTILINE)
_FRAMING_FIELDS: Final = frozenset(
    (b"content-length", b"transfer-encoding", b"host", b"connection", b"expect")
)
_MAX_CHUNK_LINE: Final = 1024
_MAX_LENGTH_DIGITS: Final = 18


# Not frozen: a frozen dataclass sets each field through object.__setattr__, slower per request.
@dataclass(slots=True, kw_only=True)
class Request:
    """A parsed request head. Header names are lower-cased; values keep their bytes, trimmed of OWS.

    Read-only by convention: a parser hands the same object out again for a repeated head. ``memo`` is
    for what is derived from the head alone (the server's scope, an app's parsed query): made once per head.
    """

    method: bytes
    target: bytes
    http_version: bytes
    headers: list[tuple[bytes, bytes]]
    keep_alive: bool
    expect_continue: bool
    memo: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)


class EndOfBody:
    """The request body is complete (the singleton `END_OF_BODY`)."""

    __slots__ = ()


END_OF_BODY: Final = EndOfBody()


def is_token(value: bytes) -> bool:
    """Tell if *value* is an RFC 9110 token (a method or a field name)."""
    return bool(value) and not value.translate(None, _TCHAR)


def is_field_value(value: bytes) -> bool:
    """Tell if *value* holds only bytes allowed in a field value (no CR, LF, NUL or other controls)."""
    return not value.translate(None, _FIELD_CHARS)


def parse_fields(block: bytes) -> list[tuple[bytes, bytes]]:
    """The field lines of *block* (each ending in CRLF, bytes already checked) with lower-cased names."""
    fields = _FIELD_LINE.findall(block)
    if len(fields) != block.count(b"\r\n"):
        raise HttpError(400, "malformed header line")
    return [(name.lower(), value) for name, value in fields]


def _check_bytes(head: bytes) -> None:
    # Every byte at once: no NUL or other controls anywhere, and CR and LF only as CRLF pairs.
    crlfs = head.count(b"\r\n")
    if head.translate(None, _HEAD_CHARS) or head.count(b"\r") != crlfs or head.count(b"\n") != crlfs:
        raise HttpError(400, "invalid byte, bare CR or bare LF in the head")


def _parse_request_line(line: bytes) -> tuple[bytes, bytes, bytes]:
    parts = line.split(b" ")
    if len(parts) != 3:
        raise HttpError(400, "malformed request line")
    method, target, version = parts
    if not is_token(method) or not target or target.translate(None, _VCHAR):
        raise HttpError(400, "malformed request line")
    if version == b"HTTP/1.1":
        return method, target, b"1.1"
    if version == b"HTTP/1.0":
        return method, target, b"1.0"
    if version.startswith(b"HTTP/"):
        raise HttpError(505, "unsupported HTTP version")
    raise HttpError(400, "malformed request line")


@dataclass(slots=True)
class _Framing:
    """What the headers say about the connection and the body, gathered in one pass."""

    content_length: int | None = None
    chunked: bool = False
    hosts: int = 0
    close: bool = False
    expect_continue: bool = False

    def note(self, name: bytes, value: bytes) -> None:
        if name == b"content-length":
            if self.content_length is not None:
                raise HttpError(400, "repeated Content-Length")
            if not value.isdigit() or len(value) > _MAX_LENGTH_DIGITS:
                raise HttpError(400, "invalid Content-Length")
            self.content_length = int(value)
        elif name == b"transfer-encoding":
            if self.chunked:
                raise HttpError(400, "repeated Transfer-Encoding")
            if value.lower() != b"chunked":
                raise HttpError(501, "unsupported Transfer-Encoding")
            self.chunked = True
        elif name == b"host":
            self.hosts += 1
        elif name == b"connection":
            self.close = self.close or b"close" in (t.strip() for t in value.lower().split(b","))
        elif name == b"expect":
            self.expect_continue = value.lower() == b"100-continue"

    def check(self, version: bytes) -> None:
        if self.chunked and self.content_length is not None:
            raise HttpError(400, "both Content-Length and Transfer-Encoding")
        if version == b"1.1" and self.hosts != 1:
            raise HttpError(400, "HTTP/1.1 needs exactly one Host header")
        if version == b"1.0" and (self.chunked or self.hosts > 1):
            raise HttpError(400, "invalid HTTP/1.0 framing")


# Parsed heads a connection remembers (see RequestParser._recent); a request is never changed once parsed.
_RECENT_HEADS: Final = 4

# Body states.
_IDLE, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _DONE = range(7)


class RequestParser:
    """Parse the requests of one connection: `next_request` for a head, then `next_body` until
    `END_OF_BODY`; bytes of a pipelined next request stay buffered for the next `next_request`."""

    __slots__ = ("_buffer", "_max_head", "_recent", "_remaining", "_state")

    def __init__(self, max_header_size: int) -> None:
        self._buffer = bytearray()
        self._max_head = max_header_size
        self._state = _IDLE
        self._remaining = 0
        # The last few heads parsed on this connection, with their result: a client on a keep-alive
        # connection repeats itself (a long-polling client alternates two heads, byte for byte), and a head's
        # parse is a pure function of its bytes (most of a request's parse is the head).
        self._recent: dict[bytes, tuple[Request, _Framing]] = {}

    def feed(self, data: bytes) -> None:
        """Append bytes read from the socket."""
        self._buffer += data

    @property
    def buffered(self) -> int:
        """Bytes received and not yet parsed."""
        return len(self._buffer)

    @property
    def body_done(self) -> bool:
        """Tell if the current request's body has been consumed to its end."""
        return self._state == _DONE

    def take_trailing(self) -> bytes:
        """Hand over the unparsed bytes (what followed an Upgrade request's head) and forget them."""
        data, self._buffer = bytes(self._buffer), bytearray()
        return data

    def next_request(self) -> Request | None:
        """The next request head, or None until more bytes arrive; raises `HttpError`."""
        buffer = self._buffer
        while buffer.startswith(b"\r\n"):  # RFC 9112 §2.2: empty lines before a request line are ignored
            del buffer[:2]
        end = buffer.find(b"\r\n\r\n", 0, self._max_head + 4)
        if end < 0:
            if len(buffer) > self._max_head:
                raise HttpError(431, "request head too large")
            if b"\n\n" in buffer:
                raise HttpError(400, "bare LF in the request head")
            return None
        head = bytes(buffer[:end])
        del buffer[: end + 4]
        known = self._recent.get(head)
        if known is not None:
            request, framing = known
            self._start_body(framing)
            return request
        return self._parse_head(head)

    def _parse_head(self, head: bytes) -> Request:
        _check_bytes(head)
        line_end = head.find(b"\r\n")
        if line_end < 0:
            method, target, version = _parse_request_line(head)
            headers = []
        else:
            method, target, version = _parse_request_line(head[:line_end])
            headers = parse_fields(head[line_end + 2 :] + b"\r\n")
        framing = _Framing()
        for name, value in headers:
            if name in _FRAMING_FIELDS:
                framing.note(name, value)
        framing.check(version)
        self._start_body(framing)
        request = Request(
            method=method,
            target=target,
            http_version=version,
            headers=headers,
            keep_alive=version == b"1.1" and not framing.close,
            expect_continue=framing.expect_continue,
        )
        if len(self._recent) >= _RECENT_HEADS:
            self._recent.clear()
        self._recent[head] = (request, framing)
        return request

    def _start_body(self, framing: _Framing) -> None:
        if framing.chunked:
            self._state = _CHUNK_SIZE
        elif framing.content_length:
            self._state, self._remaining = _LENGTH, framing.content_length
        else:
            self._state = _DONE

    def next_body(self) -> bytes | EndOfBody | None:
        """The next piece of the body (never empty), `END_OF_BODY`, or None until more bytes arrive."""
        while True:
            state = self._state
            if state == _DONE:
                return END_OF_BODY
            if state in (_LENGTH, _CHUNK_DATA):
                return self._take_data()
            if not self._step_chunked(state):
                return None

    def _take_data(self) -> bytes | None:
        buffer = self._buffer
        if not buffer:
            return None
        size = min(len(buffer), self._remaining)
        data = bytes(buffer[:size])
        del buffer[:size]
        self._remaining -= size
        if not self._remaining:
            self._state = _DONE if self._state == _LENGTH else _CHUNK_END
        return data

    def _step_chunked(self, state: int) -> bool:
        """Advance through chunk framing; tell if progress was made (False: more bytes needed)."""
        if state == _CHUNK_SIZE:
            return self._chunk_size()
        if state == _CHUNK_END:
            if len(self._buffer) < 2:
                return False
            if self._buffer[:2] != b"\r\n":
                raise HttpError(400, "chunk data not followed by CRLF")
            del self._buffer[:2]
            self._state = _CHUNK_SIZE
            return True
        return self._trailers()

    def _chunk_size(self) -> bool:
        buffer = self._buffer
        end = buffer.find(b"\r\n", 0, _MAX_CHUNK_LINE)
        if end < 0:
            if len(buffer) >= _MAX_CHUNK_LINE:
                raise HttpError(400, "chunk-size line too long")
            return False
        line = bytes(buffer[:end])
        del buffer[: end + 2]
        size, _, extension = line.partition(b";")
        size = size.rstrip(b" \t")
        if not 0 < len(size) <= 16 or size.translate(None, _HEX) or not is_field_value(extension):
            raise HttpError(400, "invalid chunk size")
        self._remaining = int(size, 16)
        self._state = _CHUNK_DATA if self._remaining else _TRAILERS
        return True

    def _trailers(self) -> bool:
        buffer = self._buffer
        if buffer.startswith(b"\r\n"):
            del buffer[:2]
            self._state = _DONE
            return True
        end = buffer.find(b"\r\n\r\n", 0, self._max_head + 4)
        if end < 0:
            if len(buffer) > self._max_head:
                raise HttpError(431, "trailers too large")
            return False
        trailers = bytes(buffer[: end + 2])
        del buffer[: end + 4]
        _check_bytes(trailers)
        parse_fields(trailers)  # validated, then dropped: ASGI has no request trailers
        self._state = _DONE
        return True
