"""Extractors: the annotations that tell a handler what it receives, and the payload conversion behind them.

A handler is an ``async def`` whose every parameter is annotated with one extractor. The annotation alone says
what the parameter gets; names and order are free::

    @socket.on("chat")
    async def chat(socket: Socket, msg: Data[ChatMessage], ack: AckSender) -> None: ...

Payload extractors (``Data``, ``TryData``, ``Auth``) convert with one cattrs converter, built once. Conversion
rules for ``Data[T]`` / ``TryData[T]``:

- ``T`` is a tuple type (``tuple[str, int]``, ``tuple[int, ...]``): it receives *all* the event's arguments;
- otherwise it receives the *first* argument; with no argument it receives ``None`` if ``T`` allows it
  (``X | None``, ``Any``, ``object``), else the conversion fails;
- ``T`` may be an attrs class, a dataclass, a TypedDict, ``Any``, or a plain type (``str``, ``int``,
  ``float``, ``bool``, ``bytes``, ``dict[str, Any]``, ``list[int]``, enums, ``Literal``...) and unions
  with ``None``;
- scalars are strict: ``"5"`` is not an ``int``, ``1`` is not a ``str``, ``True`` is not an ``int``; an
  ``int`` is accepted where a ``float`` is wanted; ``bytes`` accepts any binary attachment.

``Auth[T]`` converts the CONNECT auth payload the same way (``None`` when the client sent none).

This module holds the vocabulary only; ``_handler.py`` compiles signatures against it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Annotated, Any, NewType, TypeVar, get_args, get_origin

import cattrs
from cattrs import cols

from sioactor._errors import DataError
from sioactor.actors.engineio._api import RequestInfo

__all__ = (
    "Args",
    "Auth",
    "Data",
    "Event",
    "NsParams",
    "ProtocolVersion",
    "Request",
    "State",
    "TransportType",
    "TryData",
)

T = TypeVar("T")


class _Marker:
    """Tags an annotation as one extractor; compared by identity."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<extractor {self.name}>"


DATA = _Marker("Data")
TRY_DATA = _Marker("TryData")
ARGS = _Marker("Args")
AUTH = _Marker("Auth")
STATE = _Marker("State")
NS_PARAMS = _Marker("NsParams")

Data = Annotated[T, DATA]
"""``Data[T]``: the event's payload converted to ``T``; the handler is skipped (and it is logged) if it does
not convert."""

TryData = Annotated[T | DataError, TRY_DATA]
"""``TryData[T]``: the payload converted to ``T``, or the ``DataError`` saying why not; never skipped."""

Args = Annotated[tuple[Any, ...], ARGS]
"""``Args``: all the event's arguments, unconverted, as a tuple."""

Auth = Annotated[T, AUTH]
"""``Auth[T]``: the CONNECT auth payload converted to ``T`` (the call is skipped, like ``Data``, if it does
not convert)."""

State = Annotated[T, STATE]
"""``State[T]``: the state object of type ``T`` given to ``SocketIo(state=...)``, looked up by its type."""

NsParams = Annotated[Mapping[str, str], NS_PARAMS]
"""``NsParams``: the parameters of a dynamic namespace (``{"id": "7"}`` for ``/room/7`` on ``/room/{id}``)."""

Event = NewType("Event", str)
"""``Event``: the name of the event being handled (useful in fallback handlers)."""

Request = RequestInfo
"""``Request``: the HTTP request that opened the connection (path, query, headers, remote address)."""


class TransportType(enum.Enum):
    """The Engine.IO transport a socket's connection uses at the moment of the call."""

    POLLING = "polling"
    WEBSOCKET = "websocket"


class ProtocolVersion(enum.IntEnum):
    """The Socket.IO protocol revision of the client: 4 (over Engine.IO v3, clients 2.x) or 5 (clients 3+)."""

    V4 = 4
    V5 = 5


def marker_of(hint: Any) -> tuple[_Marker | None, Any]:
    """Split an annotation into its extractor marker (the last one, if several) and the type under it."""
    if get_origin(hint) is not Annotated:
        return None, hint
    base, *metadata = get_args(hint)
    for item in reversed(metadata):
        if isinstance(item, _Marker):
            return item, base
    return None, base


def type_name(tp: Any) -> str:
    """A readable name for a type, as a user would write it."""
    if isinstance(tp, type) and not get_args(tp):
        return tp.__qualname__
    return repr(tp).replace("typing.", "")


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- conversion -------------------------------------------------------------------------------------------


def _strict(tp: type, accepted: tuple[type, ...]) -> Callable[[Any, Any], Any]:
    # cattrs' default scalar hooks call tp(value): str(5) == "5", int("5") == 5, int(True) == 1. A realtime
    # payload that carries the wrong scalar is a client bug, so refuse it instead of coercing it.
    def hook(value: Any, _: Any) -> Any:
        if isinstance(value, bool) and tp is not bool:
            raise TypeError(f"expected {tp.__name__}, got bool")
        if not isinstance(value, accepted):
            raise TypeError(f"expected {tp.__name__}, got {type(value).__name__}")
        return value if type(value) is tp else tp(value)

    return hook


def _is_list_like(tp: Any) -> bool:
    if tp is tuple or get_origin(tp) is tuple:
        args = get_args(tp)
        return len(args) == 2 and args[1] is Ellipsis
    return bool(cols.is_sequence(tp))


def _list_like_hook(tp: Any, converter: cattrs.BaseConverter) -> Callable[[Any, Any], Any]:
    # cattrs builds a list from any iterable, so "ab" would become ["a", "b"] and {"k": 1} would become ["k"].
    # A payload that sends text or an object where an array is expected is malformed: refuse it.
    if get_origin(tp) is tuple:
        inner = cols.homogenous_tuple_structure_factory(tp, converter)
    else:
        inner = cols.list_structure_factory(tp, converter)

    def hook(value: Any, target: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected an array, got {type(value).__name__}")
        return inner(value, target)

    return hook


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_structure_hook_factory(_is_list_like, _list_like_hook)
    converter.register_structure_hook(str, _strict(str, (str,)))
    converter.register_structure_hook(int, _strict(int, (int,)))
    converter.register_structure_hook(float, _strict(float, (int, float)))
    converter.register_structure_hook(bool, _strict(bool, (bool,)))
    converter.register_structure_hook(bytes, _strict(bytes, (bytes, bytearray, memoryview)))
    return converter


CONVERTER = _make_converter()


def allows_none(tp: Any) -> bool:
    """Whether ``None`` is a valid value of *tp* (``X | None``, ``Any``, ``object``, ``None``)."""
    if tp is Any or tp is object or tp is None or tp is type(None):
        return True
    return type(None) in get_args(tp) and get_origin(tp) is not Annotated


def is_tuple_type(tp: Any) -> bool:
    """Whether *tp* is ``tuple[...]`` (all arguments) rather than one argument's type."""
    return tp is tuple or get_origin(tp) is tuple


Convert = Callable[[Any], Any]


def make_converter(target: Any) -> Convert:
    """Compile, once, the function that converts a payload to *target* or raises ``DataError``.

    Raises:
        LookupError: cattrs has no way to build a *target* (the caller turns it into a signature error).
    """
    if target is Any or target is object:
        return _identity
    try:
        hook = CONVERTER.get_structure_hook(target)
    except cattrs.errors.StructureHandlerNotFoundError as exc:
        raise LookupError(str(exc)) from None

    def convert(payload: Any) -> Any:
        try:
            return hook(payload, target)
        except Exception as exc:  # cattrs reports with many exception types; all mean "did not convert"
            detail = f"cannot convert {_short_repr(payload)} to {type_name(target)}: {_describe(exc)}"
            raise DataError(detail, target=target, payload=payload) from exc

    return convert


def _identity(payload: Any) -> Any:
    return payload


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(exc)) or str(exc)
    return f"{type(exc).__name__}: {exc}"
