"""Binary attachments of the JSON format: placeholders out (encoding) and back in (decoding).

Encoding needs no tree walk of its own: orjson cannot serialize ``bytes``, so it calls the ``default`` hook
for each binary part, depth first, left to right, keys in insertion order; the same order as the official
parser's ``deconstructPacket``. The hook files the part as the next attachment and returns its placeholder.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sioactor._errors import DecodeError

__all__ = ("Attachments", "reconstruct")

_BINARY = (bytes, bytearray, memoryview)


class Attachments:
    """The ``default`` hook for ``orjson.dumps`` that collects binary parts and leaves placeholders."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def __call__(self, obj: Any) -> Any:
        if not isinstance(obj, _BINARY):
            raise TypeError(f"Type is not JSON serializable: {type(obj).__name__}")
        # The engine session takes ``bytes`` only; copy the mutable or borrowed kinds once, here.
        self.parts.append(obj if type(obj) is bytes else bytes(obj))
        return {"_placeholder": True, "num": len(self.parts) - 1}


def reconstruct(data: Any, parts: list[bytes]) -> Any:
    """Return *data* with every placeholder replaced by its attachment from *parts*. Lists and dicts are
    changed in place (the decoder's own, fresh from ``orjson.loads``): no copy of the tree, and scalars are
    skipped without a call.

    Raises:
        DecodeError: a placeholder's ``num`` is not an index into *parts*.
    """
    kind = type(data)
    if kind is dict:
        if data.get("_placeholder") is True:
            return _attachment(data.get("num"), parts)
        _fill(data, data.items(), parts)
    elif kind is list:
        _fill(data, enumerate(data), parts)
    return data


def _fill(container: Any, items: Iterable[tuple[Any, Any]], parts: list[bytes]) -> None:
    for key, item in items:
        kind = type(item)
        if kind is dict:
            if item.get("_placeholder") is True:
                container[key] = _attachment(item.get("num"), parts)  # same key: the dict keeps its size
            else:
                _fill(item, item.items(), parts)
        elif kind is list:
            _fill(item, enumerate(item), parts)


def _attachment(num: Any, parts: list[bytes]) -> bytes:
    if type(num) is not int or not 0 <= num < len(parts):
        raise DecodeError(f"binary placeholder num {num!r} does not name one of {len(parts)} attachments")
    return parts[num]
