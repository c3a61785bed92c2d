"""The seam between the Engine.IO server and the Socket.IO layer above it.

The Engine.IO server (engine session actors driven by the runtime's transports) implements
``EngineConnection``; the Socket.IO layer implements ``EngineListener`` and is handed to the engine server.
Neither side knows the other's classes, so each can be tested alone with a fake of the other.

What travels through ``send`` is the *payload* of Engine.IO MESSAGE packets: a ``str`` for a text message, a
``bytes`` for a binary one, or a tuple of them for a packet that must stay together (a Socket.IO binary event:
its text part and its attachments), any of them wrapped in ``Uncompressed`` to be sent as it is
(``compress(False)``). The engine session adds the Engine.IO framing (``4`` prefix, payload
separators, base64 for polling) when it writes to the transport, so a broadcast can hand the *same* objects to
every receiver: it is encoded once, never per receiver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol
from urllib.parse import urlencode

from sioactor.actors.engineio._request import RawQuery
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.protocol.engineio import Uncompressed

__all__ = ("EngineConnection", "EngineListener", "Outgoing", "RequestInfo", "TransportName")

TransportName = Literal["polling", "websocket"]

# One entry of a session's outbox: counts as one packet against ``max_buffer_size``, whatever its frame count.
Outgoing = str | bytes | tuple[str | bytes, ...] | Uncompressed


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestInfo:
    """The HTTP request that opened an Engine.IO session (the handshake), as the layers above see it.

    Attributes:
        path: the request path, e.g. ``/socket.io/``.
        query: the decoded query string; a key given several times keeps its last value.
        headers: header names lower-cased, values decoded as latin-1, in order (a name may repeat).
        remote_address: the peer's ``(host, port)``, or ``None`` when the server does not know it.
        secure: the connection is TLS (an ``https``/``wss`` scheme).
    """

    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Sequence[tuple[str, str]] = ()
    remote_address: tuple[str, int] | None = None
    secure: bool = False

    @property
    def url(self) -> str:
        """The request target as the client sent it, path and query string (Node's ``req.url``)."""
        query = self.query
        text = query.raw if isinstance(query, RawQuery) else urlencode(query)
        return f"{self.path}?{text}" if text else self.path

    def header(self, name: str) -> str | None:
        """The last value of header *name* (case-insensitive), or ``None``."""
        wanted = name.lower()
        found = None
        for key, value in self.headers:
            if key == wanted:
                found = value
        return found


class EngineConnection(Protocol):
    """One Engine.IO session, as the Socket.IO layer sees it."""

    @property
    def sid(self) -> str:
        """The Engine.IO session id (20 URL-safe base64 characters)."""

    @property
    def protocol(self) -> Literal[3, 4]:
        """The Engine.IO protocol revision the client speaks (``EIO=3`` or ``EIO=4``)."""

    @property
    def transport(self) -> TransportName:
        """The transport in use now (changes from ``polling`` to ``websocket`` on upgrade)."""

    @property
    def request(self) -> RequestInfo:
        """The handshake request."""

    @property
    def connected(self) -> bool:
        """True until the session starts closing."""

    def send(self, message: Outgoing) -> None:
        """Queue one message (or an indivisible group of frames) for the client; never waits.

        Raises:
            InternalChannelFull: the outbox holds ``max_buffer_size`` entries that the transport cannot take
                now (the client reads too slowly).
            Closed: the session is closing or closed.
        """

    def send_volatile(self, message: Outgoing) -> bool:
        """Queue *message* if the outbox has room and the session is open; return whether it was queued."""

    def close(self, reason: EngineCloseReason = EngineCloseReason.FORCED_CLOSE) -> None:
        """Start closing the session: queued messages are flushed where the transport allows, then it ends."""

    def hold_input(self) -> None:
        """A mailbox fed by this client's messages is full: read no more of them until ``release_input``
        (the connection stops being read; nothing the client sent is dropped)."""

    def release_input(self) -> None:
        """The mailbox of a ``hold_input`` has room again."""

    async def until_room(self) -> None:
        """Wait until the outbox is below ``max_buffer_size`` or the session closes (a handler's pace)."""


class EngineListener(Protocol):
    """What the Engine.IO server calls on the layer above. Every method is called from the session's own task,
    in order, and must not block: hand work to an actor (``tell``) instead of awaiting it.
    """

    def on_open(self, conn: EngineConnection) -> None:
        """A session finished its handshake."""

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        """The client sent one Engine.IO MESSAGE (text or binary)."""

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        """The session ended; called exactly once per opened session."""
