"""The Socket.IO packet model shared by both wire formats, and the parser interfaces.

A ``Packet`` is what a wire format decodes to and encodes from. Binary is not a separate kind of packet
here: ``bytes`` anywhere in ``data`` *are* the binary parts. The JSON format needs the wire types
``BINARY_EVENT`` and ``BINARY_ACK`` to announce attachments, so its encoder picks them from the content and
its decoder folds them back into ``EVENT`` and ``ACK``; the layers above only ever see ``EVENT`` and ``ACK``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = (
    "RESERVED_EVENTS",
    "Encoded",
    "Packet",
    "PacketDecoder",
    "PacketType",
    "Parser",
)

# What an encoder returns: exactly ``sioactor.actors.engineio._api.Outgoing`` (not importable here).
Encoded = str | bytes | tuple[str | bytes, ...]

# Event names the official parser refuses from a peer, because its sockets use them for their own life cycle.
RESERVED_EVENTS = frozenset(
    ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener")
)


class PacketType(enum.IntEnum):
    """Socket.IO packet types, valued by their wire digit."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class Packet:
    """One Socket.IO packet.

    Attributes:
        type: the packet type. Decoders return ``EVENT``/``ACK`` for binary packets too (see the module doc);
            encoders accept either spelling and choose from the content.
        nsp: the namespace, ``/`` by default.
        data: ``EVENT``: a list, event name first; ``ACK``: the list of reply arguments; ``CONNECT``: the
            auth object or ``None``; ``CONNECT_ERROR``: ``{"message": ..., "data"?: ...}`` (v5) or a plain
            value (v4); ``DISCONNECT``: ``None``. ``bytes``, ``bytearray`` or ``memoryview`` may appear
            anywhere inside; decoded binary parts are always ``bytes``.
        id: the ack id, or ``None``.
        query: v4 (Socket.IO over Engine.IO v3) ``CONNECT`` only: the query string after ``?`` in the
            namespace.
    """

    type: PacketType
    nsp: str = "/"
    data: Any = None
    id: int | None = None
    query: str | None = None


class PacketDecoder(Protocol):
    """The per-connection decoder of a wire format; it holds a binary packet until its attachments arrive."""

    def feed(self, data: str | bytes) -> Packet | None:
        """Decode one Engine.IO message: the finished packet, or ``None`` while attachments are awaited.

        Raises:
            DecodeError: the message is not a valid packet, or arrives when it cannot (text while attachments
                are awaited, binary when none are).
            PayloadTooLarge: the packet exceeds the decoder's attachment count or total size limit.
        """

    @property
    def pending(self) -> bool:
        """True while a binary packet awaits attachments."""


class Parser(Protocol):
    """One wire format (JSON or msgpack): a stateless encoder and a factory of per-connection decoders."""

    @property
    def name(self) -> str:
        """``"json"`` or ``"msgpack"``."""

    def encode(self, packet: Packet) -> Encoded:
        """Encode *packet* into what ``EngineConnection.send`` takes.

        Raises:
            TypeError: the data holds something the format cannot carry (an unsupported type, an integer
                beyond 64 bits).
        """

    def encode_event(self, nsp: str, event: str, args: Sequence[Any], ack_id: int | None) -> Encoded:
        """Encode an ``EVENT`` packet without building a ``Packet`` first (the emit hot path)."""

    def encode_ack(self, nsp: str, ack_id: int, args: Sequence[Any]) -> Encoded:
        """Encode an ``ACK`` packet answering *ack_id* with *args*, without building a ``Packet`` first."""

    def decoder(self, *, max_attachments: int = 10, max_size: int = 1_000_000) -> PacketDecoder:
        """A new decoder for one connection.

        Args:
            max_attachments: the most binary attachments one packet may announce.
            max_size: the most bytes (characters, for text) one packet may take, all its parts together.
        """


# The decoders' constructor. A frozen dataclass's generated ``__init__`` goes through ``object.__setattr__``
# once per field, by keyword (as much as parsing a small event), and even calling the slots' descriptors
# by hand is slower than plain stores. Plain attribute stores on a class without ``__setattr__`` are
# specialized by the interpreter, so the decoders (this function, and its copy inlined in the msgpack
# decoder's hot path) fill a mutable twin with ``Packet``'s exact slot layout and
# then re-label it: assigning ``__class__`` between two classes of identical layout is a checked CPython
# feature (a ``TypeError`` if the layouts ever differ, which the tests would hit at once).
class _PacketSlots:
    """Mutable twin of ``Packet``'s layout, for the decoders only: set all five fields, then re-label."""

    __slots__ = ("data", "id", "nsp", "query", "type")  # Packet.__slots__ (CPython lays slots out sorted)

    type: PacketType
    nsp: str
    data: Any
    id: int | None
    query: str | None


def make_packet(ptype: PacketType, nsp: str, data: Any, ack_id: int | None, query: str | None) -> Packet:
    """``Packet(type=ptype, nsp=nsp, data=data, id=ack_id, query=query)``, without the keyword and
    ``object.__setattr__`` overhead of the frozen dataclass ``__init__`` (for the decoders' hot path).
    """
    packet = _PacketSlots()
    packet.type = ptype
    packet.nsp = nsp
    packet.data = data
    packet.id = ack_id
    packet.query = query
    packet.__class__ = Packet  # type: ignore[assignment]
    return packet  # type: ignore[return-value]
