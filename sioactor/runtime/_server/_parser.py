"""HTTP/1.1 request parsing for the embedded server: llhttp (Node's parser, through httptools), plus the
rules llhttp does not enforce, behind a pull interface: bytes in, request heads and body pieces out.

llhttp runs in C over whatever bytes arrive and calls back per element; the callbacks queue what it found
(a head, body pieces, the end of a body, or the error that stops the connection), and the connection
takes them in order (`next_request`, then `next_body` until `END_OF_BODY`). Pipelined requests thus wait
in the queue, and an error is raised only when the connection reaches it.

llhttp, strict (no leniencies), refuses with 400: malformed request lines and methods it does not know,
bare CR or LF, obs-fold, whitespace before a colon, bad tokens and control bytes, a repeated or non-digit
Content-Length, Content-Length with Transfer-Encoding, a Transfer-Encoding whose last coding is not
``chunked``, and bad chunk framing. Checked here, after the head (each a smuggling or desync vector, or a
bound llhttp leaves to its caller):
- a head (or trailer section) over ``max_header_size`` → 431;
- a repeated Transfer-Encoding, or one on HTTP/1.0, or a missing or repeated Host on HTTP/1.1 → 400;
- a Transfer-Encoding whose last coding is not ``chunked`` → 400 (RFC 9112 section 6.3; llhttp's rule too,
  but ours runs first), ``chunked`` after another coding → 501 (section 6.1);
- an HTTP version other than 1.0 and 1.1 → 505;
- CONNECT → 400: this server is no proxy, and llhttp would hand the connection over as a tunnel.

A keep-alive client repeating a head but for its target is recognised by the head's bytes (`_known_heads`),
and llhttp is not run for it again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Final

import httptools

from sioactor._errors import HttpError

from ._known_heads import KnownHeads

__all__ = ("END_OF_BODY", "EndOfBody", "HttpError", "Request", "RequestParser")

_TCHAR: Final = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VCHAR: Final = bytes(range(0x21, 0x7F))
# Field values: visible ASCII, space, tab, obs-text; anything else (CR, LF, NUL, other controls) is refused.
_FIELD_CHARS: Final = _VCHAR + b" \t" + bytes(range(0x80, 0x100))
_FRAMING_FIELDS: Final = frozenset((b"transfer-encoding", b"host", b"connection", b"expect"))
_VERSIONS: Final = {"1.1": b"1.1", "1.0": b"1.0"}


# Not frozen: a frozen dataclass sets each field through object.__setattr__, slower per request.
@dataclass(slots=True, kw_only=True)
class Request:
    """A parsed request head. Header names are lower-cased; values keep their bytes, trimmed of OWS.

    Read-only by convention: a parser hands the same object out again for a repeated head. ``memo`` is
    for what is derived from the method, version and headers alone (not the target, which a polling client
    changes on every request with a cache-busting ``t=``): requests of one connection that differ only in
    their target share it, so such work is done once per header set.
    """

    method: bytes
    target: bytes
    http_version: bytes
    headers: list[tuple[bytes, bytes]]
    keep_alive: bool
    expect_continue: bool
    memo: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)

    def retargeted(self, target: bytes) -> Request:
        """This request with another target: the same header set, its memo shared."""
        return Request(
            method=self.method,
            target=target,
            http_version=self.http_version,
            headers=self.headers,
            keep_alive=self.keep_alive,
            expect_continue=self.expect_continue,
            memo=self.memo,
        )


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


@dataclass(slots=True)
class _Framing:
    """What the headers say about the connection and the body, gathered in one pass (the rules llhttp
    leaves to its caller; see the module's docstring)."""

    chunked: bool = False
    hosts: int = 0
    close: bool = False
    expect_continue: bool = False

    def note(self, name: bytes, value: bytes) -> None:
        if name == b"transfer-encoding":
            if self.chunked:
                raise HttpError(400, "repeated Transfer-Encoding")
            codings = value.lower()
            if codings.rpartition(b",")[2].strip(b" \t") != b"chunked":
                # RFC 9112 section 6.3: the body's length cannot be known; 400, then close.
                raise HttpError(400, "Transfer-Encoding whose last coding is not chunked")
            if codings != b"chunked":
                raise HttpError(501, "unsupported Transfer-Encoding")
            self.chunked = True
        elif name == b"host":
            self.hosts += 1
        elif name == b"connection":
            self.close = self.close or b"close" in (t.strip() for t in value.lower().split(b","))
        elif name == b"expect":
            self.expect_continue = value.lower() == b"100-continue"

    def check(self, version: bytes) -> None:
        if version == b"1.1" and self.hosts != 1:
            raise HttpError(400, "HTTP/1.1 needs exactly one Host header")
        if version == b"1.0" and (self.chunked or self.hosts > 1):
            raise HttpError(400, "invalid HTTP/1.0 framing")


# Parsed heads a connection remembers (see RequestParser._recent and _shapes); a request is never changed
# once parsed.
_RECENT_HEADS: Final = 4


_Event = Request | bytes | EndOfBody | HttpError


class RequestParser:
    """Parse the requests of one connection: `next_request` for a head, then `next_body` until
    `END_OF_BODY`; what follows (a pipelined request) waits in the queue for the next `next_request`."""

    __slots__ = (
        "_body_done",
        "_capture",
        "_delivered",
        "_events",
        "_failed",
        "_first",
        "_framing",
        "_headers",
        "_idle",
        "_in_body",
        "_in_head",
        "_known",
        "_llhttp",
        "_max_head",
        "_progressed",
        "_raw",
        "_recent",
        "_shapes",
        "_trailers",
        "_unparsed",
        "_url",
    )

    def __init__(self, max_header_size: int, *, known_heads: bool = True) -> None:
        self._max_head = max_header_size
        self._events: deque[_Event] = deque()
        self._body_done = True  # the current request's END_OF_BODY has been taken
        self._failed = False  # an error is queued: llhttp is done with this connection
        self._raw: bytes | None = None  # bytes after an Upgrade request, not given to llhttp
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._in_head, self._in_body = True, False  # where llhttp is in the current message
        self._trailers = 0
        # Bounding what llhttp holds: bytes of this feed that came out as parts (head sizes, body pieces),
        # bytes of a head still in progress, bytes fed since the body last made progress (see feed).
        self._delivered = 0
        self._unparsed = 0
        self._framing = 0
        self._progressed = False
        # The last few heads parsed on this connection, with their sizes: a client on a keep-alive
        # connection may repeat itself byte for byte, and then gets the same `Request` (its memo kept).
        # By request line: the request, its size, and its header fields as llhttp gave them.
        self._recent: dict[tuple[bytes, str, bytes], tuple[Request, int, list[tuple[bytes, bytes]]]] = {}
        # The last few header sets checked, by method, version and fields as llhttp gave them: the first
        # request of each and its size without its target. A head that differs from a recent one only in
        # its target (a polling client's random `t=`) is not checked again, and shares that request's memo.
        self._shapes: dict[tuple[bytes, str, tuple[tuple[bytes, bytes], ...]], tuple[Request, int]] = {}
        # Heads llhttp accepted, recognised by their bytes next time (see _known_heads.py; off only in the
        # tests that compare the two ways). llhttp is between messages while idle; a feed that starts there
        # captures its first head (with its size without the target) to remember it.
        self._known: KnownHeads[tuple[Request, int]] | None = KnownHeads() if known_heads else None
        self._idle = True
        self._capture = False
        self._first: tuple[Request, int] | None = None
        self._llhttp = httptools.HttpRequestParser(self)

    def feed(self, data: bytes) -> None:
        """Parse bytes read from the socket; what they hold is queued, an error included."""
        if self._failed:
            return
        if self._raw is not None:
            self._raw += data
            return
        known = self._known
        if self._idle and known:
            assert known is not None
            taken = self._take_known(known, data)
            if taken:
                if taken == len(data):
                    return
                data = data[taken:]
        self._delivered = 0
        self._progressed = False
        self._capture = self._idle and known is not None
        self._first = None
        try:
            self._llhttp.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._raw = data[upgrade.args[0] :]  # not HTTP (a WebSocket's frames), unless served as HTTP
            return
        except httptools.HttpParserError as exc:
            # A rule of ours, raised in a callback, comes back as the context of llhttp's error.
            refusal = exc.__context__
            self._fail(refusal if isinstance(refusal, HttpError) else HttpError(400, f"bad request: {exc}"))
            return
        if self._first is not None:
            self._remember(data, *self._first)
        # llhttp emits each span as it goes, but httptools joins a header's pieces until it is complete, so
        # the bytes of an unfinished head, chunk line or trailer are held: bounded by max_header_size (give
        # or take one read, for a trailer or chunk line).
        if self._in_head:
            self._unparsed += len(data) - self._delivered
            if self._unparsed > self._max_head:
                self._fail(HttpError(431, "request head too large"))
        elif self._in_body:
            self._framing = 0 if self._progressed else self._framing + len(data)
            if self._framing > self._max_head:
                self._fail(HttpError(400, "chunk framing or trailers too large"))

    def _take_known(self, known: KnownHeads[tuple[Request, int]], data: bytes) -> int:
        # Whole messages with remembered heads at the start of *data*, queued as llhttp's would be; how many
        # bytes they took (the rest goes to llhttp, which is between messages).
        taken = 0
        events = self._events
        while (match := known.match(data, taken)) is not None:
            (first, size), target = match.head, match.target
            if size + len(target) > self._max_head:
                break  # llhttp's path refuses it
            events.append(first if target == first.target else first.retargeted(target))
            if match.body:
                events.append(match.body)
            events.append(END_OF_BODY)
            taken = match.end
        return taken

    def _remember(self, data: bytes, request: Request, size: int) -> None:
        # The first head of a feed that started between messages, accepted: remembered unless its framing
        # needs llhttp every time (chunked, an upgrade, 100-continue), or that ends the connection (llhttp
        # refuses what follows it).
        if self._known is None or request.expect_continue or not request.keep_alive:
            return
        length = 0
        for name, value in request.headers:
            if name == b"content-length":
                length = int(value)
            elif name in (b"transfer-encoding", b"upgrade"):
                return
        self._known.remember(
            data, request.method, request.target, (request, size - len(request.target)), length
        )

    def close(self) -> None:
        """Let llhttp go now: it holds this parser's callbacks, a reference cycle left to the collector."""
        del self._llhttp
        self._failed = True

    def _fail(self, error: HttpError) -> None:
        self._failed = True
        self._events.append(error)

    @property
    def buffered(self) -> int:
        """Bytes received and not yet taken (a queued head or end counts one)."""
        raw = len(self._raw) if self._raw is not None else 0
        return raw + sum(len(event) if isinstance(event, bytes) else 1 for event in self._events)

    @property
    def body_done(self) -> bool:
        """Tell if the current request's body has been taken to its end (only `END_OF_BODY` is left)."""
        return self._body_done or (bool(self._events) and self._events[0] is END_OF_BODY)

    def take_trailing(self) -> bytes:
        """Hand over the bytes that followed an Upgrade request's head, and forget them."""
        data, self._raw = self._raw or b"", None
        return data

    def next_request(self) -> Request | None:
        """The next request head, or None until more bytes arrive; raises `HttpError`."""
        events = self._events
        if not events and self._raw is not None:
            # An Upgrade request served as an ordinary one (not a WebSocket): parsing goes on.
            data, self._raw = self._raw, None
            self.feed(data)
        if not events:
            return None
        event = events[0]
        if isinstance(event, HttpError):
            raise event
        events.popleft()
        assert isinstance(event, Request), "the previous request's body is taken first"
        self._body_done = bool(events) and events[0] is END_OF_BODY
        if self._body_done:
            events.popleft()
        return event

    def next_body(self) -> bytes | EndOfBody | None:
        """The next piece of the body (never empty), `END_OF_BODY`, or None until more bytes arrive."""
        if self._body_done:
            return END_OF_BODY
        events = self._events
        if not events:
            return None
        event = events[0]
        if isinstance(event, HttpError):
            raise event
        events.popleft()
        if isinstance(event, EndOfBody):
            self._body_done = True
            return END_OF_BODY
        assert isinstance(event, bytes)
        return event

    def whole_body(self) -> bytes | None:
        """Take the current request's whole body if it is all here (through its end); else ``None``, and
        nothing is taken."""
        if self._body_done:
            return b""
        pieces: list[bytes] = []
        for event in self._events:
            if event is END_OF_BODY:
                break
            if not isinstance(event, bytes):
                return None  # an error: the connection's task raises it
            pieces.append(event)
        else:
            return None
        for _ in range(len(pieces) + 1):
            self._events.popleft()
        self._body_done = True
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    # llhttp's callbacks (through httptools); a message's state is reset when the previous one completes ---

    def on_message_begin(self) -> None:
        self._idle = False

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._in_head:
            self._headers.append((name, value))  # as sent: normalised once per header set (_new_request)
            return
        self._trailers += len(name) + len(value) + 4  # validated by llhttp, then dropped: ASGI has none
        if self._trailers > self._max_head:
            raise HttpError(431, "trailers too large")

    def on_headers_complete(self) -> None:
        self._in_head, self._in_body = False, True
        self._progressed = True
        llhttp, url, headers = self._llhttp, self._url, self._headers
        line = (llhttp.get_method(), llhttp.get_http_version(), url)
        known = self._recent.get(line)
        if known is not None and known[2] == headers:  # the same head, byte for byte
            request, size, _ = known
        else:
            request, size = self._new_request(line, headers)
        self._delivered += size
        self._events.append(request)
        if self._capture:
            self._capture = False
            self._first = (request, size)

    def _new_request(
        self, line: tuple[bytes, str, bytes], headers: list[tuple[bytes, bytes]]
    ) -> tuple[Request, int]:
        method, llhttp_version, url = line
        key = (method, llhttp_version, tuple(headers))
        known = self._shapes.get(key)
        if known is None:
            request, size = self._parse_head(line, headers)
            if len(self._shapes) >= _RECENT_HEADS:
                self._shapes.clear()
            self._shapes[key] = (request, size - len(url))
        else:  # a recent header set with another target: checked already, the memo shared
            first, size = known[0], known[1] + len(url)
            if size > self._max_head:
                raise HttpError(431, "request head too large")
            request = first.retargeted(url)  # llhttp's method is first's: the method is part of the key
        if len(self._recent) >= _RECENT_HEADS:
            self._recent.clear()
        self._recent[line] = (request, size, headers)
        return request, size

    def _parse_head(
        self, line: tuple[bytes, str, bytes], fields: list[tuple[bytes, bytes]]
    ) -> tuple[Request, int]:
        method, llhttp_version, url = line
        # Names lower-cased; llhttp keeps a value's trailing whitespace, which is not part of it.
        headers = [(name.lower(), value.rstrip(b" \t")) for name, value in fields]
        size = len(method) + len(url) + 12 + 4 * len(headers) + sum(map(len, chain.from_iterable(headers)))
        if size > self._max_head:
            raise HttpError(431, "request head too large")
        version = _VERSIONS.get(llhttp_version)
        if version is None:
            if llhttp_version == "0.9":  # llhttp's reading of a request line without a version
                raise HttpError(400, "malformed request line")
            raise HttpError(505, "unsupported HTTP version")
        if method == b"CONNECT":
            raise HttpError(400, "CONNECT is not served: this server is no proxy")
        framing = _Framing()
        for name, value in headers:
            if name in _FRAMING_FIELDS:
                framing.note(name, value)
        framing.check(version)
        request = Request(
            method=method,
            target=url,
            http_version=version,
            headers=headers,
            keep_alive=version == b"1.1" and not framing.close,
            expect_continue=framing.expect_continue,
        )
        return request, size

    def on_body(self, body: bytes) -> None:
        self._delivered += len(body)
        self._progressed = True
        self._events.append(body)

    def on_chunk_header(self) -> None:
        self._progressed = True

    def on_message_complete(self) -> None:
        self._events.append(END_OF_BODY)
        self._progressed = True
        self._in_body = False
        self._in_head = True  # what comes next is the next request's head
        self._idle = self._llhttp.should_keep_alive()  # else llhttp refuses what follows: so must we
        self._unparsed = self._trailers = 0
        self._url = b""
        self._headers = []
