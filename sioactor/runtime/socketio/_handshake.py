"""``Handshake``: what Node's ``socket.handshake`` holds, built from the request that opened the connection.

A socket keeps only the time it joined its namespace; the rest is read from the engine session's handshake
request when ``socket.handshake`` is asked for, so a socket whose handshake nobody reads costs nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, final

from sioactor.actors.engineio._api import RequestInfo

__all__ = ("Handshake", "build_handshake")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Handshake:
    """The handshake of a socket, in the shape of Node's ``socket.handshake`` (``dataclasses.asdict`` gives
    the same keys). Read it from ``socket.handshake``; never constructed by user code.

    Attributes:
        headers: the headers of the request that opened the connection, names lower-cased, a repeated one
            joined with ``", "`` (``cookie`` with ``"; "``), as Node's ``req.headers``.
        time: when the socket joined its namespace, as JavaScript prints a date
            (``"Mon Dec 07 2026 20:46:37 GMT+0000 (UTC)"``).
        address: the client's IP address; with ``SocketIoConfig(trust_proxy=True)``, the ``cf-connecting-ip``
            header, else the first ``x-forwarded-for`` entry, when the request has one.
        xdomain: the request came from another origin (it has an ``Origin`` header).
        secure: the connection is TLS (``https``/``wss``).
        issued: when the socket joined its namespace, in milliseconds since the epoch.
        url: the request target, path and query string (``/socket.io/?EIO=4&transport=polling&t=...``).
        query: the request's query parameters (a repeated key keeps its last value).
        auth: the CONNECT payload; ``{}`` when the client sent none, as in Node.
    """

    headers: dict[str, str]
    time: str
    address: str
    xdomain: bool
    secure: bool
    issued: int
    url: str
    query: dict[str, str]
    auth: Any


def build_handshake(request: RequestInfo, auth: Any, issued: float, *, trust_proxy: bool) -> Handshake:
    """The handshake of a socket that joined at *issued* (``time.time()``) with *auth*, over *request*."""
    headers = _node_headers(request)
    return Handshake(
        headers=headers,
        time=_javascript_date(issued),
        address=_address(request, headers, trust_proxy),
        xdomain="origin" in headers,
        secure=request.secure,
        issued=int(issued * 1000),
        url=request.url,
        query=dict(request.query),
        auth={} if auth is None else auth,
    )


def _node_headers(request: RequestInfo) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers:
        if name in headers:
            headers[name] += ("; " if name == "cookie" else ", ") + value
        else:
            headers[name] = value
    return headers


def _javascript_date(timestamp: float) -> str:
    # What `new Date() + ""` prints, in this machine's time zone.
    local = datetime.fromtimestamp(timestamp).astimezone()
    return local.strftime("%a %b %d %Y %H:%M:%S GMT%z") + f" ({local.tzname()})"


def _address(request: RequestInfo, headers: dict[str, str], trust_proxy: bool) -> str:
    if trust_proxy:
        forwarded = headers.get("cf-connecting-ip") or headers.get("x-forwarded-for", "").split(",")[0]
        if forwarded.strip():
            return forwarded.strip()
    peer = request.remote_address
    return "" if peer is None else peer[0]
