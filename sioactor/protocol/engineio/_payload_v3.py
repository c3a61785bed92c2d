"""Engine.IO v3 polling payloads: the length-prefixed text form and the XHR2 binary form.

Text form: each packet as ``<length>:<packet>``, where the length counts UTF-16 code units, as JavaScript's
``string.length`` does (an emoji counts 2), and a binary message is ``b4`` + base64. ``0:`` is the empty
payload.

XHR2 binary form, sent when a payload holds binary and the client did not ask for ``b64``: per packet a kind
byte (0 for a text packet, 1 for a binary one), the length as one byte per *decimal digit* (values 0-9, not
ASCII), a 0xFF byte, then the packet: UTF-8 text, or the type byte 0x04 followed by the data. Here lengths
count bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sioactor._errors import DecodeError
from sioactor.protocol.engineio._packet import Packet, b64encode, decode_packet, decode_text_packet, js_length

__all__ = ("decode_v3_binary", "decode_v3_text", "encode_v3_binary", "encode_v3_text")

# Items are already-encoded text packets ("4hello", "2probe") or the data of a binary message.
Item = str | bytes

_TO_DIGIT_BYTES = bytes.maketrans(b"0123456789", bytes(range(10)))
_FROM_DIGIT_BYTES = bytes.maketrans(bytes(range(10)), b"0123456789")
# More digits than a length can honestly need under any max_payload; refuse before calling int() on them.
_MAX_DIGITS = 10


def encode_v3_text(items: Sequence[Item]) -> str:
    """Frame *items* as a v3 text payload; binary messages go as ``b4`` + base64."""
    if not items:
        return "0:"
    parts = []
    for item in items:
        text = item if isinstance(item, str) else "b4" + b64encode(item)
        parts.append(f"{js_length(text)}:{text}")
    return "".join(parts)


def encode_v3_binary(items: Sequence[Item]) -> bytes:
    """Frame *items* as a v3 XHR2 binary payload."""
    parts: list[bytes] = []
    for item in items:
        if isinstance(item, str):
            data = item.encode("utf-8")
            kind = b"\x00"
        else:
            data = b"\x04" + item
            kind = b"\x01"
        parts += (kind, str(len(data)).encode("ascii").translate(_TO_DIGIT_BYTES), b"\xff", data)
    return b"".join(parts)


def decode_v3_text(body: str) -> list[Packet]:
    """Decode a v3 text payload.

    Raises:
        DecodeError: a missing or non-numeric length, a length past the end of the body, or a bad packet.
    """
    if not body:
        raise DecodeError("empty payload")
    # Lengths count UTF-16 units; while no character lies outside the BMP, units and characters coincide.
    bmp_only = body.isascii() or js_length(body) == len(body)
    packets = []
    pos = 0
    size = len(body)
    while pos < size:
        colon = body.find(":", pos, pos + _MAX_DIGITS + 1)
        digits = body[pos:colon]
        if colon < 0 or not (digits.isascii() and digits.isdigit()):
            raise DecodeError(f"bad length prefix at offset {pos}")
        start = colon + 1
        end = start + int(digits) if bmp_only else _end_of_units(body, start, int(digits))
        if end > size:
            raise DecodeError(f"packet length {digits} runs past the end of the payload")
        if end > start:
            packets.append(decode_text_packet(body[start:end], 3))
        pos = end
    return packets


def _end_of_units(body: str, start: int, units: int) -> int:
    """The index in *body* where *units* UTF-16 code units counted from *start* end.

    A first guess of one unit per character overshoots by one character per non-BMP one, so shrink by half the
    surplus until it fits; landing one unit short means the length cut a surrogate pair in two.
    """
    end = min(start + units, len(body))
    while True:
        counted = js_length(body[start:end])
        if counted == units:
            return end
        if counted < units:
            raise DecodeError("packet length runs past the end of the payload or splits a character")
        end -= (counted - units + 1) // 2


def decode_v3_binary(body: bytes) -> list[Packet]:
    """Decode a v3 XHR2 binary payload.

    Raises:
        DecodeError: an unknown kind byte, a bad length, a truncated packet, or text that is not UTF-8.
    """
    packets = []
    pos = 0
    size = len(body)
    while pos < size:
        kind = body[pos]
        stop = body.find(b"\xff", pos + 1, pos + _MAX_DIGITS + 2)
        digits = body[pos + 1 : stop]
        if kind > 1 or stop < 0 or not digits or max(digits) > 9:
            raise DecodeError(f"bad binary payload header at offset {pos}")
        start = stop + 1
        end = start + int(digits.translate(_FROM_DIGIT_BYTES))
        if end > size:
            raise DecodeError("binary payload packet runs past the end of the body")
        packets.append(_decode_binary_item(body[start:end], kind))
        pos = end
    return packets


def _decode_binary_item(chunk: bytes, kind: int) -> Packet:
    if kind == 1:
        return decode_packet(chunk, protocol=3)
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("text packet in binary payload is not UTF-8") from None
    return decode_text_packet(text, 3)
