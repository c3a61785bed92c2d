"""The msgpack wire format, compatible with npm ``socket.io-msgpack-parser`` 3.x (notepack.io inside).

Each packet is one binary Engine.IO message: a msgpack map with keys ``type``, ``nsp``, ``data`` and ``id``.
Absent keys are omitted, never nil, because the JavaScript decoder refuses ``data: null`` and ``id: null``.
Binary parts travel inline as msgpack ``bin``; there are no attachments and no binary packet types.

What Node and browser peers send, and how it decodes here:
- notepack writes JavaScript ``undefined`` as ext type 0 with one zero byte (``d4 00 00``): a client
  connecting without auth sends it as ``data``. It decodes to ``None`` (so to an absent ``data`` at the top).
- notepack writes an ``ArrayBuffer`` or typed array (what browsers send) as ext type 0 of its length, and a
  ``Date`` as an 8-byte ext type 0; both decode to ``bytes``. (A one-byte ``ArrayBuffer`` holding 0 cannot be
  told apart from ``undefined`` and decodes to ``None``.)
- events carry an extra ``options`` key (``{"compress": true}``); unknown keys are ignored.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Final

import msgpack

from sioactor._errors import DecodeError, PayloadTooLarge
from sioactor.protocol.socketio._packet import (
    RESERVED_EVENTS,
    Encoded,
    Packet,
    PacketType,
    _PacketSlots,
    make_packet,
)

__all__ = ("MSGPACK_PARSER", "MsgpackDecoder", "MsgpackParser")

_EVENT, _ACK, _CONNECT = PacketType.EVENT, PacketType.ACK, PacketType.CONNECT
_UNDEFINED = b"\x00"
_unpackb = msgpack.unpackb
_TYPES = tuple(PacketType)


# msgpack.packb() builds a Packer per call, and a Packer mallocs and frees a 256 KiB buffer: much of the
# cost of packing a small event. Packers are reused from a pool instead. Not one shared Packer: it is not
# thread-safe, nor reentrant (a finalizer run by the garbage collector mid-pack could encode too), and this
# layer may not import threading. list.pop() and append() are atomic, so a packer is only ever in one
# caller's hands; the pool holds as many as were ever in use at once (one, on a single event loop). A packer
# that packed something large keeps its grown buffer, so it is dropped rather than pooled.
_PACKERS: list[msgpack.Packer] = []
_POOLED_SIZE_MAX = 256 * 1024


def _pack(obj: dict[str, Any]) -> bytes:
    try:
        packer = _PACKERS.pop()
    except IndexError:
        packer = msgpack.Packer(use_bin_type=True)
    try:
        packed: bytes = packer.pack(obj)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"cannot encode Socket.IO payload as msgpack: {exc}") from None
    if len(packed) <= _POOLED_SIZE_MAX:
        _PACKERS.append(packer)
    return packed


class MsgpackParser:
    """The msgpack wire format; use the ``MSGPACK_PARSER`` singleton."""

    __slots__ = ()

    @property
    def name(self) -> str:
        """``"msgpack"``."""
        return "msgpack"

    def encode(self, packet: Packet) -> Encoded:
        """One ``bytes`` frame; see ``Parser.encode``."""
        ptype = packet.type
        if ptype >= PacketType.BINARY_EVENT:
            ptype = PacketType(ptype - 3)  # no binary types in this format: bin travels inline
        nsp = packet.nsp if packet.query is None else f"{packet.nsp}?{packet.query}"
        obj: dict[str, Any] = {"type": int(ptype), "nsp": nsp}
        if packet.data is not None:
            obj["data"] = packet.data
        if packet.id is not None:
            obj["id"] = packet.id
        return _pack(obj)

    def encode_event(self, nsp: str, event: str, args: Sequence[Any], ack_id: int | None) -> Encoded:
        """Encode ``EVENT`` *event* with *args*; see ``Parser.encode_event``."""
        obj: dict[str, Any] = {"type": 2, "nsp": nsp, "data": [event, *args]}
        if ack_id is not None:
            obj["id"] = ack_id
        return _pack(obj)

    def encode_ack(self, nsp: str, ack_id: int, args: Sequence[Any]) -> Encoded:
        """Encode ``ACK`` *ack_id* with *args*; see ``Parser.encode_ack``."""
        return _pack({"type": 3, "nsp": nsp, "data": list(args), "id": ack_id})

    def decoder(self, *, max_attachments: int = 10, max_size: int = 1_000_000) -> MsgpackDecoder:
        """A new per-connection decoder; *max_attachments* does not apply to this format."""
        return MsgpackDecoder(max_size=max_size)


MSGPACK_PARSER: Final = MsgpackParser()


class MsgpackDecoder:
    """Decodes the msgpack format; every packet is complete in one message, so it is never pending."""

    __slots__ = ("_max_size",)

    def __init__(self, *, max_size: int = 1_000_000) -> None:
        self._max_size = max_size

    @property
    def pending(self) -> bool:
        """Always false: this format has no attachments."""
        return False

    def feed(self, data: str | bytes) -> Packet:
        """Decode one binary Engine.IO message; see ``PacketDecoder.feed``."""
        if len(data) > self._max_size:
            raise PayloadTooLarge(
                f"packet of {len(data)} bytes exceeds max_size {self._max_size}",
                size=len(data),
                limit=self._max_size,
            )
        try:
            obj = _unpackb(data, strict_map_key=False, ext_hook=_ext_hook)  # raw=False is the default
        except (ValueError, TypeError, RecursionError, msgpack.UnpackException) as exc:
            # A text message is refused here, off the hot path: unpackb() takes no str.
            if isinstance(data, str):
                raise DecodeError(
                    "text message received, but the msgpack parser takes binary messages only"
                ) from None
            raise DecodeError(f"invalid msgpack in Socket.IO packet: {exc}") from None
        # The common cases in one pass, inline (a call or method lookup is a visible share of a small packet's
        # decode): a valid EVENT or ACK without a query. Anything else, valid or not, including a top level
        # that is not a map (its subscript raises TypeError), goes through the general checks of _general().
        try:
            ptype, nsp, payload = obj["type"], obj["nsp"], obj["data"]
        except (KeyError, TypeError):
            return _general(obj)
        ack_id = obj["id"] if "id" in obj else None  # noqa: SIM401 - a test and subscript beat .get() here
        if (
            type(ptype) is int
            and type(nsp) is str
            and type(payload) is list
            and (ack_id is None or type(ack_id) is int)
            and "?" not in nsp
        ):
            if ptype == 2:
                if not payload or type(name := payload[0]) is not str or name in RESERVED_EVENTS:
                    return _general(obj)
                kind = _EVENT
            elif ptype == 3:
                kind = _ACK
            else:
                return _general(obj)
            packet = _PacketSlots()  # make_packet(kind, nsp, payload, ack_id, None), inline
            packet.type = kind
            packet.nsp = nsp
            packet.data = payload
            packet.id = ack_id
            packet.query = None
            packet.__class__ = Packet  # type: ignore[assignment]
            return packet  # type: ignore[return-value]
        return _general(obj)


# decode_msgpack() is the decoder's code without a size limit; the decoder holds the only copy of it, so that
# feed(), the hot path, makes no further call.
_UNLIMITED: Final = MsgpackDecoder(max_size=sys.maxsize)


def decode_msgpack(data: bytes) -> Packet:
    """Decode one msgpack packet.

    Raises:
        DecodeError: *data* is not valid msgpack, or not a packet the official parser would accept.
    """
    return _UNLIMITED.feed(data)


def _general(obj: Any) -> Packet:
    if type(obj) is not dict:
        raise DecodeError("msgpack Socket.IO packet must be a map")
    ptype = _packet_type(obj.get("type"))
    nsp, query = _namespace(obj.get("nsp"))
    ack_id = obj.get("id")
    if ack_id is not None and type(ack_id) is not int:
        raise DecodeError(f"ack id must be an integer, not {type(ack_id).__name__}")
    return make_packet(ptype, nsp, _check_data(ptype, obj.get("data")), ack_id, query)


def _ext_hook(code: int, payload: bytes) -> Any:
    if code != 0:
        raise DecodeError(f"msgpack extension type {code} is not part of the Socket.IO msgpack format")
    return None if payload == _UNDEFINED else payload


def _packet_type(value: Any) -> PacketType:
    if type(value) is not int or not 0 <= value <= PacketType.CONNECT_ERROR:
        raise DecodeError(f"invalid Socket.IO packet type {value!r}")
    return _TYPES[value]  # a tuple index: calling the enum costs more than the rest of the check


def _namespace(value: Any) -> tuple[str, str | None]:
    if type(value) is not str:
        raise DecodeError("Socket.IO packet namespace must be a string")
    if "?" not in value:
        return value, None
    nsp, mark, query = value.partition("?")
    return nsp, (query if mark else None)


def _check_data(ptype: PacketType, data: Any) -> Any:
    """Apply ``socket.io-msgpack-parser``'s payload rules (and the JSON format's rule on event names)."""
    if ptype == _EVENT:
        if type(data) is not list or not data or type(data[0]) is not str:
            raise DecodeError("EVENT payload must be an array whose first item is the event name")
        if data[0] in RESERVED_EVENTS:
            raise DecodeError(f"event name {data[0]!r} is reserved")
    elif ptype == _ACK:
        if type(data) is not list:
            raise DecodeError("ACK payload must be an array")
    elif ptype == _CONNECT:
        if data is not None and type(data) is not dict:
            raise DecodeError("CONNECT payload must be a map")
    elif ptype == PacketType.CONNECT_ERROR:
        if type(data) not in (str, dict):
            raise DecodeError("CONNECT_ERROR payload must be a string or a map")
    elif data is not None:
        raise DecodeError("DISCONNECT packet must not carry a payload")
    return data
