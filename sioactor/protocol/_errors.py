"""The root of sioactor's error tree, and the one error the peer's bytes can cause.

    SioactorError                      every error sioactor raises on purpose
    ├── ProtocolError                  the peer sent something the protocol does not allow (protocol/)
    │   ├── DecodeError                bytes or text that are not a valid packet or payload
    │   └── PayloadTooLarge            input over a configured size limit, refused before it is parsed whole
    ├── SendError                      a message could not be handed to an actor (actors/)
    │   ├── InternalChannelFull        the mailbox is full; the message is handed back
    │   └── Closed                     the actor has stopped; the message is handed back
    └── (runtime adds AckError, BroadcastError, ConfigError, HandlerSignatureError)

The base lives here, in the lowest layer, because imports only point downward.
"""

from __future__ import annotations

__all__ = ("DecodeError", "PayloadTooLarge", "ProtocolError", "SioactorError")


class SioactorError(Exception):
    """Base class of every error that sioactor raises deliberately."""


class ProtocolError(SioactorError):
    """The peer broke the protocol. The connection that carried it should be closed with a parse error.

    Attributes:
        reason: a short, human-readable account of what was wrong, suitable for a log line.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DecodeError(ProtocolError):
    """Text or bytes from the peer that do not decode as a packet or payload of the protocol."""


class PayloadTooLarge(ProtocolError):
    """Input larger than the configured limit; refused before it was parsed whole.

    Attributes:
        size: the size seen (or a lower bound of it), in bytes or attachments as *limit* says.
        limit: the configured maximum.
    """

    def __init__(self, reason: str, *, size: int, limit: int) -> None:
        super().__init__(reason)
        self.size = size
        self.limit = limit
