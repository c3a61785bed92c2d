"""The answer to a WebSocket opening handshake (RFC 6455 §4.2.2), built without websockets' objects.

websockets' ``ServerProtocol().accept`` builds a protocol object, a ``Headers`` copy of the request, a
``Response`` and a formatted date for each handshake: about a sixth of the CPU time of opening a Socket.IO
connection. `switching_protocols` answers the well-formed request (GET over HTTP/1.1, one ``Upgrade:
websocket``, ``Connection`` naming ``upgrade``, version 13, one key of 16 bytes) itself, with the same
headers websockets sends minus ``Date`` (optional in a 1xx answer, RFC 9110 §6.6.1); anything else returns
``None`` and goes to websockets, whose error answers (400, 405, 426, 505 with their explanations) are
kept as they are. No extension is negotiated here, as websockets does without one configured; the app's
direct accept may add permessage-deflate's answer as one more header (``_ws_deflate.py``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from typing import Final

from websockets.datastructures import Headers
from websockets.http11 import Request as WsRequest
from websockets.server import ServerProtocol

from ._parser import Request, is_field_value, is_token

__all__ = (
    "HANDSHAKE_FAILED",
    "HANDSHAKE_REFUSED",
    "accept_value",
    "answer_by_websockets",
    "switching_protocols",
)

# The answers to a handshake the app refused (closed before accepting), or failed on (raised before deciding).
HANDSHAKE_REFUSED = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
HANDSHAKE_FAILED = b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"

_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_HEAD: Final = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"


def accept_value(key: bytes) -> bytes:
    """``Sec-WebSocket-Accept`` for the client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def switching_protocols(
    request: Request, subprotocol: str | None, headers: Iterable[tuple[bytes, bytes]]
) -> bytes | None:
    """The 101 answer accepting *request*, with the app's *subprotocol* and extra *headers*; ``None`` when
    the request is not a plain valid handshake (websockets then answers it).

    Raises:
        RuntimeError: the app's header name or value is not valid HTTP (a CR or LF would inject headers).
    """
    key = _valid_key(request)
    if key is None:
        return None
    out = bytearray(_HEAD)
    out += b"Sec-WebSocket-Accept: %s\r\n" % accept_value(key)
    extra = list(headers)
    if subprotocol:
        extra.insert(0, (b"Sec-WebSocket-Protocol", subprotocol.encode("latin-1")))
    for name, value in extra:
        if not is_token(name) or not is_field_value(value):
            raise RuntimeError(f"invalid websocket.accept header {name!r}")
        out += b"%s: %s\r\n" % (name, value)
    out += b"\r\n"
    return bytes(out)


def _valid_key(request: Request) -> bytes | None:
    if request.method != b"GET" or request.http_version != b"1.1":
        return None
    key: bytes | None = None
    upgrade = version = connection = False
    for name, value in request.headers:
        if name == b"sec-websocket-key":
            if key is not None:
                return None
            key = value
        elif name == b"sec-websocket-version":
            if version or value != b"13":
                return None
            version = True
        elif name == b"upgrade":
            if upgrade or value.lower() != b"websocket":
                return None
            upgrade = True
        elif name == b"connection" and not connection:
            connection = any(token.strip().lower() == b"upgrade" for token in value.split(b","))
    if key is None or not (upgrade and version and connection):
        return None
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
    except binascii.Error:
        return None
    return key


def answer_by_websockets(
    request: Request, subprotocol: str | None, headers: Iterable[tuple[bytes, bytes]]
) -> tuple[bytes, bool]:
    """websockets' answer to *request* and whether it accepts: a 101 with the app's *subprotocol* and
    *headers*, or its explained refusal (400, 405, 426, 505) after which the connection closes."""
    fields = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers)
    response = ServerProtocol().accept(WsRequest(path=request.target.decode("latin-1"), headers=fields))
    if response.status_code != 101:
        return response.serialize(), False
    if subprotocol:
        response.headers["Sec-WebSocket-Protocol"] = subprotocol
    for name, value in headers:
        response.headers[name.decode("latin-1")] = value.decode("latin-1")
    return response.serialize(), True
