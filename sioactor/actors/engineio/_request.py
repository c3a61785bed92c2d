"""The handshake request's headers and query, kept as the raw bytes they arrived in until someone reads them.

A session holds its handshake request for its whole life, and most sessions never look at it again; decoded
eagerly, a dozen headers are a list, a dozen tuples and two dozen strings per connection. Here
they are one ``bytes`` each, decoded on each read (the query once, then kept). Behaviour is that of a list of
``(name, value)`` pairs and of a dict: ``RequestInfo`` compares, iterates and looks up the same either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import overload
from urllib.parse import parse_qsl

__all__ = ("RawHeaders", "RawQuery")

# Neither a header name nor a header value may contain NUL (RFC 9110 field syntax), so it separates them.
_SEP = b"\x00"


class RawHeaders(Sequence[tuple[str, str]]):
    """Header pairs (names lower-cased, latin-1 decoded, in order), stored as one ``bytes``."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    @classmethod
    def of(cls, headers: Iterable[tuple[bytes, bytes]]) -> Sequence[tuple[str, str]]:
        """The ASGI scope's ``headers``, raw; decoded at once if a part holds a NUL (a server let it in)."""
        parts = [part for header in headers for part in header]
        if any(_SEP in part for part in parts):
            return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in headers]
        return cls(_SEP.join(parts))

    def _pairs(self) -> list[tuple[str, str]]:
        if not self._raw:
            return []
        parts = self._raw.decode("latin-1").split("\x00")
        return [(parts[i].lower(), parts[i + 1]) for i in range(0, len(parts), 2)]

    def __len__(self) -> int:
        return (self._raw.count(_SEP) + 1) // 2 if self._raw else 0

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._pairs())

    @overload
    def __getitem__(self, index: int) -> tuple[str, str]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, str]]: ...
    def __getitem__(self, index: int | slice) -> tuple[str, str] | Sequence[tuple[str, str]]:
        return self._pairs()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return self._pairs() == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return repr(self._pairs())


class RawQuery(Mapping[str, str]):
    """The decoded query string (a repeated key keeps its last value), parsed on first read."""

    __slots__ = ("_parsed", "_raw")

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._parsed: dict[str, str] | None = None

    @property
    def raw(self) -> str:
        """The query string as it arrived (undecoded)."""
        return self._raw.decode("latin-1")

    def _dict(self) -> dict[str, str]:
        if self._parsed is None:
            self._parsed = dict(parse_qsl(self._raw.decode("latin-1"), keep_blank_values=True))
        return self._parsed

    def __getitem__(self, key: str) -> str:
        return self._dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._dict() == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return repr(self._dict())
