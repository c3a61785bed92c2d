"""What a namespace is registered as: a path (``/chat``), a template (``/tenant/{id}``), a regex or a
predicate (``NamespacePattern``), with its connect handler, middleware, the event handlers of all its
sockets and its room-event and server-side listeners (``NamespaceSpec``). The live namespace is
``_namespace.py``'s.
"""

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from sioactor._errors import ConfigError
from sioactor.actors.socketio import (
    RoomChange,
)
from sioactor.runtime.socketio._handler import CompiledHandler, EventHandler

if TYPE_CHECKING:
    pass

__all__ = (
    "ROOM_EVENTS",
    "NamespacePattern",
    "NamespacePredicate",
    "NamespaceSpec",
    "RoomEventName",
    "ServerSideHandler",
    "describe",
)

ServerSideHandler = Callable[..., Any]
"""A handler of server-side events: called with the event's arguments; what it returns (awaited when it is
awaitable) answers an emit that asked for acks."""

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

NamespacePredicate = Callable[[str, Any], bool | Awaitable[bool]]
"""Decides whether a namespace name a client connects to exists: ``(name, auth) -> bool``, a plain ``def``
or an ``async def`` (Node's ``io.of((name, auth, next) => ...)``)."""

NamespacePattern = str | re.Pattern[str] | NamespacePredicate
"""What ``io.ns`` and ``io.on(..., namespace=...)`` take: a path (``/chat``), a template (``/tenant/{id}``,
its parameters reach handlers through ``NsParams``), a compiled regex matching the whole name (its named
groups are the parameters), or a ``NamespacePredicate``."""

RoomEventName = Literal["create-room", "delete-room", "join-room", "leave-room"]
"""The room events of a namespace's adapter, named as Node's."""

ROOM_EVENTS = frozenset(change.value for change in RoomChange)


class NamespaceSpec:
    """A registered namespace pattern with its connect handler, middleware chain and event handlers.

    The pattern is a path (``/chat``), a template (``/tenant/{id}``), a compiled regex that must match the
    whole name, or a predicate asked on a client's CONNECT (see ``NamespacePattern``); all but a path are
    dynamic: each name they admit becomes a live namespace of its own, sharing this spec.

    Attributes:
        handlers: the event handlers of every socket of the namespace (``io.on``), by event name; a socket's
            own (``socket.on``) take precedence.
        on_disconnect: the disconnect handler of every socket (a namespace class's ``on_disconnect``); a
            socket's own (``socket.on_disconnect``) takes precedence.
        room_listeners: the room event listeners (``on_room_event``), by Node's event name.
        server_handlers: the handlers of events other nodes of a cluster send this one
            (``on_server_side``), by event name.
    """

    __slots__ = (
        "handlers",
        "middleware",
        "on_connect",
        "on_disconnect",
        "pattern",
        "predicate",
        "regex",
        "room_listeners",
        "server_handlers",
    )

    def __init__(
        self,
        pattern: NamespacePattern,
        on_connect: CompiledHandler | None,
        middleware: Sequence[CompiledHandler],
    ) -> None:
        self.pattern = pattern
        self.on_connect = on_connect
        self.middleware = list(middleware)
        self.handlers: dict[str, EventHandler] = {}
        self.on_disconnect: CompiledHandler | None = None
        self.room_listeners: dict[str, list[Callable[..., Any]]] = {}
        self.server_handlers: dict[str, ServerSideHandler] = {}
        self.regex: re.Pattern[str] | None = None
        self.predicate: NamespacePredicate | None = None
        if isinstance(pattern, re.Pattern):
            self.regex = pattern
        elif isinstance(pattern, str):
            if not pattern.startswith("/"):
                raise ConfigError(f"a namespace path starts with '/': got {pattern!r}")
            self.regex = _template_regex(pattern)
        elif callable(pattern):
            self.predicate = pattern
        else:
            raise ConfigError(
                f"a namespace is a path, a template such as '/tenant/{{id}}', a compiled regex or a function "
                f"(name, auth) -> bool: got {pattern!r}"
            )

    def add_room_listener(self, kind: str, listener: Callable[..., object]) -> None:
        """Add *listener* for room event *kind* (the live namespaces of this spec share the list).

        Raises:
            ConfigError: *kind* is not a room event, or *listener* is an ``async def``.
        """
        if kind not in ROOM_EVENTS:
            raise ConfigError(f"{kind!r} is not a room event; use one of {sorted(ROOM_EVENTS)}")
        if inspect.iscoroutinefunction(listener):
            raise ConfigError(
                f"room listener {getattr(listener, '__qualname__', listener)}() is an async def; declare it "
                "def (it runs in the room registry, which never waits) and hand the change to a task to await"
            )
        self.room_listeners.setdefault(kind, []).append(listener)

    @property
    def dynamic(self) -> bool:
        """True for a template, a regex or a predicate: the spec of many namespaces."""
        return self.regex is not None or self.predicate is not None

    def match(self, path: str) -> Mapping[str, str] | None:
        """The parameters if *path* matches this path, template or regex (its named groups), else ``None``
        (``{}`` for a static match). A predicate matches nothing here: it is asked on CONNECT
        (``decide_namespace``).
        """
        if self.regex is None:
            return {} if path == self.pattern else None
        found = self.regex.fullmatch(path)
        return None if found is None else {k: v for k, v in found.groupdict().items() if v is not None}


def _template_regex(pattern: str) -> re.Pattern[str] | None:
    # "/t/{id}" -> ["/t/", "id", ""]: even indexes are literal text, odd ones parameter names.
    if not _PARAM.search(pattern):
        return None
    parts = _PARAM.split(pattern)
    return re.compile(
        "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/?#]+)" for i, p in enumerate(parts))
    )


def describe(pattern: NamespacePattern) -> str:
    """*pattern* as error messages and logs name it."""
    if isinstance(pattern, str):
        return repr(pattern)
    if isinstance(pattern, re.Pattern):
        return f"re.compile({pattern.pattern!r})"
    return f"{getattr(pattern, '__qualname__', repr(pattern))}()"
