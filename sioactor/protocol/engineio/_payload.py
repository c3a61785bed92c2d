"""Engine.IO polling payloads (v3 and v4), and the framing of a session's outbox entries.

v4 joins packets with the record separator ``\\x1e`` and sends a binary message as ``b`` + base64. v3 has
two forms, in ``_payload_v3``. ``encode_outbox_payload`` and ``encode_ws_frames`` are the per-message hot
path: they frame outbox entries (message payloads as the Socket.IO layer queued them) without building
``Packet`` objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sioactor._errors import DecodeError, PayloadTooLarge
from sioactor.protocol.engineio._packet import (
    EngineProtocol,
    Packet,
    PacketType,
    b64encode,
    decode_text_packet,
    encode_packet,
)
from sioactor.protocol.engineio._payload_v3 import (
    decode_v3_binary,
    decode_v3_text,
    encode_v3_binary,
    encode_v3_text,
)

__all__ = (
    "OutboxEntry",
    "Uncompressed",
    "decode_payload",
    "encode_outbox_payload",
    "encode_payload",
    "encode_ws_frames",
    "payload_packets",
)


@dataclass(frozen=True, slots=True)
class Uncompressed:
    """A message (or a group of messages) the transport must send as it is, never compressed: Node's
    ``socket.compress(false).emit(...)``. Framed exactly as *message* would be."""

    message: str | bytes | tuple[str | bytes, ...]


# One entry of an engine session's outbox: a text message, a binary message, a group of messages that must
# travel together (any of these possibly marked ``Uncompressed``), or a control packet (ping, close...).
OutboxEntry = str | bytes | Packet | tuple[str | bytes, ...] | Uncompressed

_SEPARATOR = "\x1e"
_MESSAGE = "4"
_V3_BINARY_MESSAGE = b"\x04"


def encode_payload(
    packets: Iterable[Packet], *, protocol: EngineProtocol = 4, b64: bool = False
) -> str | bytes:
    """Encode *packets* as one polling response body.

    v4 always gives text. v3 gives the length-prefixed text form, or the XHR2 binary form (bytes) when a
    packet is binary and the client did not ask for ``b64``.
    """
    if protocol == 4:
        return _SEPARATOR.join(_v4_text(packet) for packet in packets)
    return _encode_v3([_item(packet) for packet in packets], b64)


def encode_outbox_payload(
    entries: Iterable[OutboxEntry], *, protocol: EngineProtocol = 4, b64: bool = False
) -> str | bytes:
    """Frame a session's outbox *entries* into one polling response body.

    A str is a text MESSAGE, bytes a binary MESSAGE, a tuple its items in order, a Packet that packet.
    """
    if protocol == 4:
        parts: list[str] = []
        for entry in entries:
            if isinstance(entry, str):
                parts.append(_MESSAGE + entry)
            elif isinstance(entry, bytes):
                parts.append("b" + b64encode(entry))
            elif isinstance(entry, tuple):
                parts += [
                    _MESSAGE + item if isinstance(item, str) else "b" + b64encode(item) for item in entry
                ]
            elif isinstance(entry, Uncompressed):
                text = encode_outbox_payload((entry.message,))
                assert isinstance(text, str), "a v4 payload is text"
                parts.append(text)
            else:
                parts.append(_v4_text(entry))
        return _SEPARATOR.join(parts)
    items: list[str | bytes] = []
    for entry in entries:
        _add_v3_items(items, entry)
    return _encode_v3(items, b64)


def encode_ws_frames(entry: OutboxEntry, *, protocol: EngineProtocol = 4) -> list[str | bytes]:
    """The WebSocket frames for one outbox *entry*: ``4`` + text; raw (v4) or ``0x04``-prefixed (v3) bytes."""
    if isinstance(entry, str):
        return [_MESSAGE + entry]
    if isinstance(entry, bytes):
        return [entry if protocol == 4 else _V3_BINARY_MESSAGE + entry]
    if isinstance(entry, tuple):
        return [_ws_message(item, protocol) for item in entry]
    if isinstance(entry, Uncompressed):
        return encode_ws_frames(entry.message, protocol=protocol)
    return [encode_packet(entry, protocol=protocol)]


def decode_payload(
    body: str | bytes, *, protocol: EngineProtocol = 4, max_payload: int = 1_000_000
) -> list[Packet]:
    """Decode a polling request body from the peer into its packets.

    Raises:
        PayloadTooLarge: *body* is longer than *max_payload* (bytes, or characters for a str); nothing was
            parsed.
        DecodeError: the body is empty, not UTF-8 where it must be text, or holds a malformed packet.
    """
    return list(payload_packets(body, protocol=protocol, max_payload=max_payload))


def payload_packets(
    body: str | bytes, *, protocol: EngineProtocol = 4, max_payload: int = 1_000_000
) -> Iterator[Packet]:
    """``decode_payload`` one packet at a time, for a caller that hands each on before decoding the next (a
    body of a megabyte may hold a hundred thousand packets). The size and the encoding are checked now; a v4
    packet is decoded when it is reached, so the packets before a malformed one are delivered, as Node does.

    Raises:
        PayloadTooLarge: as ``decode_payload``, now.
        DecodeError: as ``decode_payload``; from the iterator for a malformed v4 packet.
    """
    if len(body) > max_payload:
        raise PayloadTooLarge(
            f"payload of {len(body)} exceeds maxPayload {max_payload}", size=len(body), limit=max_payload
        )
    if not isinstance(body, str):
        # A v3 XHR2 body starts with its kind byte, 0 or 1; every text body starts with a printable character.
        if protocol == 3 and body[:1] in (b"\x00", b"\x01"):
            return iter(decode_v3_binary(bytes(body)))
        body = _utf8(body)
    if protocol == 3:
        return iter(decode_v3_text(body))
    if not body:
        raise DecodeError("empty payload")
    return (decode_text_packet(part, 4) for part in body.split(_SEPARATOR))


def _utf8(body: bytes) -> str:
    try:
        return str(body, "utf-8")
    except UnicodeDecodeError:
        raise DecodeError("payload is not valid UTF-8") from None


def _v4_text(packet: Packet) -> str:
    data = packet.data
    if isinstance(data, str):
        return str(int(packet.type)) + data
    _check_binary(packet)
    return "b" + b64encode(data)


def _item(packet: Packet) -> str | bytes:
    """A packet as a v3 payload item: its encoded text, or the data of a binary message."""
    data = packet.data
    if isinstance(data, str):
        return str(int(packet.type)) + data
    _check_binary(packet)
    return data


def _check_binary(packet: Packet) -> None:
    if packet.type is not PacketType.MESSAGE:
        raise ValueError(f"only a MESSAGE packet may carry bytes, not {packet.type.name}")


def _add_v3_items(items: list[str | bytes], entry: OutboxEntry) -> None:
    if isinstance(entry, str):
        items.append(_MESSAGE + entry)
    elif isinstance(entry, bytes):
        items.append(entry)
    elif isinstance(entry, tuple):
        items += [_MESSAGE + item if isinstance(item, str) else item for item in entry]
    elif isinstance(entry, Uncompressed):
        _add_v3_items(items, entry.message)
    else:
        items.append(_item(entry))


def _encode_v3(items: list[str | bytes], b64: bool) -> str | bytes:
    if not b64 and any(isinstance(item, bytes) for item in items):
        return encode_v3_binary(items)
    return encode_v3_text(items)


def _ws_message(item: str | bytes, protocol: EngineProtocol) -> str | bytes:
    if isinstance(item, str):
        return _MESSAGE + item
    return item if protocol == 4 else _V3_BINARY_MESSAGE + item
