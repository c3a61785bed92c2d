"""Engine.IO packets in their WebSocket frame form, for protocol revisions 3 and 4.

A text frame is the packet type's digit followed by its data (``4hello``, ``2probe``). A binary frame carries
a binary MESSAGE: in v4 the raw bytes, in v3 the type byte ``0x04`` followed by them. Inside polling payloads
a binary message travels as text, ``b`` + base64 (v4) or ``b4`` + base64 (v3); ``decode_packet`` accepts
that form too, as the reference parser does.
"""

from __future__ import annotations

import binascii
import enum
from dataclasses import dataclass
from typing import Literal

from sioactor._errors import DecodeError

__all__ = (
    "EngineProtocol",
    "Packet",
    "PacketType",
    "b64decode",
    "b64encode",
    "decode_packet",
    "decode_text_packet",
    "encode_packet",
    "js_length",
)

EngineProtocol = Literal[3, 4]


class PacketType(enum.IntEnum):
    """An Engine.IO packet type, valued by its wire digit."""

    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


@dataclass(frozen=True, slots=True)
class Packet:
    """One Engine.IO packet.

    Attributes:
        type: the packet type.
        data: the packet's data; ``bytes`` only for a binary MESSAGE, ``str`` (often empty) otherwise.
    """

    type: PacketType
    data: str | bytes = ""


# Indexed by the type's wire character, so decoding a text packet is one dict lookup, no int() or enum call.
_TYPE_BY_CHAR = {str(int(t)): t for t in PacketType}
_MESSAGE_BYTE = b"\x04"


def js_length(text: str) -> int:
    """The length of *text* as JavaScript counts it: in UTF-16 code units (a non-BMP character counts 2)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def b64encode(data: bytes) -> str:
    """Standard, padded base64 of *data*, as a str."""
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode strict, padded base64 from the peer.

    Raises:
        DecodeError: *text* is not valid base64 (bad alphabet, truncated, wrong padding).
    """
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        raise DecodeError(f"invalid base64 in binary packet: {text[:32]!r}") from None


def encode_packet(packet: Packet, *, protocol: EngineProtocol = 4) -> str | bytes:
    """Encode *packet* as one WebSocket frame: a str for a text frame, bytes for a binary one.

    Raises:
        ValueError: *packet* has bytes data but is not a MESSAGE (a caller's bug, not the peer's).
    """
    data = packet.data
    if isinstance(data, str):
        return str(int(packet.type)) + data
    if packet.type is not PacketType.MESSAGE:
        raise ValueError(f"only a MESSAGE packet may carry bytes, not {packet.type.name}")
    return data if protocol == 4 else _MESSAGE_BYTE + data


def decode_packet(frame: str | bytes, *, protocol: EngineProtocol = 4) -> Packet:
    """Decode one WebSocket frame (or one packet of a polling payload) from the peer.

    Raises:
        DecodeError: an empty frame, an unknown type, invalid base64, or a v3 binary frame that is not a
            message.
    """
    if isinstance(frame, str):
        return decode_text_packet(frame, protocol)
    if protocol == 4:
        return Packet(PacketType.MESSAGE, bytes(frame))
    if not frame:
        raise DecodeError("empty binary frame (v3 needs a type byte)")
    if frame[0] != PacketType.MESSAGE:
        raise DecodeError(f"v3 binary frame of type {frame[0]}; only messages may be binary")
    return Packet(PacketType.MESSAGE, bytes(frame[1:]))


def decode_text_packet(frame: str, protocol: EngineProtocol) -> Packet:
    """``decode_packet`` for a str, without the type dispatch: for the payload decoders' loops."""
    packet_type = _TYPE_BY_CHAR.get(frame[:1])
    if packet_type is not None:
        return Packet(packet_type, frame[1:])
    if frame[:1] == "b":
        return _decode_base64_packet(frame, protocol)
    if not frame:
        raise DecodeError("empty packet")
    raise DecodeError(f"unknown packet type {frame[:1]!r}")


def _decode_base64_packet(frame: str, protocol: EngineProtocol) -> Packet:
    # v4 writes "b<base64>" (always a message); v3 writes "b<type digit><base64>".
    if protocol == 4:
        return Packet(PacketType.MESSAGE, b64decode(frame[1:]))
    if frame[1:2] != "4":
        raise DecodeError(f"v3 base64 packet of type {frame[1:2]!r}; only messages may be binary")
    return Packet(PacketType.MESSAGE, b64decode(frame[2:]))
