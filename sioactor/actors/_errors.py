"""Errors of handing a message to an actor.

Both carry the undelivered message back to the caller, so nothing is lost silently: the caller may retry,
drop it deliberately, or surface it (the seed's ``SendError::Socket(InternalChannelFull | Closed)``).
"""

from __future__ import annotations

from typing import Any

from sioactor.protocol._errors import SioactorError

__all__ = ("Closed", "InternalChannelFull", "SendError")


class SendError(SioactorError):
    """A message could not be delivered to an actor.

    Attributes:
        actor: the name of the actor that refused the message.
        message: the message (or payload) that was not delivered, handed back to the caller.
    """

    def __init__(self, actor: str, message: Any, detail: str) -> None:
        super().__init__(f"{actor}: {detail}")
        self.actor = actor
        self.message = message


class InternalChannelFull(SendError):
    """The actor's bounded mailbox is full: the receiver cannot keep up.

    The caller's fault only in that it sends faster than the peer reads; back off, drop, or disconnect the
    slow peer. Raised at once, never after waiting.
    """

    def __init__(self, actor: str, message: Any) -> None:
        super().__init__(actor, message, "mailbox full")


class Closed(SendError):
    """The actor has stopped (its connection is gone); the message was not delivered."""

    def __init__(self, actor: str, message: Any) -> None:
        super().__init__(actor, message, "closed")
