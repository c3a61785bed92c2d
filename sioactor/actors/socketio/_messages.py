"""What a socket actor's mailbox holds: the facts its connection delivers, handled one at a time in order.

Acknowledgements from the client are deliberately absent: they resolve straight from the connection's
``on_message`` (see ``_acks.py``), so a handler awaiting an ack on its own socket can never deadlock it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sioactor.protocol._reasons import DisconnectReason

__all__ = ("Connect", "Disconnect", "EventReceived", "SocketMessage", "event_received")


@dataclass(frozen=True, slots=True, kw_only=True)
class Connect:
    """The client asked to join the namespace; always the first message of a socket.

    Attributes:
        auth: the CONNECT payload (``None`` when the client sent none).
    """

    auth: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EventReceived:
    """The client emitted *event* with *args*; *ack_id* is set when it awaits an acknowledgement."""

    event: str
    args: tuple[Any, ...]
    ack_id: int | None = None


# The connection's constructor of EventReceived, once per inbound event: writing the slots through their
# descriptors skips the frozen __init__'s keyword parsing and object.__setattr__ calls.
_new_object = object.__new__
_SLOTS = EventReceived.__dict__
_set_event, _set_args, _set_ack_id = (_SLOTS[name].__set__ for name in ("event", "args", "ack_id"))


def event_received(event: str, args: tuple[Any, ...], ack_id: int | None) -> EventReceived:
    """``EventReceived(event=event, args=args, ack_id=ack_id)``, built faster (the inbound hot path)."""
    message: EventReceived = _new_object(EventReceived)
    _set_event(message, event)
    _set_args(message, args)
    _set_ack_id(message, ack_id)
    return message


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnect:
    """The socket left its namespace (client, server or transport said so); *reason* says which."""

    reason: DisconnectReason


SocketMessage = Connect | EventReceived | Disconnect
