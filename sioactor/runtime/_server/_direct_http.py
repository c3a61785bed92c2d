"""The direct HTTP response: how an app that knows the embedded server answers a request in one call.

A polling Engine.IO message is two requests, and per request ASGI costs two ``send`` messages (dicts), a
copy and validation of every response header, and -- for a long-poll that must notice its client leaving
-- a ``receive()`` parked on the socket that is cancelled when the answer is ready (on asyncio a cancel
scope, a cancellation, and the exception unwinding through the server's frames). So the embedded server
also puts, in every ``http`` scope, the ASGI extension ``scope["extensions"]["sioactor.direct_http"]``: a
`DirectHttp`. An app that knows it answers with ``respond`` (the whole response at once, its header
block trusted), or holds the response (``hold``) to answer it later from wherever its data comes (a
long-poll: no task waits for the data, nothing is cancelled when it arrives); other apps ignore it. Every
other server, and the embedded one for other apps, works through plain ASGI as before.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, Protocol, TypeVar

__all__ = ("DIRECT_HTTP", "DirectHttp", "HeldAnswer", "SyncHandler", "is_inline_safe", "mark_inline_safe")

DIRECT_HTTP = "sioactor.direct_http"

HeldAnswer = Callable[[int, list[tuple[bytes, bytes]], bytes], None]
"""Send a held response: ``answer(status, headers, body)``, with ``DirectHttp.respond``'s rules."""


class DirectHttp(Protocol):
    """The ``sioactor.direct_http`` extension of one request.

    Attributes:
        memo: a dict for what the app derives from the request's method, version and headers alone (not
            its target: a polling client changes its query on every request): every request of this
            connection with the same method, version and headers gets the same dict (the connection
            remembers its last few header sets), so that work is done once per header set. Never shared
            between connections. Keys are the app's own (use an object of yours, not a string).
    """

    memo: dict[object, Any]

    async def respond(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Send the whole response: *status*, *headers* and *body*; Content-Length and the connection's
        keep-alive are the server's. The caller guarantees the headers are valid HTTP (token names, values
        without CR, LF or NUL) and frame nothing (no Content-Length, Transfer-Encoding or Connection): they
        go out as given, unchecked. Raises ``RuntimeError`` if a response was already started."""

    @property
    def can_hold(self) -> bool:
        """Whether ``hold`` is possible: not for a response after which the connection closes."""

    def hold(self, gone: Callable[[], None], bound: float) -> HeldAnswer:
        """Answer later, from outside the request: the app returns now, and calls the returned `HeldAnswer`
        once its data is there (a non-blocking write, as ``respond`` without awaiting). Until then the
        connection waits for the client; if it leaves first, or *bound* seconds pass (plus the keep-alive
        timeout) with no answer, *gone* is called once and the answer, if it ever comes, goes nowhere.
        Raises ``RuntimeError`` if a response was already started or held, or ``can_hold`` is false."""

    def serve_sync(self, handler: SyncHandler) -> None:
        """Offer *handler* for this connection's later requests (see `SyncHandler`); a later offer replaces
        an earlier one. The server may call it, or not, for any later request of this connection."""

    def respond_now(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """``respond`` without waiting (a non-blocking write): only from a `SyncHandler`."""


SyncHandler = Callable[[MutableMapping[str, Any], DirectHttp, bytes], bool]
"""``handler(scope, direct, body) -> served``: a request served from the server's read callback, with no task
woken for it. The server calls it only for a keep-alive request whose whole body (*body*) is already read,
while the connection is idle, and only with a *scope* holding ``method``, ``path`` and ``query_string`` (read
only, shared by later calls). The handler must not wait (no ``await`` anywhere below it): it answers with
``direct.respond_now`` or holds the response (``direct.hold``) and returns True, or returns False having done
nothing observable, and the request goes to the app as usual. An app offers one only if it would serve such
requests exactly so when called: the handler stands in for the whole app (and any middleware around it)."""


_INLINE_SAFE = "sioactor_inline_safe"

_App = TypeVar("_App")


def mark_inline_safe(app: _App) -> _App:
    """Mark *app* (an ASGI app of sioactor's own) as serving the requests it offers a `SyncHandler` for
    exactly as that handler does, with no layer of its own around them: the embedded server then lets the
    handler serve them (``ServerConfig.inline_requests``). Returns *app*."""
    setattr(app, _INLINE_SAFE, True)
    return app


def is_inline_safe(app: object) -> bool:
    """Tell if *app* was marked by `mark_inline_safe`."""
    return getattr(app, _INLINE_SAFE, False) is True
