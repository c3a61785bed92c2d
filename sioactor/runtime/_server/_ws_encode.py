"""Server WebSocket frames out: the header of a final, unmasked frame and whole frames for a batch.

The embedded server writes the frames of a direct WebSocket by hand (one write per batch, no websockets
``Frame`` objects); the plain and the compressed writer (``_ws_deflate``) share these two helpers.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ("BINARY", "TEXT", "encode_frames", "frame_header")

TEXT = 0x81  # FIN + text opcode
BINARY = 0x82  # FIN + binary opcode


def frame_header(opcode_byte: int, size: int) -> bytes:
    """The header of one final, unmasked server frame carrying *size* payload bytes (RFC 6455 §5.2)."""
    if size < 126:
        return bytes((opcode_byte, size))
    if size < 65_536:
        return bytes((opcode_byte, 126)) + size.to_bytes(2, "big")
    return bytes((opcode_byte, 127)) + size.to_bytes(8, "big")


def encode_frames(messages: Iterable[str | bytes]) -> bytes:
    """Whole WebSocket frames for *messages*: text frames for ``str``, binary frames for ``bytes``."""
    out = bytearray()
    for message in messages:
        if isinstance(message, str):
            data = message.encode()
            out += frame_header(TEXT, len(data))
        else:
            data = message
            out += frame_header(BINARY, len(data))
        out += data
    return bytes(out)
