"""The vocabulary of cluster messages: what one server (or an emitter) tells the others through Redis.

One set of frozen values serves both wire protocols of ``@socket.io/redis-adapter`` 8.x: the classic one
(``_classic.py``) and the ``ClusterAdapter`` envelope of the sharded adapter (``_cluster_format.py``). Each
message carries its namespace; the classic wire leaves it out of most messages (the channel names it), so
the classic decoder takes it from the caller. ``uid`` names the sending adapter (one per namespace per
server), or ``"emitter"``; it is ``None`` where the wire carries none (the emitter's room and disconnect
requests, and every classic response).

Requests that want an answer carry a ``request_id``; fire-and-forget ones have none, and their encoders
omit the key entirely, because Node tests ``requestId !== undefined`` (a JSON ``null`` would ask for an ack).

Wire enums are valued by Node's numbers: ``RequestType`` (classic, ``lib/index.ts``) and ``MessageType``
(``socket.io-adapter``'s ``cluster-adapter.ts``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = (
    "EMITTER_UID",
    "AdapterClose",
    "AllRooms",
    "AllRoomsResponse",
    "Broadcast",
    "BroadcastAck",
    "BroadcastClientCount",
    "ClusterMessage",
    "DisconnectSockets",
    "FetchSockets",
    "FetchSocketsResponse",
    "Heartbeat",
    "InitialHeartbeat",
    "LegacyCommandDone",
    "LegacySocketCommand",
    "MessageType",
    "Recipients",
    "RequestType",
    "ServerSideEmit",
    "ServerSideEmitResponse",
    "SocketDetails",
    "SocketIds",
    "SocketIdsResponse",
    "SocketsJoin",
    "SocketsLeave",
)

# The uid of @socket.io/redis-emitter: receivers process its messages but do not count it as a server.
EMITTER_UID: Final = "emitter"


class RequestType(enum.IntEnum):
    """The classic adapter's request and response types."""

    SOCKETS = 0
    ALL_ROOMS = 1
    REMOTE_JOIN = 2
    REMOTE_LEAVE = 3
    REMOTE_DISCONNECT = 4
    REMOTE_FETCH = 5
    SERVER_SIDE_EMIT = 6
    BROADCAST = 7
    BROADCAST_CLIENT_COUNT = 8
    BROADCAST_ACK = 9


class MessageType(enum.IntEnum):
    """The ``ClusterAdapter`` envelope's message types (sharded adapter, streams adapter)."""

    INITIAL_HEARTBEAT = 1
    HEARTBEAT = 2
    BROADCAST = 3
    SOCKETS_JOIN = 4
    SOCKETS_LEAVE = 5
    DISCONNECT_SOCKETS = 6
    FETCH_SOCKETS = 7
    FETCH_SOCKETS_RESPONSE = 8
    SERVER_SIDE_EMIT = 9
    SERVER_SIDE_EMIT_RESPONSE = 10
    BROADCAST_CLIENT_COUNT = 11
    BROADCAST_ACK = 12
    ADAPTER_CLOSE = 13


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipients:
    """Which sockets an operation reaches: Node's ``opts``.

    Attributes:
        rooms: sockets in any of these rooms (a socket id is a room); empty means every socket.
        except_rooms: minus the sockets in any of these rooms (the wire key is ``except``).
        flags: delivery flags of broadcasts (``volatile``, ``compress``, ``timeout``,
            ``expectSingleResponse``, ...); unknown ones are kept and may be ignored.
    """

    rooms: tuple[str, ...] = ()
    except_rooms: tuple[str, ...] = ()
    flags: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Broadcast:
    """An event for the matching sockets of every server; with ``request_id``, each client's ack is wanted.

    ``data`` is ``[event, *args]``; ``bytes`` anywhere inside travel as msgpack ``bin``.
    """

    uid: str
    nsp: str
    data: list[Any]
    recipients: Recipients = field(default_factory=Recipients)
    request_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SocketsJoin:
    """Make the matching sockets join ``rooms``; the receiver applies it also when it sent it (classic)."""

    uid: str | None
    nsp: str
    recipients: Recipients
    rooms: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SocketsLeave:
    """Make the matching sockets leave ``rooms``."""

    uid: str | None
    nsp: str
    recipients: Recipients
    rooms: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DisconnectSockets:
    """Disconnect the matching sockets; with ``close``, close their underlying connections too."""

    uid: str | None
    nsp: str
    recipients: Recipients
    close: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSockets:
    """Ask every server for the details of its matching sockets."""

    uid: str
    nsp: str
    request_id: str
    recipients: Recipients = field(default_factory=Recipients)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSideEmit:
    """An event for the other servers themselves (not their clients); with ``request_id``, acks are wanted."""

    uid: str
    nsp: str
    data: list[Any]
    request_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AllRooms:
    """Ask every server for its rooms (classic only)."""

    uid: str
    nsp: str
    request_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SocketIds:
    """Ask every server for the ids of its sockets in ``rooms`` (classic only; sent by adapters <= 7.x)."""

    uid: str
    nsp: str
    request_id: str
    rooms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacySocketCommand:
    """A <= 7.x single-socket command (classic types 2/3/4 with ``sid``): only the owner of ``sid`` answers.

    Attributes:
        kind: ``REMOTE_JOIN``, ``REMOTE_LEAVE`` or ``REMOTE_DISCONNECT``.
        room: the room to join or leave; ``None`` for a disconnect.
        close: for a disconnect, whether to close the connection too.
    """

    uid: str | None
    nsp: str
    request_id: str
    kind: RequestType
    sid: str
    room: str | None = None
    close: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class InitialHeartbeat:
    """A ``ClusterAdapterWithHeartbeat`` node announcing itself; the others answer with a ``Heartbeat``."""

    uid: str
    nsp: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat:
    """A ``ClusterAdapterWithHeartbeat`` node saying it is alive."""

    uid: str
    nsp: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AdapterClose:
    """A ``ClusterAdapterWithHeartbeat`` node leaving the cluster."""

    uid: str
    nsp: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SocketDetails:
    """One socket in a fetch answer, as Node serializes it.

    Attributes:
        handshake: Node's handshake object; it must hold at least ``headers`` (an object).
        data: the socket's ``data``; an object (``{}``, not ``None``) for Node's admin UI.
    """

    id: str
    handshake: dict[str, Any]
    rooms: tuple[str, ...]
    data: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSocketsResponse:
    """One server's answer to ``FetchSockets``; ``uid`` is the responder's (``ClusterAdapter`` only)."""

    uid: str | None
    nsp: str
    request_id: str
    sockets: tuple[SocketDetails, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AllRoomsResponse:
    """One server's answer to ``AllRooms``."""

    nsp: str
    request_id: str
    rooms: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SocketIdsResponse:
    """One server's answer to ``SocketIds``.

    Encode-only: on the wire it differs from a fetch answer by its content alone, and sioactor never sends
    ``SocketIds``, so it never has to read this answer.
    """

    nsp: str
    request_id: str
    sockets: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyCommandDone:
    """The owner's answer to a ``LegacySocketCommand``."""

    nsp: str
    request_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSideEmitResponse:
    """One server's ack of a ``ServerSideEmit``: the ack's first argument (``None`` if it had none)."""

    uid: str | None
    nsp: str
    request_id: str
    data: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class BroadcastClientCount:
    """How many of its clients a server sent a ``Broadcast`` with ``request_id`` to: the acks to expect."""

    uid: str | None
    nsp: str
    request_id: str
    client_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BroadcastAck:
    """One client's ack of a ``Broadcast`` with ``request_id``: the ack's first argument."""

    uid: str | None
    nsp: str
    request_id: str
    data: Any


ClusterMessage = (
    Broadcast
    | SocketsJoin
    | SocketsLeave
    | DisconnectSockets
    | FetchSockets
    | ServerSideEmit
    | AllRooms
    | SocketIds
    | LegacySocketCommand
    | InitialHeartbeat
    | Heartbeat
    | AdapterClose
    | FetchSocketsResponse
    | AllRoomsResponse
    | SocketIdsResponse
    | LegacyCommandDone
    | ServerSideEmitResponse
    | BroadcastClientCount
    | BroadcastAck
)
