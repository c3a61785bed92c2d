"""The two encodings on the adapters' channels, msgpack (notepack.io 3) and JSON, and strict field readers.

Encoding follows Node byte for byte where it can: msgpack with ``bin`` for binary and the smallest integer
forms; JSON without spaces, as ``JSON.stringify`` writes it, a ``bytes`` value becoming Node's
``{"type": "Buffer", "data": [...]}`` (what a ``Buffer`` turns into there) and NaN ``null``.

Decoding refuses anything else with ``DecodeError`` alone: another application's messages share the
channels' namespace on a Redis server, so garbage must never escape as ``ValueError`` or ``KeyError``.
A Node ``Date`` inside a message is msgpack's timestamp extension (type -1); it decodes to the ISO string
``"2026-11-25T20:21:55.384Z"``, what Node itself sends its JSON clients for a ``Date``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgpack
import orjson

from sioactor._errors import DecodeError
from sioactor.protocol.cluster._messages import Recipients, SocketDetails

_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"type": "Buffer", "data": list(bytes(value))}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dump_json(obj: Any) -> bytes:
    """``JSON.stringify(obj)`` as Node writes it.

    Raises:
        TypeError: *obj* holds a value JSON cannot carry (an int beyond 64 bits, an arbitrary object).
    """
    return orjson.dumps(obj, default=_json_default, option=_JSON_OPTIONS)


def dump_msgpack(obj: Any) -> bytes:
    """notepack.io 3's encoding of *obj*: ``bytes`` as ``bin``, ``str`` as ``str``.

    Raises:
        TypeError: *obj* holds a value msgpack cannot carry.
    """
    try:
        packed: bytes = msgpack.packb(obj, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"cannot encode cluster message as msgpack: {exc}") from None
    return packed


def load(payload: bytes) -> Any:
    """Decode one message: JSON when its first byte is ``{``, as the Node adapters decide, msgpack otherwise.

    Raises:
        DecodeError: *payload* is neither.
    """
    if payload[:1] == b"{":
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise DecodeError(f"invalid JSON in cluster message: {exc}") from None
    return load_msgpack(payload)


def load_msgpack(payload: bytes) -> Any:
    """Decode one msgpack message, with Node ``Date`` values as ISO strings.

    Raises:
        DecodeError: *payload* is not one complete msgpack value.
    """
    try:
        obj = msgpack.unpackb(payload, strict_map_key=False, ext_hook=_ext_hook, timestamp=0)
    except (ValueError, TypeError, RecursionError, OverflowError, msgpack.UnpackException) as exc:
        raise DecodeError(f"invalid msgpack in cluster message: {exc}") from None
    # Every encoding of the timestamp extension holds the byte 0xff (its type, -1); most messages hold none,
    # so they skip the walk that replaces the decoded timestamps.
    if b"\xff" in payload:
        try:
            obj = _dates_as_iso(obj)
        except (RecursionError, ValueError, OverflowError, OSError) as exc:
            raise DecodeError(f"unreadable date in cluster message: {exc}") from None
    return obj


def _ext_hook(code: int, data: bytes) -> Any:
    raise DecodeError(f"msgpack extension type {code} is not used by the Socket.IO adapters")


def _dates_as_iso(obj: Any) -> Any:
    if type(obj) is list:
        return [_dates_as_iso(item) for item in obj]
    if type(obj) is dict:
        return {key: _dates_as_iso(value) for key, value in obj.items()}
    if type(obj) is msgpack.Timestamp:
        return _iso(obj)
    return obj


def _iso(stamp: msgpack.Timestamp) -> str:
    """``Date.prototype.toISOString()``: millisecond precision, UTC, ``Z``."""
    moment: datetime = stamp.to_datetime().astimezone(UTC)
    year = moment.year
    return (
        f"{year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
        f"{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


# Strict readers: each raises DecodeError naming the field, so a log line says what was wrong.


def as_map(obj: Any, what: str) -> dict[Any, Any]:
    if type(obj) is not dict:
        raise DecodeError(f"{what} must be a map, not {type(obj).__name__}")
    return obj


def get_str(obj: dict[Any, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if type(value) is not str:
        raise DecodeError(f"{what}: {key!r} must be a string, not {type(value).__name__}")
    return value


def get_optional_str(obj: dict[Any, Any], key: str, what: str) -> str | None:
    return None if obj.get(key) is None else get_str(obj, key, what)


def get_int(obj: dict[Any, Any], key: str, what: str) -> int:
    value = obj.get(key)
    if type(value) is not int:
        raise DecodeError(f"{what}: {key!r} must be an integer, not {type(value).__name__}")
    return value


def get_bool(obj: dict[Any, Any], key: str, what: str) -> bool:
    value = obj.get(key, False)
    if type(value) is not bool:
        raise DecodeError(f"{what}: {key!r} must be a boolean, not {type(value).__name__}")
    return value


def get_str_list(obj: dict[Any, Any], key: str, what: str) -> tuple[str, ...]:
    """A list of strings; absent means empty, as Node's ``new Set(undefined)``."""
    value = obj.get(key)
    if value is None:
        return ()
    if type(value) is not list or any(type(item) is not str for item in value):
        raise DecodeError(f"{what}: {key!r} must be a list of strings")
    return tuple(value)


def get_event(obj: dict[Any, Any], key: str, what: str) -> list[Any]:
    """``[event, *args]``: a non-empty list whose first item is the event name."""
    value = obj.get(key)
    if type(value) is not list or not value or type(value[0]) is not str:
        raise DecodeError(f"{what}: {key!r} must be a list whose first item is the event name")
    return value


def read_recipients(value: Any, what: str) -> Recipients:
    """Node's ``opts``: ``rooms`` and ``except`` (absent means empty) and ``flags`` (absent means none)."""
    opts = as_map(value, f"{what}: opts")
    flags = opts.get("flags")
    if flags is None:
        flags = {}
    elif type(flags) is not dict:
        raise DecodeError(f"{what}: flags must be a map, not {type(flags).__name__}")
    rooms = get_str_list(opts, "rooms", what)
    return Recipients(rooms=rooms, except_rooms=get_str_list(opts, "except", what), flags=flags)


def read_sockets(obj: dict[Any, Any]) -> tuple[SocketDetails, ...]:
    """The ``sockets`` of a fetch answer, each ``{id, handshake, rooms, data}``."""
    sockets = obj.get("sockets")
    if type(sockets) is not list:
        raise DecodeError("fetch sockets response: 'sockets' must be a list")
    details = []
    for item in sockets:
        socket = as_map(item, "fetched socket")
        details.append(
            SocketDetails(
                id=get_str(socket, "id", "fetched socket"),
                handshake=as_map(socket.get("handshake"), "fetched socket: handshake"),
                rooms=get_str_list(socket, "rooms", "fetched socket"),
                data=socket.get("data"),
            )
        )
    return tuple(details)
