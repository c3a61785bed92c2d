"""Class-based namespaces: a namespace's handlers as the methods of one object (python-socketio's
``AsyncNamespace`` habit), registered with ``io.register_namespace(Chat("/chat"))``.

The methods are read once, when the object is registered, and compiled like any handler: ``on_connect`` is
the connect handler, ``on_disconnect`` every socket's disconnect handler, and each other ``on_<event>`` the
handler of ``<event>`` for every socket of the namespace. Nothing is looked up per message. Their
parameters are extractors, as everywhere (``def on_chat(self, socket: Socket, text: Data[str])``); a plain
``def`` runs at once, an ``async def`` in the socket's own task.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sioactor.runtime.socketio._handler import Handler
from sioactor.runtime.socketio._namespace import NamespacePattern, NamespaceSpec

if TYPE_CHECKING:
    from sioactor.runtime.socketio._io import SocketIo

__all__ = ("NamespaceHandlers", "register_namespace")

_PREFIX = "on_"
_LIFECYCLE = frozenset(("on_connect", "on_disconnect"))


class NamespaceHandlers:
    """Subclass it and name methods ``on_connect``, ``on_disconnect`` and ``on_<event>``; register an
    instance with ``io.register_namespace``. ::

        class Chat(NamespaceHandlers):
            def on_connect(self, socket: Socket) -> None:
                socket.join("lobby")

            async def on_message(self, socket: Socket, text: Data[str]) -> None:
                await socket.to("lobby").emit("message", text)

        io.register_namespace(Chat("/chat"))

    An event whose name is not an identifier (``"chat message"``) is registered with
    ``io.of(path).on(...)`` beside the class.

    Attributes:
        namespace: the namespace the handlers serve: a path, a template, a regex or a predicate (see
            ``NamespacePattern``).
    """

    def __init__(self, namespace: NamespacePattern = "/") -> None:
        self.namespace = namespace
        self._io: SocketIo | None = None

    @property
    def io(self) -> SocketIo:
        """The server the object is registered on (to broadcast: ``self.io.of(socket.ns)``).

        Raises:
            RuntimeError: the object is not registered yet.
        """
        if self._io is None:
            raise RuntimeError(f"{type(self).__name__} is not registered: use io.register_namespace(...)")
        return self._io


def register_namespace(io: SocketIo, handlers: NamespaceHandlers, middleware: Sequence[Handler]) -> None:
    """Compile *handlers*' methods and register them for its namespace on *io* (``io.register_namespace``).

    Raises:
        HandlerSignatureError: a method's parameters have no matching extractor.
        ConfigError: the namespace is not a valid pattern.
    """
    on_connect = getattr(handlers, "on_connect", None)
    on_disconnect = getattr(handlers, "on_disconnect", None)
    spec = NamespaceSpec(
        handlers.namespace,
        None if on_connect is None else io.compile(on_connect, "connect"),
        [io.compile(m, "middleware") for m in middleware],
    )
    events = {
        name[len(_PREFIX) :]: io.event_handler(method, False)
        for name in dir(type(handlers))
        if name.startswith(_PREFIX) and name != _PREFIX and name not in _LIFECYCLE
        if callable(method := getattr(handlers, name))
    }
    if on_disconnect is not None:
        spec.on_disconnect = io.compile(on_disconnect, "disconnect")
    io._add_spec(spec)
    spec.handlers.update(events)  # _add_spec kept the handlers io.on gave the pattern before
    handlers._io = io
