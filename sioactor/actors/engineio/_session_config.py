"""What an engine session is configured with and offers its transports: config, policies, the writer protocol.

Split from ``_session.py`` (the actor itself) so the vocabulary can be read, and imported, on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from sioactor._errors import PollRefused
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.protocol.engineio import OutboxEntry, Packet, PacketType

__all__ = (
    "PACKETS_PER_STEP",
    "DirectWriter",
    "PollRefused",
    "SessionConfig",
    "SlowConsumerPolicy",
    "TransportWriter",
)

SlowConsumerPolicy = Literal["error", "drop_oldest", "disconnect"]

# The packets of one client a transport hands its session before it lets the event loop turn: one polling body
# or one read holds up to a megabyte of tiny packets, whose handlers must not keep every other client waiting.
PACKETS_PER_STEP = 128
# Room for control packets beyond max_buffer_size: a ping, a pong, a noop and the close at most are in flight.
CONTROL_SLACK = 4
NOOP = Packet(PacketType.NOOP)
CLOSE = Packet(PacketType.CLOSE)
PING = Packet(PacketType.PING)
PONG = Packet(PacketType.PONG)
# Reasons the client caused by saying goodbye: a poll still pending is released with a noop, not a close.
CLIENT_CLOSE = frozenset({EngineCloseReason.TRANSPORT_CLOSE})
# Reasons that keep the outbox: queued messages are flushed before the transport closes (Node's close()).
FLUSHING_CLOSE = frozenset({EngineCloseReason.FORCED_CLOSE, EngineCloseReason.SERVER_SHUTTING_DOWN})


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """What one engine session needs of the server's configuration (seconds, packets, bytes); the runtime's
    ``EngineConfig`` documents each field and its default.
    """

    ping_interval: float
    ping_timeout: float
    upgrade_timeout: float
    max_buffer_size: int
    max_payload: int
    slow_consumer: SlowConsumerPolicy
    flush_timeout: float


class TransportWriter(Protocol):
    """A WebSocket written by a task of its own (``EngineSession.pump``, the ASGI path): sends awaited."""

    async def write_batch(self, batch: list[OutboxEntry]) -> bool:
        """Frame and send *batch*; False once a close packet was written or the transport failed
        (the writer closes the session itself in that case)."""

    async def end(self) -> None:
        """The session is done with the transport: close it. Called once, last."""


class DirectWriter(Protocol):
    """A WebSocket written without awaiting (the embedded server's direct path), by the server's scheduler."""

    def write_now(self, batch: list[OutboxEntry]) -> bool:
        """Frame and write *batch* at once; False once a close packet was written or the socket is closed."""

    @property
    def blocked(self) -> bool:
        """The client leaves too much unread: wait for ``drained`` before writing more."""

    async def drained(self) -> None:
        """Wait until the client has read most of what was written."""

    def end(self) -> None:
        """The session is done with the socket: close it. Called once, last."""
