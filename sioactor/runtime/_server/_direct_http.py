"""The direct HTTP response: how an app that knows the embedded server answers a request in one call.

A polling Engine.IO message is two requests, and per request ASGI costs two ``send`` messages (dicts), a
copy and validation of every response header, and -- for a long-poll that must notice its client leaving
-- a ``receive()`` parked on the socket that is cancelled when the answer is ready (on asyncio a cancel
scope, a cancellation, and the exception unwinding through the server's frames). So the embedded server
also puts, in every ``http`` scope, the ASGI extension ``scope["extensions"]["sioactor.direct_http"]``: a
`DirectHttp`. An app that knows it answers with ``respond`` (the whole response at once, its header
block trusted) and learns of the client leaving through ``on_gone`` (a callback from the connection's
protocol, nothing parked); other apps ignore it. Every other server, and the embedded one for other apps,
works through plain ASGI as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ("DIRECT_HTTP", "DirectHttp")

DIRECT_HTTP = "sioactor.direct_http"


class DirectHttp(Protocol):
    """The ``sioactor.direct_http`` extension of one request."""

    @property
    def watches_gone(self) -> bool:
        """Whether ``on_gone`` works on this connection (asyncio's read-ahead stream; not on trio)."""

    async def respond(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Send the whole response: *status*, *headers* and *body*; Content-Length and the connection's
        keep-alive are the server's. The caller guarantees the headers are valid HTTP (token names, values
        without CR, LF or NUL) and frame nothing (no Content-Length, Transfer-Encoding or Connection): they
        go out as given, unchecked. Raises ``RuntimeError`` if a response was already started."""

    def on_gone(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call *callback* once if the client closes the connection before the response (at once if it
        already has); returns the function that cancels the watch. Only when ``watches_gone``."""
