"""HTTP/1.1 response heads and body framing, built by hand (RFC 9112 §6).

h11's ``send`` validated and re-encoded every header through its event objects; here the head is joined
once. The app's header names and values are still checked (a CR or LF from the app would let a value
inject headers), and the framing rules h11 enforced are kept: a declared Content-Length is held to, a
streamed body is chunked for HTTP/1.1 and close-delimited for HTTP/1.0, and HEAD, 1xx, 204 and 304
responses carry no body.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from ._parser import is_field_value, is_token

__all__ = ("CONTINUE", "ResponseEncoder", "error_response")

CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
_STATUS_LINES: Final = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode() for s in HTTPStatus}
_FINAL_CHUNK: Final = b"0\r\n\r\n"


def _bodiless(status: int) -> bool:
    """1xx, 204 and 304 responses carry no body (RFC 9110 §6.4.1)."""
    return status < 200 or status in (204, 304)


def _status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    if line is None:
        if not 100 <= status <= 999:
            raise RuntimeError(f"invalid HTTP status {status}")
        line = b"HTTP/1.1 %d \r\n" % status
    return line


class ResponseEncoder:
    """Encode one response: `head` once, then `body` pieces, then `end`.

    ``close`` tells, once the head is built, whether the connection must close after this response.
    Misuse by the app (bad header bytes, more or fewer bytes than its Content-Length) raises
    ``RuntimeError``, as h11's ``LocalProtocolError`` did.
    """

    __slots__ = ("_bodiless", "_chunked", "_remaining", "_version", "close")

    def __init__(self, *, version: bytes, keep_alive: bool, is_head: bool) -> None:
        self._version = version
        self._bodiless = is_head
        self._chunked = False
        self._remaining: int | None = None
        self.close = not keep_alive

    def head(self, status: int, headers: list[tuple[bytes, bytes]], complete_length: int | None) -> bytes:
        """The status line and headers; *complete_length* is the body's size when it is sent whole."""
        if _bodiless(status):
            self._bodiless = True
        out = bytearray(_status_line(status))
        framed = False
        for name, value in headers:
            framed = self._note(name.lower(), value) or framed
            if not is_token(name) or not is_field_value(value):
                raise RuntimeError(f"invalid response header {name!r}")
            out += b"%s: %s\r\n" % (name, value)
        if not framed and not (self._bodiless and complete_length is None):
            out += self._framing(status, complete_length)
        if self.close:
            out += b"connection: close\r\n"
        out += b"\r\n"
        return bytes(out)

    def whole(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
        """A complete response with *body*, its *headers* trusted: valid, and framing none of it (see
        ``DirectHttp.respond``), so nothing is checked or noted; one bytes object to write."""
        no_body_status = _bodiless(status)
        out = bytearray(_status_line(status))
        for name, value in headers:
            out += b"%s: %s\r\n" % (name, value)
        if not no_body_status:
            out += b"content-length: %d\r\n" % len(body)
        if self.close:
            out += b"connection: close\r\n"
        out += b"\r\n"
        if not (self._bodiless or no_body_status):  # a HEAD request's answer has its length, no body
            out += body
        return bytes(out)

    def _note(self, name: bytes, value: bytes) -> bool:
        if name == b"content-length":
            if not value.isdigit():
                raise RuntimeError("invalid Content-Length in the response")
            self._remaining = int(value)
            return True
        if name == b"transfer-encoding":
            if value.lower() != b"chunked":
                raise RuntimeError("only chunked Transfer-Encoding is supported in responses")
            self._chunked = self._version == b"1.1"
            self.close = self.close or not self._chunked
            return True
        if name == b"connection" and b"close" in value.lower():
            self.close = True
        return False

    def _framing(self, status: int, complete_length: int | None) -> bytes:
        if _bodiless(status):
            return b""
        if complete_length is not None:
            self._remaining = complete_length
            return b"content-length: %d\r\n" % complete_length
        if self._version == b"1.1":
            self._chunked = True
            return b"transfer-encoding: chunked\r\n"
        self.close = True  # an HTTP/1.0 client reads a streamed body until the connection closes
        return b""

    def body(self, data: bytes) -> bytes:
        """The bytes that carry *data* on the wire (nothing for a bodiless response)."""
        if self._bodiless or not data:
            return b""
        if self._remaining is not None:
            if len(data) > self._remaining:
                raise RuntimeError("response body longer than its Content-Length")
            self._remaining -= len(data)
        if self._chunked:
            return b"%x\r\n%s\r\n" % (len(data), data)
        return data

    def end(self) -> bytes:
        """The bytes that end the body (the last chunk when chunked)."""
        if self._bodiless:
            return b""
        if self._remaining:
            raise RuntimeError("response body shorter than its Content-Length")
        return _FINAL_CHUNK if self._chunked else b""


def error_response(status: int) -> bytes:
    """A complete, self-contained error response that closes the connection."""
    phrase = HTTPStatus(status).phrase
    body = phrase.encode()
    head = f"HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
    return f"{head}content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body
