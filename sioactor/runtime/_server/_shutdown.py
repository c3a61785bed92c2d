"""How the embedded server is asked to stop, and the WebSockets a stopping server waits for.

A shutdown is asked for by SIGINT or SIGTERM (``ServerConfig.handle_signals``, main thread only) or by the
cancellation of ``serve_asgi``'s caller. Either way ``serve_asgi`` then stops accepting, runs the app's
lifespan shutdown while every connection is still open (so the app can tell its clients: sioactor sends each
socket its DISCONNECT, answers held polls and closes its WebSockets with a close frame), closes the WebSockets
the app left open (1001, going away), waits for their close handshakes (closing a socket with unread data
would reset it, and the client could lose what it had not read yet), and closes what is left once the grace
period (``shutdown_timeout``) is over.
A second signal ends the grace period at once, as a second Ctrl-C does elsewhere.

The cancellation is watched by a task outside the shielded scope the server runs in: a cancelled caller
cannot otherwise wait for anything, and on trio the connections' own tasks would be cancelled with it.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import anyio

__all__ = ("GoingAway", "OpenWebSockets", "Shutdown")

logger = logging.getLogger("sioactor.server")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Shutdown:
    """The server's stop request, and its grace period's scope (which a second signal cancels)."""

    __slots__ = ("_grace", "_hurried", "_requested")

    def __init__(self) -> None:
        self._requested = anyio.Event()
        self._grace: anyio.CancelScope | None = None
        self._hurried = False

    def request(self) -> None:
        """Ask the server to stop (idempotent)."""
        self._requested.set()

    async def requested(self) -> None:
        """Wait until a stop is asked for."""
        await self._requested.wait()

    def hurry(self) -> None:
        """End the grace period now: what is still open is closed."""
        self._hurried = True
        if self._grace is not None:
            self._grace.cancel()

    @contextmanager
    def grace(self, seconds: float) -> Iterator[anyio.CancelScope]:
        """The grace period: a scope that ends after *seconds*, or at ``hurry``."""
        with anyio.move_on_after(seconds) as scope:
            self._grace = scope
            if self._hurried:
                scope.cancel()
            try:
                yield scope
            finally:
                self._grace = None

    async def on_cancel(self) -> None:
        """Run beside the server, outside its shield: a cancellation of the caller asks for the stop."""
        try:
            await anyio.sleep_forever()
        finally:
            self.request()

    async def on_signals(self) -> None:
        """Run beside the server: the first SIGINT or SIGTERM asks for the stop, the next one hurries it.
        Returns at once outside the main thread (or where the loop cannot watch signals)."""
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            receiver = anyio.open_signal_receiver(*_SIGNALS)
            with receiver as signals:
                async for signum in signals:
                    self._on_signal(signal.Signals(signum))
        except (NotImplementedError, RuntimeError, ValueError) as exc:
            logger.debug("signals are not handled here: %s", exc)

    def _on_signal(self, signum: signal.Signals) -> None:
        if not self._requested.is_set():
            logger.info("%s: shutting down (send it again to close everything at once)", signum.name)
            self.request()
        else:
            logger.info("%s: closing every connection now", signum.name)
            self.hurry()


class GoingAway(Protocol):
    """An open WebSocket connection, as a shutdown sees it."""

    def going_away(self) -> None:
        """Close it with 1001 if the app has not closed it."""


class OpenWebSockets:
    """The connections that run a WebSocket now, so that a shutdown can close those the app left open and
    wait for their close handshakes."""

    __slots__ = ("_none_left", "_open")

    def __init__(self) -> None:
        self._open: set[GoingAway] = set()
        self._none_left: anyio.Event | None = None  # exists only while a shutdown waits

    def opened(self, websocket: GoingAway) -> None:
        """A connection upgraded to a WebSocket."""
        self._open.add(websocket)

    def closed(self, websocket: GoingAway) -> None:
        """A WebSocket connection ended."""
        self._open.discard(websocket)
        if not self._open and self._none_left is not None:
            self._none_left.set()

    async def close_all(self) -> None:
        """Close the WebSockets still open (``going_away``) and wait until their connections ended."""
        for websocket in list(self._open):
            websocket.going_away()
        while self._open:
            self._none_left = anyio.Event()
            await self._none_left.wait()
        self._none_left = None
