"""permessage-deflate (RFC 7692) on the embedded server's WebSocket connections: the offer, the frames.

The offer is negotiated by websockets' ``ServerPerMessageDeflateFactory`` (the first offer it accepts
wins, as RFC 7692 §5 asks), with its defaults, which are Node's ``ws``: context takeover unless the client
asks otherwise, window bits as the client offers them. Only the app's direct accept asks for it (the
Engine.IO server, when ``per_message_deflate`` is on); a plain ASGI app gets no extension, as before.

Writing: a message of at least ``threshold`` bytes is compressed here, with websockets' extension object
(the sync flush, the trailing ``00 00 ff ff`` cut off), and framed with RSV1 set; a smaller one goes out as
it is, which RFC 7692 allows per message and which leaves both deflate contexts as they were.

Reading: a compressed frame has RSV1 set, so its first byte is never the plain ``0x81``/``0x82`` that
``FrameSplitter`` reads itself; it goes whole to websockets' parser, whose protocol object carries the
same extension (``Deflate.extension``) and inflates it within ``max_size`` (no zip bomb).

The extension object holds two zlib contexts (a deflate context's window and hash tables are large); it
is made on the first compressed message either way, so a connection that never sends or receives a large
message never holds one, as Node's ``ws`` makes its own lazily.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from websockets.exceptions import InvalidHeader, NegotiationError
from websockets.extensions.permessage_deflate import PerMessageDeflate, ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.headers import build_extension, parse_extension
from websockets.typing import ExtensionHeader

from ._ws_encode import BINARY, TEXT, frame_header

__all__ = ("EXTENSIONS_HEADER", "Deflate", "negotiate")

EXTENSIONS_HEADER: Final = b"Sec-WebSocket-Extensions"
_TEXT_COMPRESSED: Final = 0xC1  # FIN, RSV1, text
_BINARY_COMPRESSED: Final = 0xC2  # FIN, RSV1, binary


class Deflate:
    """One connection's negotiated permessage-deflate: its answer header and its compressed writes."""

    __slots__ = ("_extension", "_settings", "header", "threshold")

    def __init__(self, negotiated: PerMessageDeflate, header: bytes, threshold: int) -> None:
        # What the extension needs, kept rather than the negotiated object and its zlib contexts.
        self._settings = (
            negotiated.remote_no_context_takeover,
            negotiated.local_no_context_takeover,
            negotiated.remote_max_window_bits,
            negotiated.local_max_window_bits,
        )
        self._extension: PerMessageDeflate | None = None
        self.header = header
        self.threshold = threshold

    @property
    def extension(self) -> PerMessageDeflate:
        """websockets' extension object for this connection (made on first need)."""
        extension = self._extension
        if extension is None:
            extension = self._extension = PerMessageDeflate(*self._settings)
        return extension

    def encode_frames(self, messages: Iterable[str | bytes]) -> bytes:
        """Whole server frames for *messages*, those of at least ``threshold`` bytes compressed."""
        out = bytearray()
        threshold = self.threshold
        for message in messages:
            is_text = isinstance(message, str)
            data = message.encode() if isinstance(message, str) else message
            if len(data) < threshold:
                out += frame_header(TEXT if is_text else BINARY, len(data))
                out += data
                continue
            compressed = self.extension.encode(Frame(Opcode.TEXT, data)).data
            out += frame_header(_TEXT_COMPRESSED if is_text else _BINARY_COMPRESSED, len(compressed))
            out += compressed
        return bytes(out)


def negotiate(headers: Iterable[tuple[bytes, bytes]], threshold: int) -> Deflate | None:
    """The permessage-deflate to use, if the handshake's *headers* offer one this server accepts.

    A malformed ``Sec-WebSocket-Extensions`` header negotiates nothing (the connection goes on without
    compression rather than failing: the header is the client's wish, not a requirement).
    """
    offers: list[ExtensionHeader] = []
    try:
        for field, value in headers:
            if field == b"sec-websocket-extensions":
                offers += parse_extension(value.decode("latin-1"))
    except InvalidHeader:
        return None
    factory = ServerPerMessageDeflateFactory()
    for name, params in offers:
        if name != factory.name:
            continue
        try:
            answer, negotiated = factory.process_request_params(params, [])
        except NegotiationError:
            continue
        header = build_extension([(factory.name, answer)]).encode("latin-1")
        return Deflate(negotiated, header, threshold)
    return None
