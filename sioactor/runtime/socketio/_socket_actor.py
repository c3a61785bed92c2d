"""The socket actor: a core ``LazyActor`` (bounded deque, drained by a task started on demand, so an idle
socket holds no task) whose messages are handled by its ``Socket``.

It adds only Socket.IO's failure policy: a handler that raises is logged and traced, and the socket goes on
with its next event (one bad event must not disconnect a client).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sioactor.actors._lazy import LazyActor
from sioactor.actors._trace import TraceKind
from sioactor.actors.socketio import SocketMessage

if TYPE_CHECKING:
    from sioactor.runtime.socketio._socket import Socket

__all__ = ("SocketActor",)

logger = logging.getLogger("sioactor.socketio")


class SocketActor(LazyActor[SocketMessage]):
    """The actor of one socket (``socket:<ns>:<sid>``): ``Connect``, events, then ``Disconnect``."""

    kind = "socket"

    def __init__(self, socket: Socket, *, mailbox_size: int) -> None:
        super().__init__(socket._name, mailbox_size=mailbox_size)
        self._socket = socket

    async def handle(self, message: SocketMessage) -> None:
        """Hand *message* to the socket."""
        await self._socket._handle(message)

    async def on_failure(self, exc: Exception) -> None:
        """Log and trace a failed handler; keep the socket running."""
        logger.error("%s: a handler failed", self.name, exc_info=exc)
        self._socket._ns.io.trace(TraceKind.HANDLER_FAILED, self.name, detail=repr(exc))
