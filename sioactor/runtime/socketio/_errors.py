"""The Socket.IO layer's public errors, under the tree rooted at ``SioactorError``::

SioactorError
├── AckError            an emit's acknowledgement did not arrive as expected
│   ├── AckTimeout      the client did not answer within the ack timeout
│   ├── AckDecodeError  the answer did not convert to the type asked for
│   └── AckClosed       the socket disconnected before it answered
├── BroadcastError      some receivers of a broadcast could not be reached (sid → error)
├── ConnectRefused      raised by a connect middleware to refuse a socket (→ CONNECT_ERROR)
├── ConfigError         a ``SocketIo`` option or namespace path is invalid
└── ReservedEventError  an emit used an event name the client keeps for itself (``"disconnect"`` ...)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sioactor.protocol._errors import SioactorError

__all__ = (
    "AckClosed",
    "AckDecodeError",
    "AckError",
    "AckTimeout",
    "BroadcastError",
    "ConfigError",
    "ConnectRefused",
    "ReservedEventError",
)


class AckError(SioactorError):
    """An acknowledgement from socket *sid* did not arrive as expected. Nobody's bug by itself: clients are
    slow, leave, or answer differently; handle it where the ack is awaited.
    """

    def __init__(self, sid: str, detail: str) -> None:
        super().__init__(f"ack from socket {sid}: {detail}")
        self.sid = sid


class AckTimeout(AckError):
    """The client did not answer within the timeout (``ack_timeout`` or the ``timeout()`` operator)."""

    def __init__(self, sid: str, timeout: float) -> None:
        super().__init__(sid, f"no answer within {timeout:g} s")
        self.timeout = timeout


class AckDecodeError(AckError):
    """The client answered, but its answer did not convert to the type the emitter asked for.

    Attributes:
        payload: the answer as received.
    """

    def __init__(self, sid: str, payload: Any, detail: str) -> None:
        super().__init__(sid, f"answer {payload!r} did not convert: {detail}")
        self.payload = payload


class AckClosed(AckError):
    """The socket disconnected before it answered."""

    def __init__(self, sid: str) -> None:
        super().__init__(sid, "socket disconnected before answering")


class BroadcastError(SioactorError):
    """A broadcast reached some receivers but not these. Raised by broadcast emits after every other receiver
    was served (one slow client never blocks the others).

    Attributes:
        errors: socket id → the ``SendError`` (``InternalChannelFull`` or ``Closed``) that receiver raised,
            naming the socket and handing back the data given to the emit, as ``Socket.emit``'s errors do.
        stream: for ``emit_with_ack``, the ``AckStream`` of the receivers that were reached; else ``None``.
    """

    def __init__(self, errors: Mapping[str, Exception], stream: Any = None) -> None:
        super().__init__(f"broadcast could not reach {len(errors)} socket(s): {sorted(errors)[:5]}")
        self.errors = dict(errors)
        self.stream = stream


class ConnectRefused(SioactorError):
    """Raise it in a connect middleware to refuse the socket; the client gets CONNECT_ERROR with
    ``{"message": message, "data": data}`` (``data`` omitted when ``None``).
    """

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class ConfigError(SioactorError, ValueError):
    """An option given to ``SocketIo`` (or a namespace path) is invalid; the message says which and why."""


class ReservedEventError(SioactorError, ValueError):
    """An emit named an event the client reserves for its own life cycle (``connect``, ``connect_error``,
    ``disconnect``, ``disconnecting``, ``newListener``, ``removeListener``); the client would drop the whole
    connection as a parse error, so the emit is refused before anything is sent, as Node's ``emit`` does.
    Rename the event.
    """

    def __init__(self, event: str) -> None:
        super().__init__(f"{event!r} is a reserved event name; emit another name")
        self.event = event
