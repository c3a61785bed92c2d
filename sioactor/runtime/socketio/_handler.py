"""Handler compilation: a signature is read once, at registration, into a plan of small getters.

``compile_handler(fn, kind=...)`` resolves ``fn``'s annotations once (``get_type_hints``, with extras), maps
each parameter to a getter over a ``CallContext`` and checks that every extractor is valid for the kind of
handler. Any problem is a ``HandlerSignatureError`` raised there and then, with a message that says how to
fix it. Per call, only the plan runs: one getter per parameter (``operator.attrgetter`` for context fields,
a precompiled cattrs hook for payloads), then the call — no ``inspect`` or ``typing`` work per message.

A handler is a plain ``def`` or an ``async def``, and the declaration alone says which
(``CompiledHandler.synchronous``): a plain ``def`` is called and never waits, so the socket may run it at once
in the task that read the event; an ``async def`` is awaited in the socket's own task. Nothing reads the body.

The socket handle, ``AckSender`` and ``SocketIo`` classes live in sibling modules that import this one, so
they are matched through a registry instead of an import: ``register_context_type(Socket, "socket")``. The
registry also picks them up lazily from ``sioactor.runtime.socketio`` (names ``Socket``, ``AckSender``,
``SocketIo``) the first time a handler is compiled.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import operator
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, final, get_origin, get_type_hints

from sioactor._errors import DataError, HandlerSignatureError
from sioactor.actors.engineio._api import RequestInfo
from sioactor.protocol._reasons import DisconnectReason
from sioactor.runtime.socketio._extract import (
    Convert,
    Event,
    ProtocolVersion,
    TransportType,
    is_tuple_type,
    make_converter,
    marker_of,
    type_name,
)

__all__ = (
    "SKIPPED",
    "CallContext",
    "CompiledHandler",
    "EventHandler",
    "Handler",
    "HandlerKind",
    "compile_handler",
    "register_context_type",
)

logger = logging.getLogger("sioactor.socketio")

HandlerKind = Literal["connect", "event", "disconnect", "middleware", "error"]
Handler = Callable[..., Any]
"""A handler: a plain ``def`` (called, never awaited) or an ``async def`` (awaited)."""
ALL_KINDS: Final[frozenset[HandlerKind]] = frozenset(
    ("connect", "event", "disconnect", "middleware", "error")
)
# An error handler (``Socket.on_error``) sees the refused event as an event handler would, and the exception.
_EVENT_KINDS: Final[frozenset[HandlerKind]] = frozenset(("event", "error"))
_EMPTY: Final[Mapping[Any, Any]] = MappingProxyType({})


class _Skipped:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SKIPPED"


SKIPPED: Final = _Skipped()
"""What a ``CompiledHandler`` returns instead of calling the handler: a ``Data``/``Auth`` payload did not
convert (already logged and reported to the ``on_skip`` hook)."""


@dataclass(slots=True, kw_only=True)
class CallContext:
    """Everything a handler call may extract from; built by the dispatcher, read by the compiled plan.

    Attributes:
        socket: the ``Socket`` handle.
        io: the ``SocketIo`` server.
        event: the event name (event handlers), else ``None``.
        args: the event's arguments, decoded (binary parts as ``bytes``).
        ack: the ``AckSender`` of this event (a no-op one when the client asked no ack).
        reason: why the socket disconnected (disconnect handlers).
        auth: the CONNECT auth payload (``None`` when the client sent none).
        state: the state objects given to ``SocketIo(state=...)``, keyed by their type.
        transport: the connection's transport now.
        protocol: the client's Socket.IO protocol revision.
        request: the handshake HTTP request.
        ns_params: the parameters of a dynamic namespace (empty for a static one).
        error: why a middleware refused the event (error handlers), else ``None``.
    """

    socket: Any = None
    io: Any = None
    event: str | None = None
    args: tuple[Any, ...] = ()
    ack: Any = None
    reason: DisconnectReason | None = None
    auth: Any = None
    state: Mapping[type, Any] = field(default_factory=lambda: _EMPTY)
    transport: TransportType = TransportType.POLLING
    protocol: ProtocolVersion = ProtocolVersion.V5
    request: RequestInfo | None = None
    ns_params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    error: Exception | None = None


Getter = Callable[[CallContext], Any]
SkipHook = Callable[["CompiledHandler", DataError], None]


class _Skip(Exception):
    """Raised by a ``Data``/``Auth`` getter to skip the call; never escapes ``CompiledHandler.__call__``."""

    def __init__(self, error: DataError) -> None:
        super().__init__(error)
        self.error = error


@final
class CompiledHandler:
    """A handler with its extraction plan. Call it with a ``CallContext``; it returns the handler's result,
    or ``SKIPPED`` when a ``Data``/``Auth`` payload did not convert.

    Attributes:
        synchronous: the handler is a plain ``def``: a call never waits, so ``call_now`` may run it in the
            task that read the event. An ``async def`` is awaited, in the socket's own task.
    """

    __slots__ = ("_arity", "_fn", "_getters", "_keywords", "_on_skip", "fn", "kind", "name", "synchronous")

    def __init__(
        self,
        fn: Handler,
        *,
        name: str,
        kind: HandlerKind,
        getters: tuple[Getter, ...],
        keywords: tuple[tuple[str, Getter], ...],
        on_skip: SkipHook | None,
        synchronous: bool,
    ) -> None:
        self.fn = fn
        self.synchronous = synchronous
        self.name = name
        self.kind = kind
        self._fn = fn
        self._getters = getters
        self._keywords = keywords
        self._on_skip = on_skip
        # Handlers of up to two positional parameters (nearly all) are called without building a list:
        # ``call_now`` runs for every event, its hooks included.
        self._arity = len(getters) if not keywords and len(getters) <= 2 else -1

    async def __call__(self, ctx: CallContext) -> Any:
        """Extract every parameter from *ctx* and call the handler, awaiting an ``async def``'s result."""
        if self.synchronous:
            return self.call_now(ctx)
        try:
            values = [get(ctx) for get in self._getters]
            if self._keywords:
                named = {name: get(ctx) for name, get in self._keywords}
                return await self._fn(*values, **named)
        except _Skip as skip:
            self._skipped(skip.error)
            return SKIPPED
        return await self._fn(*values)

    def call_now(self, ctx: CallContext) -> Any:
        """Call a ``synchronous`` handler here and return its result (``SKIPPED`` as ``__call__``).

        Raises:
            TypeError: the plain ``def`` returned an awaitable (a wrapper around an ``async def``): it is
                closed unrun; declare the handler ``async def``.
        """
        try:
            arity = self._arity
            if arity == 1:
                result = self._fn(self._getters[0](ctx))
            elif arity == 2:
                first, second = self._getters
                result = self._fn(first(ctx), second(ctx))
            elif arity == 0:
                result = self._fn()
            else:
                values = [get(ctx) for get in self._getters]
                result = self._fn(*values, **{name: get(ctx) for name, get in self._keywords})
        except _Skip as skip:
            self._skipped(skip.error)
            return SKIPPED
        if result is not None and inspect.isawaitable(result):
            _discard(result)
            raise TypeError(
                f"handler {self.name}() is a plain def but returned an awaitable, which would never run; "
                "declare it `async def` (a plain def is called and never awaited)"
            )
        return result

    def _skipped(self, error: DataError) -> None:
        logger.info("handler %s() skipped: %s", self.name, error)
        if self._on_skip is not None:
            self._on_skip(self, error)

    def __repr__(self) -> str:
        return f"<CompiledHandler {self.kind} {self.name}()>"


def _discard(awaitable: Awaitable[Any]) -> None:
    # Close a coroutine that will never be awaited, so that it does not warn "never awaited" later.
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()


EventHandler = tuple[CompiledHandler, bool]
"""An event handler as a handler table holds it: compiled, with its ``concurrent`` flag."""


# --- the registry of context types ----------------------------------------------------------------------

_CONTEXT_TYPES: dict[Any, tuple[str, frozenset[str]]] = {
    RequestInfo: ("request", ALL_KINDS),
    TransportType: ("transport", ALL_KINDS),
    ProtocolVersion: ("protocol", ALL_KINDS),
    DisconnectReason: ("reason", frozenset(("disconnect",))),
    Event: ("event", _EVENT_KINDS),
    Exception: ("error", frozenset(("error",))),
}
_PEERS = (("Socket", "socket", ALL_KINDS), ("SocketIo", "io", ALL_KINDS), ("AckSender", "ack", _EVENT_KINDS))
_peers_loaded = False


def register_context_type(tp: type, attribute: str, kinds: Collection[HandlerKind] = ALL_KINDS) -> None:
    """Make a parameter annotated with *tp* receive ``CallContext.<attribute>`` in handlers of *kinds*.

    Used for the classes of modules that cannot be imported here (``Socket``, ``AckSender``, ``SocketIo``).
    """
    if attribute not in CallContext.__dataclass_fields__:
        raise ValueError(f"CallContext has no field {attribute!r}")
    _CONTEXT_TYPES[tp] = (attribute, frozenset(kinds))


def _load_peers() -> None:
    global _peers_loaded
    if _peers_loaded:
        return
    _peers_loaded = True
    try:
        package = importlib.import_module("sioactor.runtime.socketio")
    except ImportError:
        return
    for name, attribute, kinds in _PEERS:
        tp = getattr(package, name, None)
        if isinstance(tp, type) and tp not in _CONTEXT_TYPES:
            _CONTEXT_TYPES[tp] = (attribute, frozenset(kinds))


# --- compilation ----------------------------------------------------------------------------------------

_EXTRACTOR_KINDS: Final[Mapping[str, frozenset[str]]] = {
    "Data": _EVENT_KINDS,
    "TryData": _EVENT_KINDS,
    "Args": _EVENT_KINDS,
    "Auth": ALL_KINDS,
    "State": ALL_KINDS,
    "NsParams": ALL_KINDS,
}
_KIND_HINTS: Final[Mapping[str, str]] = {
    "Data": "in connect handlers and middleware use Auth[T] for the CONNECT payload",
    "TryData": "in connect handlers and middleware use Auth[T] for the CONNECT payload",
    "Args": "only events carry arguments",
    "DisconnectReason": "only disconnect handlers have a reason",
    "Event": "only event handlers have an event name",
    "AckSender": "only event handlers can answer an ack",
    "Exception": "only error handlers (socket.on_error) receive an exception",
}


def compile_handler(
    fn: Handler,
    *,
    kind: HandlerKind,
    state_types: Collection[type] | None = None,
    on_skip: SkipHook | None = None,
) -> CompiledHandler:
    """Read *fn*'s signature once and return the handler with its extraction plan.

    Args:
        fn: a plain ``def`` or an ``async def`` whose parameters are each annotated with an extractor. A
            plain ``def`` never waits, so an event handler of that kind runs at once, in the task that read
            the event, when its socket is idle; an ``async def`` runs in the socket's own task.
        kind: which handler it is; some extractors only make sense in some kinds.
        state_types: the types of the server's state objects; when given, ``State[T]`` for any other ``T`` is
            refused here rather than failing per call.
        on_skip: called (after the log line) when a call is skipped because a payload did not convert.

    Raises:
        HandlerSignatureError: *fn* is not callable, or a parameter has no annotation, an annotation no
            extractor understands, or an extractor not valid for *kind*.
    """
    if kind not in ALL_KINDS:
        raise ValueError(f"unknown handler kind {kind!r}; expected one of {sorted(ALL_KINDS)}")
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    if not callable(fn):
        raise HandlerSignatureError(f"handler {name} is not callable; pass a function (def or async def)")
    _load_peers()
    hints = _hints(fn, name)
    getters: list[Getter] = []
    keywords: list[tuple[str, Getter]] = []
    for param in inspect.signature(fn).parameters.values():
        getter = _plan_parameter(param, hints, name=name, kind=kind, state_types=state_types)
        if param.kind is inspect.Parameter.KEYWORD_ONLY:
            keywords.append((param.name, getter))
        else:
            getters.append(getter)
    return CompiledHandler(
        fn,
        name=name,
        kind=kind,
        getters=tuple(getters),
        keywords=tuple(keywords),
        on_skip=on_skip,
        synchronous=not inspect.iscoroutinefunction(fn),  # an async def, or a method of one
    )


def _hints(fn: Callable[..., Any], name: str) -> dict[str, Any]:
    try:
        return get_type_hints(fn, include_extras=True)
    except Exception as exc:  # NameError, TypeError...: whatever stops the annotations from resolving
        raise HandlerSignatureError(
            f"handler {name}(): its annotations cannot be resolved ({type(exc).__name__}: {exc}); "
            "define the annotated types at module level, where the handler's module can see them"
        ) from exc


def _plan_parameter(
    param: inspect.Parameter,
    hints: Mapping[str, Any],
    *,
    name: str,
    kind: HandlerKind,
    state_types: Collection[type] | None,
) -> Getter:
    where = f"handler {name}(): parameter {param.name!r}"
    if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
        raise HandlerSignatureError(
            f"{where} is variadic; extractors fill named parameters only (annotate `args: Args` for all "
            "the event's arguments)"
        )
    if param.name not in hints:
        raise HandlerSignatureError(
            f"{where} has no annotation; annotate it with an extractor: Data[T], TryData[T], Args, Socket, "
            "AckSender, Event, SocketIo, State[T], Auth[T], Request, NsParams, TransportType, "
            "ProtocolVersion or DisconnectReason"
        )
    hint = hints[param.name]
    marker, base = marker_of(hint)
    if marker is not None:
        _check_kind(marker.name, kind, where)
        return _marker_getter(marker.name, base, where=where, state_types=state_types)
    entry = _CONTEXT_TYPES.get(hint) or _CONTEXT_TYPES.get(get_origin(hint))
    if entry is None:
        raise HandlerSignatureError(_unknown_message(where, hint))
    attribute, kinds = entry
    if kind not in kinds:
        label = getattr(hint, "__name__", type_name(hint))
        raise HandlerSignatureError(_kind_message(where, label, kind))
    return operator.attrgetter(attribute)


def _check_kind(extractor: str, kind: HandlerKind, where: str) -> None:
    if kind not in _EXTRACTOR_KINDS[extractor]:
        raise HandlerSignatureError(_kind_message(where, extractor, kind))


def _kind_message(where: str, extractor: str, kind: str) -> str:
    hint = _KIND_HINTS.get(extractor, "")
    return f"{where} uses {extractor}, which {kind} handlers do not provide" + (f"; {hint}" if hint else "")


def _unknown_message(where: str, hint: Any) -> str:
    return (
        f"{where} is annotated {type_name(hint)}, which no extractor understands; use Data[T] "
        "(or TryData[T]) for the event's payload, Args for all its arguments, State[T] for a state object, "
        "Auth[T] for the CONNECT payload, or one of Socket, AckSender, Event, SocketIo, Request, NsParams, "
        "TransportType, ProtocolVersion, DisconnectReason (Exception in an error handler)"
    )


def _marker_getter(extractor: str, base: Any, *, where: str, state_types: Collection[type] | None) -> Getter:
    if extractor == "Args":
        return operator.attrgetter("args")
    if extractor == "NsParams":
        return operator.attrgetter("ns_params")
    if extractor == "State":
        return _state_getter(base, where, state_types)
    if extractor == "TryData":
        # TryData[T] is Annotated[T | DataError]: take DataError back out to find T.
        base = _without_data_error(base)
    convert = _converter(base, where, extractor)
    if extractor == "Auth":
        return _auth_getter(convert)
    return _data_getter(convert, base, tolerant=extractor == "TryData")


def _without_data_error(tp: Any) -> Any:
    members = [arg for arg in tp.__args__ if arg is not DataError]
    if len(members) == 1:
        return members[0]
    return members[0] if not members else _union(members)


def _union(members: list[Any]) -> Any:
    result = members[0]
    for member in members[1:]:
        result = result | member
    return result


def _converter(target: Any, where: str, extractor: str) -> Convert:
    try:
        return make_converter(target)
    except LookupError:
        raise HandlerSignatureError(
            f"{where} is annotated {extractor}[{type_name(target)}], which cannot be converted to: use an "
            "attrs class, a dataclass, a TypedDict, a plain type (str, int, float, bool, bytes, "
            "list[X], dict[str, X]), X | None, or Any and check it yourself"
        ) from None


def _data_getter(convert: Convert, target: Any, *, tolerant: bool) -> Getter:
    whole = is_tuple_type(target)

    def get(ctx: CallContext) -> Any:
        args = ctx.args
        try:
            # No argument reads as None: it converts only where T allows None.
            return convert(args if whole else args[0] if args else None)
        except DataError as error:
            if tolerant:
                return error
            raise _Skip(error) from None

    return get


def _auth_getter(convert: Convert) -> Getter:
    def get(ctx: CallContext) -> Any:
        try:
            return convert(ctx.auth)
        except DataError as error:
            raise _Skip(error) from None

    return get


def _state_getter(target: Any, where: str, state_types: Collection[type] | None) -> Getter:
    key = get_origin(target) or target
    if state_types is not None and key not in state_types:
        known = ", ".join(sorted(type_name(t) for t in state_types)) or "none"
        raise HandlerSignatureError(
            f"{where} asks for State[{type_name(target)}], but the server holds no state of that type "
            f"(it holds: {known}); pass one to SocketIo(state=...)"
        )

    def get(ctx: CallContext) -> Any:
        try:
            return ctx.state[key]
        except KeyError:
            raise LookupError(
                f"{where}: no State[{type_name(target)}] on this server; pass one to SocketIo(state=...)"
            ) from None

    return get
