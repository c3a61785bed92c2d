"""Every error sioactor raises on purpose, in one tree under one root::

    SioactorError                  every error sioactor raises on purpose
    ├── ProtocolError              the peer sent something the protocol does not allow
    │   ├── DecodeError            bytes or text that are not a valid packet or payload
    │   ├── PayloadTooLarge        input over a configured size limit, refused before it is parsed whole
    │   ├── HttpError              an HTTP request the embedded server will not parse (answered, then closed)
    │   └── PollRefused            a long-poll GET the Engine.IO session will not serve
    ├── SendError                  a message could not be handed to an actor; the message is handed back
    │   ├── InternalChannelFull    the mailbox (or a connection's outbox) is full
    │   └── Closed                 the actor (or connection) has stopped
    ├── AckError                   an emit's acknowledgement did not arrive as expected
    │   ├── AckTimeout             the client did not answer within the ack timeout
    │   ├── AckDecodeError         the answer did not convert to the type asked for
    │   └── AckClosed              the socket disconnected before it answered
    ├── BroadcastError             some receivers of a broadcast could not be reached (sid → error)
    ├── ConnectRefused             raised by a connect middleware to refuse a socket (→ CONNECT_ERROR)
    ├── DataError                  a payload did not convert to the type a handler parameter asked for
    ├── HandlerSignatureError      a handler's signature cannot be served (also a TypeError)
    ├── ConfigError                an option or a namespace path is invalid (also a ValueError)
    ├── ReservedEventError         an emit named an event the client keeps for itself (also a ValueError)
    ├── RedisUnavailable           Redis could not be reached or stopped answering (cluster, emitter)
    ├── ClusterTimeout             other nodes of a cluster did not all answer a request in time
    ├── LifespanFailed             an ASGI app answered ``lifespan.startup.failed`` / ``shutdown.failed``
    ├── ClientDisconnected         an ASGI ``websocket.send`` after the peer left (also an OSError)
    ├── TokenRefused               the trace endpoint refused the console's token
    └── FilterError                a console filter word that is not understood (also a ValueError)

The tree sits below every layer (``protocol`` ← ``actors`` ← ``runtime`` all import it, it imports no other
sioactor module), so each layer raises its errors from the same place and users catch them from ``sioactor``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = (
    "AckClosed",
    "AckDecodeError",
    "AckError",
    "AckTimeout",
    "BroadcastError",
    "ClientDisconnected",
    "Closed",
    "ClusterTimeout",
    "ConfigError",
    "ConnectRefused",
    "DataError",
    "DecodeError",
    "FilterError",
    "HandlerSignatureError",
    "HttpError",
    "InternalChannelFull",
    "LifespanFailed",
    "PayloadTooLarge",
    "PollRefused",
    "ProtocolError",
    "RedisUnavailable",
    "ReservedEventError",
    "SendError",
    "SioactorError",
    "TokenRefused",
)


class SioactorError(Exception):
    """Base class of every error that sioactor raises deliberately."""


# --- the peer's fault ------------------------------------------------------------------------------------


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


class HttpError(ProtocolError):
    """The peer sent an HTTP request the embedded server will not parse; it answers ``status`` and closes.

    Attributes:
        status: the HTTP status to answer (400, 431, 501, 505).
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class PollRefused(ProtocolError):
    """A long-poll GET the session will not serve (it is closed or a second GET was already pending)."""


# --- back-pressure: a message that could not be delivered ------------------------------------------------


class SendError(SioactorError):
    """A message could not be delivered to an actor (or a connection's outbox).

    Both subclasses hand the undelivered message back, so nothing is lost silently: the caller may retry,
    drop it deliberately, or surface it.

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


# --- Socket.IO: acknowledgements and broadcasts ----------------------------------------------------------


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


# --- handlers and payloads -------------------------------------------------------------------------------


class DataError(SioactorError):
    """A payload did not convert to the type a ``Data[T]``, ``TryData[T]`` or ``Auth[T]`` parameter asked for.

    The peer's fault (or a type that is stricter than the clients). ``TryData`` handlers receive it as a
    value; ``Data`` handlers are skipped and it is logged.

    Attributes:
        target: the type asked for.
        payload: the value that did not convert.
    """

    def __init__(self, message: str, *, target: Any, payload: Any) -> None:
        super().__init__(message)
        self.target = target
        self.payload = payload


class HandlerSignatureError(SioactorError, TypeError):
    """A handler's signature cannot be served: raised when the handler is registered, never per message.

    The programmer's fault; the message names the handler and the parameter and says how to fix it.
    """


# --- the host: configuration, ASGI, the console ----------------------------------------------------------


class ConfigError(SioactorError, ValueError):
    """An option (of ``SocketIo``, the engine, tracing) or a namespace path is invalid; the message says
    which and why.
    """


class LifespanFailed(SioactorError):
    """An ASGI app answered ``lifespan.startup.failed`` (or ``lifespan.shutdown.failed``); the message is the
    app's. Its startup went wrong: the server does not start.
    """


class ClientDisconnected(SioactorError, OSError):
    """A ``websocket.send`` arrived after the connection closed.

    The peer went away (or the close handshake finished); the app should stop sending and return. An
    ``OSError`` too, as ASGI asks of a send to a closed connection.
    """


class TokenRefused(SioactorError):
    """The trace endpoint refused the token: pass the one the server printed at start-up (``--token``)."""


class FilterError(SioactorError, ValueError):
    """A filter word the console does not understand; the message lists the ones it does."""


class ReservedEventError(SioactorError, ValueError):
    """An emit named an event the client reserves for its own life cycle (``connect``, ``connect_error``,
    ``disconnect``, ``disconnecting``, ``newListener``, ``removeListener``); the client would drop the whole
    connection as a parse error, so the emit is refused before anything is sent, as Node's ``emit`` does.
    Rename the event.
    """

    def __init__(self, event: str) -> None:
        super().__init__(f"{event!r} is a reserved event name; emit another name")
        self.event = event


class RedisUnavailable(SioactorError):
    """Redis at ``url`` could not be reached, refused the connection, or did not answer in time.

    Check the URL, that the server runs and accepts this client (password, TLS), and the network between.

    Attributes:
        url: the Redis URL, without its password.
        reason: what went wrong, from the Redis client.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Redis at {url} is unavailable: {reason}")
        self.url = url
        self.reason = reason


class ClusterTimeout(SioactorError):
    """Some nodes of the cluster did not answer a cluster request (``fetch_sockets``, ``all_rooms``,
    ``server_side_emit_with_ack``) within the timeout.

    A node is slow, overloaded, or left the cluster while it was still counted; retry, or make do with the
    answers that came (``responses``).

    Attributes:
        operation: the request, e.g. ``"fetch_sockets"``.
        expected: how many other nodes were counted when the request was sent.
        received: how many of them answered.
        missing: the nodes that did not answer, when they are known by name (the Redis adapters count
            the nodes with ``PUBSUB NUMSUB`` / ``SHARDNUMSUB``, which names none, so it is empty there).
        responses: the answers that came in time.
    """

    def __init__(
        self,
        operation: str,
        *,
        timeout: float,
        expected: int,
        received: int,
        missing: tuple[str, ...] = (),
        responses: Any = None,
    ) -> None:
        who = f": {', '.join(missing)}" if missing else " (Redis counts the nodes without naming them)"
        super().__init__(
            f"{operation}: timeout reached: only {received} of {expected} other node(s) answered within "
            f"{timeout:g} s; {expected - received} did not{who}"
        )
        self.operation = operation
        self.expected = expected
        self.received = received
        self.missing = missing
        self.responses = responses
