"""Client WebSocket bytes split at frame boundaries: plain data frames read here, the rest by websockets.

websockets' sans-IO parser is a generator that reads a frame in four steps and wraps it in a ``Frame``:
a visible share of a one-message echo (bench/RESULTS.md, design measurements). Almost every frame a
Socket.IO client sends is the simple case -- final, text or binary, masked, no reserved bits, within the
size limit -- so `FrameSplitter` reads those itself (a header, an unmask with websockets' own C helper)
and hands every other frame (control frames, fragments, anything malformed or oversized) to websockets
whole, or as it arrives, so websockets' parser is only ever fed from a frame boundary and keeps its full
checking. A compressed frame (permessage-deflate sets RSV1) is never plain: websockets inflates it, with
the connection's negotiated extension (``_ws_deflate.py``).

Once a frame of a read goes to websockets, the rest of that read goes there too: that frame may start a
fragmented message or close the connection, which changes what a following text frame means, and only the
caller knows that after websockets has seen it. Bytes of an incomplete frame wait here (up to
``PENDING_LIMIT``; a larger frame goes to websockets as it comes).
"""

from __future__ import annotations

from typing import Final

try:
    from websockets.speedups import apply_mask
except ImportError:  # websockets built without its C extension
    from websockets.utils import apply_mask

__all__ = ("BINARY", "PENDING_LIMIT", "RAW", "TEXT", "FrameSplitter")

RAW: Final = 0  # bytes for websockets' parser
TEXT: Final = 1  # a whole text message, unmasked (UTF-8 not yet checked)
BINARY: Final = 2  # a whole binary message, unmasked
# An incomplete plain frame up to this size waits here for its rest; a larger one streams to websockets.
PENDING_LIMIT: Final = 65_536

_TEXT_FIN: Final = 0x81
_BINARY_FIN: Final = 0x82


class FrameSplitter:
    """Split one connection's client bytes into plain messages and websockets' share, in order."""

    __slots__ = ("_max_size", "_owed", "_pending")

    def __init__(self, max_size: int | None) -> None:
        self._max_size = (1 << 63) if max_size is None else max_size
        self._pending = b""
        self._owed = 0  # bytes of a frame websockets has begun that it has not seen yet

    def take_pending(self) -> bytes:
        """The bytes of an incomplete frame, forgotten here (at EOF they go to websockets)."""
        pending, self._pending = self._pending, b""
        return pending

    def split(self, data: bytes, plain_ok: bool) -> list[tuple[int, bytes]]:
        """``(kind, bytes)`` items for *data*, in order: ``TEXT``/``BINARY`` messages and ``RAW`` bytes for
        websockets. *plain_ok*: whether plain frames may be read here now (the connection is open and no
        fragmented message is under way); it holds until the first ``RAW`` item of this call."""
        buf = self._pending + data if self._pending else data
        self._pending = b""
        size_of = len(buf)
        items: list[tuple[int, bytes]] = []
        raw_from = -1
        at = 0
        if self._owed:
            at = min(self._owed, size_of)
            self._owed -= at
            raw_from = 0
        while at < size_of:
            end, head = _frame_end(buf, at, size_of)
            if end < 0:
                break  # the header is not all here yet
            first = buf[at]
            plain = (
                plain_ok
                and raw_from < 0
                and first in (_TEXT_FIN, _BINARY_FIN)
                and buf[at + 1] & 0x80
                and end - at - head <= self._max_size
            )
            if plain:
                if end > size_of:
                    if end - at <= PENDING_LIMIT:
                        break  # wait here for the rest
                    raw_from, self._owed, at = at, end - size_of, size_of
                    break
                mask_at = at + head - 4
                payload = apply_mask(buf[mask_at + 4 : end], buf[mask_at : mask_at + 4])
                items.append((TEXT if first == _TEXT_FIN else BINARY, payload))
                at = end
                continue
            if raw_from < 0:
                raw_from = at
            if end > size_of:
                self._owed, at = end - size_of, size_of
                break
            at = end
        if raw_from >= 0:
            items.append((RAW, buf[raw_from:at]))
        if at < size_of:
            self._pending = buf[at:]
        return items


def _frame_end(buf: bytes, at: int, size_of: int) -> tuple[int, int]:
    """(end offset, header size) of the frame starting at *at*; (-1, 0) while its header is incomplete."""
    if size_of - at < 2:
        return -1, 0
    second = buf[at + 1]
    length = second & 0x7F
    head = 2
    if length == 126:
        head = 4
        if size_of - at < head:
            return -1, 0
        length = int.from_bytes(buf[at + 2 : at + 4], "big")
    elif length == 127:
        head = 10
        if size_of - at < head:
            return -1, 0
        length = int.from_bytes(buf[at + 2 : at + 10], "big")
    if second & 0x80:
        head += 4
        if size_of - at < head:
            return -1, 0
    return at + head + length, head
