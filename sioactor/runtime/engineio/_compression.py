"""HTTP compression of polling responses (Node's ``httpCompression``): gzip or deflate, from a threshold.

As Node's engine.io does: a response body of at least ``compression_threshold`` bytes is compressed when
the request's ``Accept-Encoding`` accepts ``gzip`` or ``deflate`` (the client's preference by quality,
gzip on a tie; ``identity`` alone, no header, or ``q=0`` means no compression), and at least one of its
messages was not sent with ``compress(False)``. ``deflate`` is the zlib format (RFC 9110 §8.4.1.2), as
Node's ``zlib.createDeflate`` writes it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Final

from sioactor.protocol.engineio import OutboxEntry, Uncompressed
from sioactor.runtime.engineio._config import EngineConfig
from sioactor.runtime.engineio._http import Headers, Scope

__all__ = ("GZIP", "PayloadCompression", "accepted_encoding", "compress_body", "wants_compression")

GZIP: Final = b"gzip"
DEFLATE: Final = b"deflate"
# zlib's wbits: 16 + 15 writes a gzip member (header and CRC), 15 the zlib format.
_WBITS: Final = {GZIP: 31, DEFLATE: 15}


class PayloadCompression:
    """How one client's polling payloads are compressed: the encoding its request accepts, from a size."""

    __slots__ = ("encoding", "threshold")

    def __init__(self, encoding: bytes, threshold: int) -> None:
        self.encoding = encoding
        self.threshold = threshold

    @classmethod
    def for_request(cls, scope: Scope, config: EngineConfig) -> PayloadCompression | None:
        """The compression for the request in *scope*; ``None`` when off or not accepted."""
        encoding = accepted_encoding(scope) if config.http_compression else None
        return None if encoding is None else cls(encoding, config.compression_threshold)

    def apply(self, data: bytes, headers: Headers) -> tuple[bytes, Headers]:
        """*data* and *headers*, compressed and with its ``Content-Encoding`` if *data* is large enough
        (*headers* itself is left as it is: it may be a head's shared CORS list)."""
        if len(data) < self.threshold:
            return data, headers
        headers = list(headers)
        return compress_body(data, self.encoding, headers), headers


def accepted_encoding(scope: Scope) -> bytes | None:
    """``gzip`` or ``deflate`` if the request's ``Accept-Encoding`` accepts one, else ``None``."""
    qualities: dict[bytes, float] = {}
    for name, value in scope.get("headers", ()):
        if name.lower() == b"accept-encoding":
            for item in value.split(b","):
                coding, quality = _coding(item)
                if coding:
                    qualities[coding] = quality
    wildcard = qualities.get(b"*", 0.0)
    best: bytes | None = None
    best_quality = 0.0
    for coding in (GZIP, DEFLATE):
        quality = qualities.get(coding, wildcard)
        if quality > best_quality:
            best, best_quality = coding, quality
    return best


def _coding(item: bytes) -> tuple[bytes, float]:
    coding, *params = item.split(b";")
    quality = 1.0
    for param in params:
        key, _, value = param.strip().partition(b"=")
        if key.strip().lower() == b"q":
            try:
                quality = float(value.strip())
            except ValueError:
                quality = 0.0
    return coding.strip().lower(), quality


def wants_compression(entries: Iterable[OutboxEntry]) -> bool:
    """Whether a response carrying *entries* may be compressed: one of them was not sent with
    ``compress(False)`` (Node compresses a payload if any of its packets asks for it)."""
    return any(not isinstance(entry, Uncompressed) for entry in entries)


def compress_body(data: bytes, encoding: bytes, headers: Headers) -> bytes:
    """*data* compressed with *encoding*; appends its ``Content-Encoding`` to *headers*."""
    compressor = zlib.compressobj(wbits=_WBITS[encoding])
    headers.append((b"content-encoding", encoding))
    return compressor.compress(data) + compressor.flush()
