"""Request heads a connection has sent before, recognised by their bytes without running llhttp again.

A polling client sends the same head on a keep-alive connection again and again, but for its target: the
query's random ``t=``. llhttp calls back into Python for every header of every request, and each callback
costs more than the C parse; for such a client that was most of the parser's cost. So once llhttp has
accepted a head (and the parser's own checks have passed), its bytes from the version on -- `` HTTP/1.1``,
the header fields, the blank line -- are remembered with its method. A later message at a message boundary
whose method and bytes past the target are the same, whose target is plain (`_PLAIN_TARGET`: a subset of
what llhttp accepts), and whose whole body (by the remembered Content-Length) is already here, is taken as
that head with the new target. Anything else -- an unknown head, an odd target, a partial body, chunked
framing, an upgrade, ``Expect`` -- goes to llhttp as before. The property test in
tests/runtime/server/test_known_heads.py checks that a parser with this shortcut yields exactly what a
parser without it yields, for streams of valid and malformed requests split anywhere.
"""

from __future__ import annotations

import re
from typing import Final, Generic, NamedTuple, TypeVar

__all__ = ("KnownHeads", "Match")

# An origin-form target of unreserved, sub-delim, ':', '@', '/', '?' and '%' bytes: every such target is one
# llhttp accepts unchanged (no space, control byte, '#' or non-ASCII, which need its judgement).
_PLAIN_TARGET: Final = re.compile(rb"/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")
_REMEMBERED: Final = 4  # heads per connection, as the parser's other recent-head tables

_Head = TypeVar("_Head")


class Match(NamedTuple, Generic[_Head]):
    """A remembered message found in the bytes: what its head was remembered as, its target, its body (the
    remembered Content-Length), and where it ends."""

    head: _Head
    target: bytes
    body: bytes
    end: int


class KnownHeads(Generic[_Head]):
    """One connection's remembered heads, by method and the bytes after the target."""

    __slots__ = ("_heads",)

    def __init__(self) -> None:
        self._heads: dict[tuple[bytes, bytes], tuple[_Head, int]] = {}

    def __bool__(self) -> bool:
        return bool(self._heads)

    def remember(self, data: bytes, method: bytes, target: bytes, head: _Head, body_length: int) -> None:
        """Remember the head at the start of *data* (llhttp parsed it as *method* *target*, the parser
        accepted it as *head*, its body is *body_length* bytes), unless *data* does not start with exactly
        that request line or the target is not plain."""
        prefix = method + b" " + target + b" "
        if not data.startswith(prefix) or not _PLAIN_TARGET.fullmatch(target):
            return
        end = data.find(b"\r\n\r\n", len(prefix))
        if end < 0:
            return
        if len(self._heads) >= _REMEMBERED:
            self._heads.clear()
        self._heads[(method, data[len(prefix) - 1 : end + 4])] = (head, body_length)

    def match(self, data: bytes, start: int) -> Match[_Head] | None:
        """The remembered message at *start* in *data*, whole (head and body), or ``None``."""
        end = data.find(b"\r\n\r\n", start)
        if end < 0:
            return None
        first = data.find(b" ", start, end)
        second = data.find(b" ", first + 1, end)
        if first <= start or second < 0:
            return None
        known = self._heads.get((data[start:first], data[second : end + 4]))
        if known is None:
            return None
        target = data[first + 1 : second]
        if not _PLAIN_TARGET.fullmatch(target):
            return None
        head, body_length = known
        body_end = end + 4 + body_length
        if body_end > len(data):
            return None
        return Match(head, target, data[end + 4 : body_end], body_end)
