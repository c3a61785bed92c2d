"""Build ASGI ``http`` and ``websocket`` scopes from a parsed request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

from sioactor._lowlevel import Backend

from ._parser import Request
from ._types import ASGI_VERSION, Scope


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionInfo:
    """What a connection's scopes share: addresses, the mount prefix, the lifespan state; and the running
    backend's primitives, for the connection's clock and cancel scope."""

    client: tuple[str, int] | None
    server: tuple[str, int] | None
    root_path: str
    state: dict[str, Any]
    backend: Backend


# The key of a request's memo under which its scope (minus what is fresh per request) is kept.
_SCOPE_TEMPLATE: Final = object()


def is_websocket_upgrade(request: Request) -> bool:
    """Tell if *request* asks for a WebSocket; the handshake itself is validated on accept. An HTTP/1.0
    request's ``Upgrade`` is ignored (RFC 9110 §7.8; RFC 6455 needs 1.1): it is served as plain HTTP."""
    if request.method != b"GET" or _SCOPE_TEMPLATE in request.memo or request.http_version != b"1.1":
        return False
    return any(name == b"upgrade" and value.lower() == b"websocket" for name, value in request.headers)


def build_scope(request: Request, info: ConnectionInfo, *, websocket: bool) -> Scope:
    """The ASGI scope for *request*; header names arrive lower-cased from the parser.

    An ``http`` scope is built once per header set (kept in ``request.memo``, which requests of one
    connection with the same method, version and headers share; *info* is the connection's), then given
    each request's target (a polling client changes its query, a random ``t=``, on every request); each
    request gets a copy with its own header list and lifespan state copy, as ASGI wants.
    """
    if websocket:  # once per connection: nothing to reuse
        return _new_scope(request, info, websocket=True)
    scope = shared_scope(request, info).copy()
    scope["headers"] = list(request.headers)
    scope["state"] = dict(info.state)
    return scope


def shared_scope(request: Request, info: ConnectionInfo) -> dict[str, Any]:
    """The ``http`` scope kept for *request*'s header set (made on first use), given its target: for a
    read-only look (a `SyncHandler`'s), shared by the connection's later requests."""
    template: dict[str, Any] | None = request.memo.get(_SCOPE_TEMPLATE)
    if template is None:
        template = request.memo[_SCOPE_TEMPLATE] = dict(_new_scope(request, info, websocket=False))
    else:
        _retarget(template, request.target)
    return template


def _retarget(scope: Scope, target: bytes) -> None:
    # The path is decoded again only when it changed (a poll changes only its query).
    raw_path, _, scope["query_string"] = target.partition(b"?")
    if raw_path != scope.get("raw_path"):
        scope["raw_path"] = raw_path
        scope["path"] = unquote(raw_path.decode("latin-1"))


def _new_scope(request: Request, info: ConnectionInfo, *, websocket: bool) -> Scope:
    headers = list(request.headers)
    scope: Scope = {
        "type": "websocket" if websocket else "http",
        "asgi": ASGI_VERSION,
        "http_version": "1.1" if request.http_version == b"1.1" else "1.0",
        "scheme": "ws" if websocket else "http",
        "root_path": info.root_path,
        "headers": headers,
        "client": info.client,
        "server": info.server,
        "state": dict(info.state),
    }
    _retarget(scope, request.target)
    if websocket:
        scope["subprotocols"] = _subprotocols(headers)
    else:
        scope["method"] = request.method.decode("ascii")
    return scope


def _subprotocols(headers: list[tuple[bytes, bytes]]) -> list[str]:
    offered: list[str] = []
    for name, value in headers:
        if name == b"sec-websocket-protocol":
            offered.extend(part.strip() for part in value.decode("latin-1").split(",") if part.strip())
    return offered
