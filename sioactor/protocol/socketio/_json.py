"""The default wire format: Socket.IO packets as text, with binary parts sent as separate attachments.

    <type>[<attachments>-][<nsp>,][<ack id>][<JSON data>]      e.g.  2/chat,12["message",1]

The namespace is written only when it is not ``/``; binary packets (type 5 or 6) carry the attachment count,
then one binary Engine.IO message per attachment follows the text. JSON is compact with keys in insertion
order (orjson's default), which the official test suite compares byte for byte.

Payload corner cases, decided here:
- Encoding: keys that are not strings are written as JSON.stringify would (``1`` → ``"1"``); integers beyond
  64 bits and types JSON cannot carry raise ``TypeError`` naming the problem.
- Decoding: orjson parses first; what it refuses but JavaScript can send (numbers that overflow a double, lone
  surrogates in strings) is retried with the standard library, so a Node peer is never cut off for it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

import orjson

from sioactor._errors import DecodeError, PayloadTooLarge
from sioactor.protocol.socketio._binary import Attachments, reconstruct
from sioactor.protocol.socketio._packet import RESERVED_EVENTS, Encoded, Packet, PacketType, make_packet

__all__ = ("JSON_PARSER", "JsonDecoder", "JsonParser", "decode_text")

_EVENT, _ACK = PacketType.EVENT, PacketType.ACK
_BINARY_TYPES = (PacketType.BINARY_EVENT, PacketType.BINARY_ACK)
_TYPES: Final = {str(t.value): t for t in PacketType}
_DIGITS = frozenset("0123456789")
# Longer ack ids or attachment counts are garbage: the official client counts acks up from 0.
_MAX_DIGITS = 16


def _dumps(data: Any) -> tuple[str, list[bytes]]:
    """Serialize *data*; return the JSON text and the binary parts taken out of it (usually none)."""
    try:
        return orjson.dumps(data).decode(), []
    except orjson.JSONEncodeError:
        pass  # binary parts, non-string keys or a real error: take the slow path, which tells them apart
    hook = Attachments()
    try:
        text = orjson.dumps(data, default=hook, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError as exc:
        raise TypeError(f"cannot encode Socket.IO payload as JSON: {exc}") from None
    return text, hook.parts


def _header(ptype: int, nsp: str, query: str | None, ack_id: int | None, parts: int) -> str:
    head = str(ptype)
    if parts:
        head = f"{ptype + 3}{parts}-"  # EVENT (2) → BINARY_EVENT (5), ACK (3) → BINARY_ACK (6)
    if nsp != "/" or query is not None:
        head += f"{nsp}?{query}," if query is not None else f"{nsp},"
    if ack_id is not None:
        head += str(ack_id)
    return head


def _encode(ptype: int, nsp: str, query: str | None, ack_id: int | None, data: Any) -> Encoded:
    if data is None:
        return _header(ptype, nsp, query, ack_id, 0)
    text, parts = _dumps(data)
    if not parts:
        return _header(ptype, nsp, query, ack_id, 0) + text
    if ptype not in (_EVENT, _ACK):
        raise TypeError(f"binary data can only travel in EVENT or ACK packets, not {PacketType(ptype).name}")
    return (_header(ptype, nsp, query, ack_id, len(parts)) + text, *parts)


class JsonParser:
    """The JSON wire format (npm ``socket.io-parser``); use the ``JSON_PARSER`` singleton."""

    __slots__ = ()

    @property
    def name(self) -> str:
        """``"json"``."""
        return "json"

    def encode(self, packet: Packet) -> Encoded:
        """A ``str``, or for binary data a tuple ``(text, *attachments)``; see ``Parser.encode``."""
        ptype = packet.type
        if ptype in _BINARY_TYPES:
            ptype = PacketType(ptype - 3)
        return _encode(ptype, packet.nsp, packet.query, packet.id, packet.data)

    def encode_event(self, nsp: str, event: str, args: Sequence[Any], ack_id: int | None) -> Encoded:
        """Encode ``EVENT`` *event* with *args*; see ``Parser.encode_event``."""
        text, parts = _dumps([event, *args])
        if not parts:
            if nsp == "/" and ack_id is None:
                return "2" + text
            return _header(2, nsp, None, ack_id, 0) + text
        return (_header(2, nsp, None, ack_id, len(parts)) + text, *parts)

    def encode_ack(self, nsp: str, ack_id: int, args: Sequence[Any]) -> Encoded:
        """Encode ``ACK`` *ack_id* with *args*; see ``Parser.encode_ack``."""
        text, parts = _dumps(list(args))
        if not parts:
            return ("3" if nsp == "/" else _header(3, nsp, None, None, 0)) + str(ack_id) + text
        return (_header(3, nsp, None, ack_id, len(parts)) + text, *parts)

    def decoder(self, *, max_attachments: int = 10, max_size: int = 1_000_000) -> JsonDecoder:
        """A new per-connection decoder; see ``Parser.decoder``."""
        return JsonDecoder(max_attachments=max_attachments, max_size=max_size)


JSON_PARSER: Final = JsonParser()


class JsonDecoder:
    """Decodes the JSON format one Engine.IO message at a time; holds a binary packet for its attachments."""

    __slots__ = ("_head", "_max_attachments", "_max_size", "_parts", "_size", "_wanted")

    def __init__(self, *, max_attachments: int = 10, max_size: int = 1_000_000) -> None:
        self._max_attachments = max_attachments
        self._max_size = max_size
        self._head: Packet | None = None  # the text part of the binary packet being assembled
        self._parts: list[bytes] = []
        self._wanted = 0
        self._size = 0

    @property
    def pending(self) -> bool:
        """True while a binary packet awaits attachments."""
        return self._head is not None

    def feed(self, data: str | bytes) -> Packet | None:
        """Decode one Engine.IO message; see ``PacketDecoder.feed``."""
        if isinstance(data, str):
            if self._head is not None:
                raise DecodeError("text message received while a binary packet awaits its attachments")
            return self._feed_text(data)
        return self._feed_binary(bytes(data))

    def _feed_text(self, text: str) -> Packet | None:
        if len(text) > self._max_size:
            raise PayloadTooLarge(
                f"packet of {len(text)} characters exceeds max_size {self._max_size}",
                size=len(text),
                limit=self._max_size,
            )
        packet, attachments = _decode(text)
        if attachments < 0:
            return packet
        if attachments > self._max_attachments:
            raise PayloadTooLarge(
                f"packet announces {attachments} attachments; max_attachments is {self._max_attachments}",
                size=attachments,
                limit=self._max_attachments,
            )
        self._head, self._parts, self._wanted, self._size = packet, [], attachments, len(text)
        return self._finish() if attachments == 0 else None

    def _feed_binary(self, part: bytes) -> Packet | None:
        if self._head is None:
            raise DecodeError("binary message received but no binary packet awaits attachments")
        self._size += len(part)
        if self._size > self._max_size:
            raise PayloadTooLarge(
                f"binary packet of at least {self._size} bytes exceeds max_size {self._max_size}",
                size=self._size,
                limit=self._max_size,
            )
        self._parts.append(part)
        return self._finish() if len(self._parts) == self._wanted else None

    def _finish(self) -> Packet:
        head, parts = self._head, self._parts
        assert head is not None
        self._head, self._parts = None, []
        try:
            data = reconstruct(head.data, parts)
        except RecursionError:
            raise DecodeError("binary packet data nested too deeply") from None
        return make_packet(head.type, head.nsp, data, head.id, None)


def decode_text(text: str) -> Packet:
    """Decode one complete, non-binary packet (a convenience for tests and tools).

    Raises:
        DecodeError: *text* is not a valid packet, or is the text part of a binary packet.
    """
    packet, attachments = _decode(text)
    if attachments >= 0:
        raise DecodeError("text part of a binary packet; use a decoder to join its attachments")
    return packet


def _decode(text: str) -> tuple[Packet, int]:
    """Parse a text packet; return it and its attachment count (-1 when it is not a binary packet).

    A binary packet comes back typed EVENT or ACK with placeholders still in its data.
    """
    ptype = _TYPES.get(text[:1])
    if ptype is None:
        raise DecodeError(f"unknown Socket.IO packet type {text[:1]!r}")
    if ptype == _EVENT:  # the common cases: an event on "/", without an ack id or with one
        if text[1:2] == "[":
            return make_packet(_EVENT, "/", _check_data(_EVENT, _loads(text[1:])), None, None), -1
        bracket = text.find("[", 2, 2 + _MAX_DIGITS)
        digits = text[1:bracket]
        if bracket > 1 and digits.isascii() and digits.isdigit():
            data = _check_data(_EVENT, _loads(text[bracket:]))
            return make_packet(_EVENT, "/", data, int(digits), None), -1
    pos, attachments = 1, -1
    if ptype in _BINARY_TYPES:
        pos, attachments = _attachment_count(text)
        ptype = PacketType(ptype - 3)
    nsp, query, pos = _namespace(text, pos)
    end = pos
    while end < len(text) and text[end] in _DIGITS:
        end += 1
    if end - pos > _MAX_DIGITS:
        raise DecodeError(f"ack id {text[pos:end]!r} is too long")
    ack_id = int(text[pos:end]) if end > pos else None
    data = _check_data(ptype, _loads(text[end:])) if end < len(text) else None
    if data is None:
        _check_empty(ptype)
    return make_packet(ptype, nsp, data, ack_id, query), attachments


def _attachment_count(text: str) -> tuple[int, int]:
    dash = text.find("-", 1, _MAX_DIGITS + 2)
    digits = text[1:dash]
    if dash < 0 or not digits or not _DIGITS.issuperset(digits):
        raise DecodeError(f"binary packet without a valid attachment count: {text[:20]!r}")
    return dash + 1, int(digits)


def _namespace(text: str, pos: int) -> tuple[str, str | None, int]:
    """Read the namespace at *pos* (``/`` when absent); return it, its v4 query and the position after it."""
    if text[pos : pos + 1] != "/":
        return "/", None, pos
    comma = text.find(",", pos)
    end = len(text) if comma < 0 else comma
    nsp, mark, query = text[pos:end].partition("?")
    return nsp, (query if mark else None), (end if comma < 0 else comma + 1)


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"invalid JSON in Socket.IO packet: {exc}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_data(ptype: PacketType, data: Any) -> Any:
    """Apply the official parser's payload rules for each packet type."""
    if ptype == _EVENT:
        if type(data) is not list or not data or type(data[0]) is not str:
            raise DecodeError("EVENT payload must be an array whose first item is the event name")
        if data[0] in RESERVED_EVENTS:
            raise DecodeError(f"event name {data[0]!r} is reserved")
    elif ptype == _ACK:
        if type(data) is not list:
            raise DecodeError("ACK payload must be an array")
    elif ptype == PacketType.CONNECT:
        if type(data) is not dict:
            raise DecodeError("CONNECT payload must be an object")
    elif ptype == PacketType.CONNECT_ERROR:
        if type(data) not in (str, dict):
            raise DecodeError("CONNECT_ERROR payload must be a string or an object")
    else:
        raise DecodeError(f"{ptype.name} packet must not carry a payload")
    return data


def _check_empty(ptype: PacketType) -> None:
    if ptype in (_EVENT, _ACK):
        raise DecodeError(f"{ptype.name} packet without its payload array")
