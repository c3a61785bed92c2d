"""The frames between a worker and its supervisor's pub/sub hub (``sioactor serve --workers N``): the few
Redis pub/sub commands the cluster adapter uses, over a local stream socket.

    frame      = length:u32 kind:u8 field*          (length counts kind and fields)
    field      = size:u32 bytes

    worker → hub   SUBSCRIBE name | PSUBSCRIBE pattern | UNSUBSCRIBE name | PUNSUBSCRIBE pattern
                   PUBLISH channel payload | NUMSUB request-id channel | READY worker-index
    hub → worker   MESSAGE pattern-or-"" channel payload | NUMSUB_REPLY request-id count

Ids and counts are decimal text fields, so every field is bytes. A frame over ``MAX_FRAME`` or one that does
not parse raises ``DecodeError``: the peer is a process of the same program, so either means a bug, and the
connection is dropped.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import Final

from sioactor._errors import DecodeError

__all__ = ("MAX_FRAME", "FrameKind", "FrameReader", "encode_frame")

MAX_FRAME: Final = 64 * 1024 * 1024
_SIZE = struct.Struct(">I")


class FrameKind(IntEnum):
    """What a frame asks or tells; valued by its wire byte."""

    SUBSCRIBE = 1
    PSUBSCRIBE = 2
    UNSUBSCRIBE = 3
    PUNSUBSCRIBE = 4
    PUBLISH = 5
    NUMSUB = 6
    MESSAGE = 7
    NUMSUB_REPLY = 8
    READY = 9


def encode_frame(kind: FrameKind, *fields: bytes) -> bytes:
    """One frame of *kind* carrying *fields*."""
    body = b"".join(_SIZE.pack(len(field)) + field for field in fields)
    return _SIZE.pack(len(body) + 1) + bytes((kind,)) + body


class FrameReader:
    """Bytes in (``feed``), whole frames out (``frames``): ``(kind, fields)`` in arrival order."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[FrameKind, list[bytes]]]:
        """Add *data*; return every frame now complete. Raises ``DecodeError`` for a malformed frame."""
        buffer = self._buffer
        buffer += data
        frames: list[tuple[FrameKind, list[bytes]]] = []
        offset = 0
        while len(buffer) - offset >= 4:
            (length,) = _SIZE.unpack_from(buffer, offset)
            if length < 1 or length > MAX_FRAME:
                raise DecodeError(f"hub frame of {length} bytes")
            if len(buffer) - offset - 4 < length:
                break
            start = offset + 4
            frames.append(_decode(bytes(buffer[start : start + length])))
            offset = start + length
        del buffer[:offset]
        return frames


def _decode(frame: bytes) -> tuple[FrameKind, list[bytes]]:
    try:
        kind = FrameKind(frame[0])
    except ValueError:
        raise DecodeError(f"unknown hub frame kind {frame[0]}") from None
    fields: list[bytes] = []
    offset = 1
    while offset < len(frame):
        if len(frame) - offset < 4:
            raise DecodeError("truncated hub frame field")
        (size,) = _SIZE.unpack_from(frame, offset)
        offset += 4
        if len(frame) - offset < size:
            raise DecodeError("truncated hub frame field")
        fields.append(frame[offset : offset + size])
        offset += size
    return kind, fields
