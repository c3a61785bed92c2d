"""Small ASGI HTTP helpers: query parsing, bounded body reads, responses, Engine.IO's error answers, CORS."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

from sioactor._errors import PayloadTooLarge
from sioactor.runtime._server._direct_http import DIRECT_HTTP, DirectHttp
from sioactor.runtime.engineio._config import CorsConfig

__all__ = (
    "NOT_RUNNING",
    "OCTET_STREAM",
    "TEXT_PLAIN",
    "EngineError",
    "Headers",
    "Receive",
    "Responder",
    "Scope",
    "Send",
    "cors_headers",
    "error_body",
    "headers_of",
    "query_of",
    "read_body",
    "respond",
    "respond_error",
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

TEXT_PLAIN = b"text/plain; charset=UTF-8"
OCTET_STREAM = b"application/octet-stream"

# Why a handshake is refused before ``run`` or after ``close`` (Node's closed server takes none either).
NOT_RUNNING = "Server is not running"


class EngineError(enum.IntEnum):
    """Engine.IO's HTTP error codes, with Node's messages (``{"code": N, "message": ...}`` bodies)."""

    UNKNOWN_TRANSPORT = 0
    UNKNOWN_SID = 1
    BAD_HANDSHAKE_METHOD = 2
    BAD_REQUEST = 3
    FORBIDDEN = 4
    UNSUPPORTED_PROTOCOL_VERSION = 5

    @property
    def message(self) -> str:
        """Node's message text for this code."""
        return _MESSAGES[self]


_MESSAGES = {
    EngineError.UNKNOWN_TRANSPORT: "Transport unknown",
    EngineError.UNKNOWN_SID: "Session ID unknown",
    EngineError.BAD_HANDSHAKE_METHOD: "Bad handshake method",
    EngineError.BAD_REQUEST: "Bad request",
    EngineError.FORBIDDEN: "Forbidden",
    EngineError.UNSUPPORTED_PROTOCOL_VERSION: "Unsupported protocol version",
}


def query_of(scope: Scope) -> dict[str, str]:
    """The decoded query string; a repeated key keeps its last value."""
    raw: bytes = scope.get("query_string", b"")
    if b"%" in raw or b"+" in raw:
        return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    # Nothing to unquote (every Engine.IO client's query): split by hand, parse_qsl's result at ~1/4 the cost.
    query: dict[str, str] = {}
    for field in raw.decode("latin-1").split("&"):
        if field:
            key, _, value = field.partition("=")
            query[key] = value
    return query


def headers_of(scope: Scope) -> list[tuple[str, str]]:
    """The request headers, names lower-cased, decoded as latin-1."""
    return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", ())]


async def read_body(receive: Receive, limit: int, declared: int | None) -> bytes | None:
    """Read the request body, refusing it once it exceeds *limit*; ``None`` when the client went away.

    Raises:
        PayloadTooLarge: the declared length or the bytes received exceed *limit*; the rest is not read.
    """
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"body of {declared} bytes exceeds {limit}", size=declared, limit=limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body over {limit} bytes", size=size, limit=limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def respond(
    send: Send, status: int, body: bytes, content_type: bytes = TEXT_PLAIN, extra: Headers | None = None
) -> None:
    """Send a whole response."""
    headers: Headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if extra:
        headers += extra
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Responder:
    """How the engine answers one request: a whole response at a time, through the embedded server's
    ``sioactor.direct_http`` extension when the scope offers it (see ``_server/_direct_http.py``), else
    through ASGI ``send``.

    The direct path sends the headers unchecked, which holds for what the engine sends: constants, values
    of the request's own headers (which the server parsed as valid field values) and the CORS methods
    (checked as tokens by ``CorsConfig``).
    """

    __slots__ = ("direct", "send")

    def __init__(self, scope: Scope, send: Send) -> None:
        extensions = scope.get("extensions")
        self.direct: DirectHttp | None = None if not extensions else extensions.get(DIRECT_HTTP)
        self.send = send

    async def __call__(
        self, status: int, body: bytes, content_type: bytes = TEXT_PLAIN, extra: Headers | None = None
    ) -> None:
        """Send a whole response."""
        if self.direct is None:
            await respond(self.send, status, body, content_type, extra)
            return
        headers: Headers = [(b"content-type", content_type)]
        if extra:
            headers += extra
        await self.direct.respond(status, headers, body)


async def respond_error(
    reply: Responder, error: EngineError, extra: Headers | None = None, message: str = ""
) -> None:
    """Answer with Engine.IO's JSON error body: 403 for ``FORBIDDEN``, 400 otherwise."""
    body = error_body(error, message)
    status = 403 if error is EngineError.FORBIDDEN else 400
    await reply(status, body, b"application/json", extra)


def error_body(error: EngineError, message: str = "") -> bytes:
    """Engine.IO's JSON error body (Node's)."""
    return orjson.dumps({"code": int(error), "message": message or error.message})


def cors_headers(cors: CorsConfig | None, scope: Scope, *, preflight: bool = False) -> Headers:
    """The CORS response headers for this request (none without a config or for a disallowed origin)."""
    if cors is None:
        return []
    origin = _header(scope, b"origin")
    if cors.origins == "*" and not cors.credentials:
        allowed = b"*"
    elif origin is not None and (cors.origins == "*" or origin.decode("latin-1") in cors.origins):
        allowed = origin
    else:
        return []
    headers: Headers = [(b"access-control-allow-origin", allowed)]
    if allowed != b"*":
        headers.append((b"vary", b"Origin"))
    if cors.credentials:
        headers.append((b"access-control-allow-credentials", b"true"))
    if preflight:
        headers.append((b"access-control-allow-methods", ",".join(cors.methods).encode()))
        wanted = _header(scope, b"access-control-request-headers")
        allowed_headers = wanted if cors.headers is None else ",".join(cors.headers).encode()
        if allowed_headers:
            headers.append((b"access-control-allow-headers", allowed_headers))
        if cors.max_age is not None:
            headers.append((b"access-control-max-age", str(cors.max_age).encode()))
    return headers


def _header(scope: Scope, name: bytes) -> bytes | None:
    found = None
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            found = value
    return found
