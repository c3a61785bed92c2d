"""``SocketIo``: the Socket.IO server object users hold: configuration, namespaces, io-level operators, and
the ``Supervisor`` its actors (namespaces, room registries, sockets) run under while it is served.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from types import FunctionType
from typing import Any, TypeVar, final, overload

import anyio
from anyio.abc import TaskGroup, TaskStatus

from sioactor._errors import ConfigError
from sioactor.actors._supervisor import Supervisor
from sioactor.actors._trace import TraceEvent, TraceKind, Tracer
from sioactor.actors.engineio._api import EngineListener
from sioactor.protocol._reasons import DisconnectReason
from sioactor.protocol.socketio import Parser, parser_by_name
from sioactor.runtime._random_ids import random_id
from sioactor.runtime._server import ServerConfig, serve_asgi
from sioactor.runtime._watchdog import watch_loop
from sioactor.runtime.engineio import EngineServer
from sioactor.runtime.engineio._app import ASGIApp
from sioactor.runtime.socketio._adapter import (
    AdapterFactory,
    BroadcastOptions,
    EngineAware,
    LocalAdapter,
    close_adapters,
    join_worker_cluster,
    start_late,
)
from sioactor.runtime.socketio._client import SocketIoListener
from sioactor.runtime.socketio._config import SocketIoConfig, state_by_type
from sioactor.runtime.socketio._connect_timeouts import ConnectTimeouts
from sioactor.runtime.socketio._handler import (
    CompiledHandler,
    EventHandler,
    Handler,
    HandlerKind,
    compile_handler,
    register_context_type,
)
from sioactor.runtime.socketio._io_default import DefaultNamespaceOperators
from sioactor.runtime.socketio._io_services import IoServices
from sioactor.runtime.socketio._namespace import (
    Namespace,
    NamespaceOperators,
    NamespacePattern,
    NamespacePredicate,
    NamespaceSpec,
    ServerSideHandler,
)
from sioactor.runtime.socketio._namespace_class import NamespaceHandlers, register_namespace
from sioactor.runtime.socketio._operators import Rooms
from sioactor.runtime.socketio._parent import ParentNamespace, parent_namespace
from sioactor.runtime.socketio._serving import running, socketio_asgi_app, tracing_for
from sioactor.runtime.socketio._socket import Socket

__all__ = ("SocketIo",)

logger = logging.getLogger("sioactor.socketio")

# Bounds the shared event handlers (``SocketIo.event_handler``); past it the table starts over.
_MAX_SHARED_HANDLERS = 4096
H = TypeVar("H", bound=Handler)


@final
class SocketIo(IoServices, DefaultNamespaceOperators):
    """A Socket.IO server: register namespaces with ``ns``, then serve ``asgi()`` or ``serve()``; run tasks
    beside it with ``start_background_task``, watch refused requests with ``on_connection_error``.

    Args:
        config: the options, the Engine.IO ones nested (``SocketIoConfig(engine=EngineConfig(...))``); its
            docstring lists every limit and default.
        adapter: builds each namespace's ``Adapter`` from the namespace (``LocalAdapter``: this process
            only); a cluster adapter reaches the other nodes.
        state: an object (or a list or tuple of them) handlers receive through ``State[T]``, by type.
        tracer: a ``Tracer`` that receives the actors' trace events. With ``config.trace_endpoint`` or
            ``config.trace_file`` set, the server traces into a ``TraceHub`` (its own unless *tracer* is
            one) and serving it starts the endpoint (``trace_endpoint``, whose ``console_command`` is also
            logged) and the recorder.

    The io-level operators (``to``, ``emit``, ``sockets`` ...) act on the default namespace ``/``; use
    ``of(path)`` for another.

    Raises:
        ConfigError: the tracing options need a ``TraceHub`` but *tracer* is another kind.
    """

    def __init__(
        self,
        config: SocketIoConfig | None = None,
        *,
        adapter: AdapterFactory = LocalAdapter,
        state: Any = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.config = SocketIoConfig() if config is None else config
        self._adapter_factory = adapter
        self._parser: Parser = parser_by_name(self.config.parser)
        self._state = state_by_type(state)
        self.tracer, self.trace_endpoint = tracing_for(self.config, tracer)
        self._listener: EngineListener = SocketIoListener(self)
        engine_config = replace(self.config.engine, path=self.config.engine_path)
        self._engine = EngineServer(engine_config, self._listener, tracer=self.tracer)
        if isinstance(adapter, EngineAware):
            adapter.attach_engine(self._engine)
        self._specs: dict[NamespacePattern, NamespaceSpec] = {}
        self._event_handlers: dict[tuple[Handler, bool, HandlerKind], EventHandler] = {}
        self._namespaces: dict[str, Namespace] = {}
        self._task_group: TaskGroup | None = None
        self._supervisor: Supervisor | None = None
        self._stopped = False
        self._closing = False
        self._connect_timeouts = ConnectTimeouts(self.config.connect_timeout, self._spawn)
        self._close_requested = anyio.Event()
        self._emptied = anyio.Event()

    # --- namespaces -------------------------------------------------------------------------------------

    @overload
    def ns(
        self, path: NamespacePattern, on_connect: Handler, *, middleware: Sequence[Handler] = ()
    ) -> None: ...
    @overload
    def ns(
        self, path: NamespacePattern, on_connect: None = None, *, middleware: Sequence[Handler] = ()
    ) -> Callable[[Handler], Handler]: ...

    def ns(
        self, path: NamespacePattern, on_connect: Handler | None = None, *, middleware: Sequence[Handler] = ()
    ) -> Callable[[Handler], Handler] | None:
        """Register namespace *path* (``/chat``; or dynamic: ``/tenant/{id}``, ``re.compile(r"/t-\\d+")``, a
        predicate ``(name, auth) -> bool``, see ``NamespacePattern``) with its connect handler (or use as
        ``@io.ns("/chat")``). *middleware* run in order before the socket is accepted; one raising
        ``ConnectRefused`` (or any exception) refuses it with a CONNECT_ERROR.

        Raises:
            ConfigError: *path* does not start with ``/``, or is none of the pattern kinds.
            HandlerSignatureError: a handler's parameters have no matching extractor.
        """

        def register(fn: Handler) -> Handler:
            self._register(path, fn, middleware)
            return fn

        if on_connect is None:
            return register
        register(on_connect)
        return None

    def _register(self, path: NamespacePattern, on_connect: Handler, middleware: Sequence[Handler]) -> None:
        chain = [self.compile(m, "middleware") for m in middleware]
        self._add_spec(NamespaceSpec(path, self.compile(on_connect, "connect"), chain))

    def _add_spec(self, spec: NamespaceSpec) -> Namespace | None:
        # Registers *spec* (keeping the event handlers io.on gave an earlier spec of that path); returns the
        # live namespace of a static path.
        path = spec.pattern
        old_spec = self._specs.get(path)
        if old_spec is not None:
            spec.handlers, spec.room_listeners = old_spec.handlers, old_spec.room_listeners
            spec.on_disconnect = spec.on_disconnect or old_spec.on_disconnect
        self._specs[path] = spec
        if spec.dynamic or not isinstance(path, str):
            return None
        old = self._namespaces.pop(path, None)
        if old is not None:
            old.stop()
        ns = self._namespaces[path] = self._live(Namespace(self, path, {}, spec))
        return ns

    def register_namespace(self, handlers: NamespaceHandlers, *, middleware: Sequence[Handler] = ()) -> None:
        """Register a class-based namespace (``NamespaceHandlers``: its ``on_connect``, ``on_disconnect`` and
        ``on_<event>`` methods); *middleware* as ``ns`` takes it."""
        register_namespace(self, handlers, middleware)

    @overload
    def on(
        self, event: str, handler: H, *, namespace: NamespacePattern = "/", concurrent: bool = False
    ) -> H: ...
    @overload
    def on(
        self, event: str, handler: None = None, *, namespace: NamespacePattern = "/", concurrent: bool = False
    ) -> Callable[[H], H]: ...

    def on(
        self,
        event: str,
        handler: H | None = None,
        *,
        namespace: NamespacePattern = "/",
        concurrent: bool = False,
    ) -> H | Callable[[H], H]:
        """Handle *event* on every socket of *namespace* (a path, or a dynamic pattern such as
        ``/tenant/{id}``), or use as ``@io.on("event")``; ``io.of(path).on(...)`` is the same. Registered
        once for all sockets, compiled once; a socket's own ``socket.on`` for the same event overrides it
        for that socket. A namespace not registered yet is registered, with no connect handler.

        How it runs is read from the declaration: a plain ``def`` runs at once in the task that read the
        event when the socket is idle, else after the socket's earlier events; an ``async def`` runs in the
        socket's own task. Either way each socket handles its events one at a time, in order, unless
        *concurrent* lets an ``async def`` run beside them (see ``Socket.on``).

        Raises:
            ConfigError: *namespace* does not start with ``/``.
            HandlerSignatureError: a parameter of *handler* has no extractor an event handler understands.
        """

        def register(fn: H) -> H:
            spec = self._specs.get(namespace)
            if spec is None:
                spec = NamespaceSpec(namespace, None, ())
                self._add_spec(spec)
            spec.handlers[event] = self.event_handler(fn, concurrent)
            return fn

        return register if handler is None else register(handler)

    def _live(self, ns: Namespace) -> Namespace:
        if self._supervisor is not None:
            ns.start(self._supervisor)
            if self._task_group is not None:
                self._task_group.start_soon(start_late, ns, self._task_group)
        return ns

    def delete_ns(self, path: NamespacePattern) -> None:
        """Remove namespace *path* (a pattern, or one concrete namespace): its sockets are disconnected."""
        self._specs.pop(path, None)
        doomed = [ns for ns in self._namespaces.values() if ns.path == path or ns.spec.pattern == path]
        for ns in doomed:
            del self._namespaces[ns.path]
            for socket in list(ns.sockets().values()):
                socket.disconnect()
            ns.stop()  # after the disconnects: their removals find it stopped, and its state goes with it
            if self._task_group is not None:
                self._task_group.start_soon(ns.adapter.close)  # leaves the cluster

    def _namespace_for(self, path: str) -> Namespace | None:
        ns = self._namespaces.get(path)
        if ns is not None:
            return ns
        for spec in self._specs.values():
            if spec.regex is not None and (params := spec.match(path)) is not None:
                return self._child(path, spec, params)
        return None

    def _child(self, path: str, spec: NamespaceSpec, params: Mapping[str, str]) -> Namespace:
        ns = self._namespaces[path] = self._live(Namespace(self, path, params, spec))
        return ns

    @overload
    def of(self, path: str) -> NamespaceOperators: ...
    @overload
    def of(self, path: re.Pattern[str] | NamespacePredicate) -> ParentNamespace: ...

    def of(self, path: NamespacePattern) -> NamespaceOperators | ParentNamespace:
        """The operators of namespace *path* (``io.of("/chat").emit(...)``), and ``on`` to register its
        event handlers. As Node's ``io.of``, a path not registered yet is registered, with no connect handler
        (register one with ``ns``); a path of a dynamic pattern (``/tenant/7``) is that pattern's namespace; a
        regex or a predicate gives its ``ParentNamespace`` (as ``parent``).

        Raises:
            ConfigError: *path* does not start with ``/``, or is a template (``/t/{id}``: use ``parent``).
        """
        if not isinstance(path, str):
            return self.parent(path)
        ns = self._namespaces.get(path)
        if ns is None:
            spec = self._specs.get(path) or NamespaceSpec(path, None, ())
            if spec.dynamic:
                raise ConfigError(
                    f"{path!r} is a dynamic pattern, not a namespace: io.parent({path!r}) reaches all its "
                    f"namespaces, io.on(event, handler, namespace={path!r}) registers handlers for them"
                )
            ns = self._namespace_for(path) or self._add_spec(spec)
            assert ns is not None  # a static spec has a live namespace
        return NamespaceOperators(ns, BroadcastOptions())

    def parent(self, pattern: NamespacePattern) -> ParentNamespace:
        """Every namespace of dynamic *pattern*, registered now if it is not (``ParentNamespace``, as Node's).
        Raises ``ConfigError`` for a plain path (use ``of``) or what is no pattern at all."""
        return parent_namespace(self, pattern)

    def _root_ns(self) -> NamespaceOperators:
        ns = self._namespaces.get("/")
        if ns is None:
            raise ConfigError("the default namespace '/' is not registered; use io.of(path) instead")
        return NamespaceOperators(ns, BroadcastOptions())

    def on_server_side(self, event: str, handler: ServerSideHandler, *, namespace: str = "/") -> None:
        """Handle *event* sent by another node with ``server_side_emit`` (``NamespaceOperators``)."""
        self.of(namespace).on_server_side(event, handler)

    def get_socket(self, sid: str) -> Socket | None:
        """The socket *sid* of ``/``, or ``None``."""
        ns = self._namespaces.get("/")
        socket = None if ns is None else ns.sockets().get(sid)
        return socket if socket is not None and socket.connected else None

    async def join(self, rooms: Rooms) -> None:
        """Every socket of ``/`` joins *rooms*."""
        await self._root().join(rooms)

    async def leave(self, rooms: Rooms) -> None:
        """Every socket of ``/`` leaves *rooms*."""
        await self._root().leave(rooms)

    async def disconnect(self) -> None:
        """Disconnect every socket of ``/``."""
        await self._root().disconnect()

    # --- running ----------------------------------------------------------------------------------------

    def asgi(self, other_app: ASGIApp | None = None) -> ASGIApp:
        """The ASGI app: Socket.IO under ``config.path``, everything else to *other_app* (or 404).

        Its ASGI lifespan starts and stops the server and then runs *other_app*'s own lifespan (a wrapped
        Starlette/FastAPI app keeps its startup and shutdown), so the hosting server must run lifespan
        (uvicorn, hypercorn and ``serve`` do by default). To mount sioactor *inside* another framework
        instead, run ``io.lifespan()`` from that framework's lifespan.
        """
        return socketio_asgi_app(self, self._engine, other_app)

    def lifespan(self) -> AbstractAsyncContextManager[None]:
        """Run the server for the duration of an ``async with`` block, for hosts that own the lifespan.

        ``Starlette(routes=[Mount("/", io.asgi())], lifespan=lambda app: io.lifespan())``: the socket actors,
        the Engine.IO server and the trace sinks start on entry; on exit every socket is told ``server
        shutting down`` and the sessions are flushed and closed.
        """
        return running(self, self._engine)

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 3000,
        *,
        shutdown_timeout: float = 10.0,
        workers: int = 1,
        task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Serve on ``host:port`` with the embedded server until SIGINT, SIGTERM, a cancellation or
        ``close()`` (then the listener closes, as Node's ``io.close()`` closes its HTTP server, and this
        returns); ``task_status`` gets the bound port (``port=0`` picks a free one).

        A signal or a cancellation stops the server gracefully: no new connections, then ``close()`` runs
        while the clients are still connected (each socket is disconnected with ``server shutting down``,
        outboxes are flushed, held polls answered, WebSockets closed with a close frame), and what is still
        open after *shutdown_timeout* seconds is closed. A second signal closes everything at once.
        With *workers* > 1, that many processes serve the port as one cluster (``ServerConfig.workers``).
        """
        config = ServerConfig(host=host, port=port, shutdown_timeout=shutdown_timeout, workers=workers)
        # A WebSocket message is bounded by the engine's max_payload (Node's maxHttpBufferSize bounds both).
        config = replace(config, ws_max_message_size=self.config.engine.max_payload)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._stop_serving_when_closed, tg.cancel_scope)
            await serve_asgi(self.asgi(), config, task_status=task_status)
            tg.cancel_scope.cancel()  # stopped by a signal: the watcher of close() is done too

    async def _stop_serving_when_closed(self, serving: anyio.CancelScope) -> None:
        await self._close_requested.wait()
        await self._engine.close()  # close() does so too; waiting here lets sessions flush first
        serving.cancel()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Host the socket actors until ``close()`` (or cancellation). Started by ``asgi()``'s lifespan or
        ``serve()``; tests may ``await task_group.start(io.run)``.
        """
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            if self.config.stall_threshold is not None:
                tg.start_soon(watch_loop, self.config.stall_threshold, self.tracer)
            try:
                async with Supervisor(tracer=self.tracer, name="socketio") as supervisor:
                    self._supervisor = supervisor
                    for ns in self._namespaces.values():
                        ns.start(supervisor)
                    try:
                        self._adapter_factory = join_worker_cluster(
                            self._adapter_factory, self._namespaces.values()
                        )
                        for ns in list(self._namespaces.values()):
                            await ns.adapter.start(tg)
                        task_status.started()
                        await self._close_requested.wait()
                    finally:
                        with anyio.CancelScope(shield=True):
                            await close_adapters(list(self._namespaces.values()))
                    self._supervisor = None
                    await supervisor.shutdown(timeout=1.0)
            finally:
                self._supervisor = None
                self._task_group = None
                self._stopped = True
                tg.cancel_scope.cancel()  # connect timers

    @property
    def running(self) -> bool:
        """True while ``run`` hosts the actors and ``close`` has not begun."""
        return self._supervisor is not None and not self._closing

    @property
    def _running_supervisor(self) -> Supervisor:
        """The supervisor the server's actors run under.

        Raises:
            RuntimeError: the server is not running.
        """
        if self._supervisor is None:
            raise RuntimeError("SocketIo is not running: serve it with asgi()/serve(), or start io.run()")
        return self._supervisor

    async def close(self) -> None:
        """Disconnect every socket (``server shutting down``: the client is told), let their disconnect
        handlers run, stop the actors, then close the Engine.IO server (sessions flushed and closed).

        The server stays closed, as Node's: ``running`` is false from the first line, a session opened
        meanwhile is closed at once, and new handshakes are answered with Engine.IO's error (``400``,
        ``{"code": 3, ...}``; a WebSocket is refused). ``serve()`` returns; under another ASGI server the
        app keeps answering so until that server stops.
        """
        self._closing = True
        for ns in list(self._namespaces.values()):
            for socket in list(ns.sockets().values()):
                socket._close(DisconnectReason.CLOSING_SERVER, notify=True)
        with anyio.move_on_after(5):
            while any(ns.sockets() for ns in self._namespaces.values()):
                self._emptied = anyio.Event()
                await self._emptied.wait()
        self._close_requested.set()
        await self._engine.close()

    # --- internals shared by the package ----------------------------------------------------------------

    def _spawn(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Start *fn* in the server's task group (the connect timeouts' task)."""
        if self._task_group is not None:
            self._task_group.start_soon(fn)
        elif self._stopped:
            logger.debug("SocketIo is closed; work for a late packet dropped")
        else:
            raise RuntimeError("SocketIo is not running: serve it with asgi()/serve(), or start io.run()")

    def _socket_removed(self) -> None:
        """A socket left its namespace for good (wakes ``close()``, which waits for them all)."""
        self._emptied.set()

    def compile(self, fn: Handler, kind: HandlerKind) -> CompiledHandler:
        """Compile handler *fn* for *kind*, checking ``State[T]`` against this server's state objects."""
        return compile_handler(fn, kind=kind, state_types=tuple(self._state))

    def event_handler(self, fn: Handler, concurrent: bool, *, kind: HandlerKind = "event") -> EventHandler:
        """The compiled event handler *fn* as a socket's handler table holds it, with its ``concurrent`` flag
        (*kind* ``"error"`` for an error handler, which a socket's hooks hold the same way).

        Shared by every socket that registers the same module-level function: a connect handler registering
        ten of them would otherwise give each connection ten compiled handlers and ten tuples. A closure is
        a new function per connection and is compiled each time: register it once with ``on`` instead.
        ``concurrent`` means nothing to a plain ``def``, which never waits: it is dropped.
        """
        key = (fn, concurrent, kind)
        entry = self._event_handlers.get(key) if type(fn) is FunctionType else None
        if entry is not None:  # only shareable functions are ever stored
            return entry
        compiled = self.compile(fn, kind)
        entry = (compiled, concurrent and not compiled.synchronous)
        if type(fn) is FunctionType and fn.__closure__ is None:
            if len(self._event_handlers) >= _MAX_SHARED_HANDLERS:
                self._event_handlers.clear()
            self._event_handlers[key] = entry
        return entry

    def _new_sid(self) -> str:
        """A fresh socket id: 20 URL-safe base64 characters, as Node's."""
        return random_id()

    def _trace(self, kind: TraceKind, actor: str, **details: Any) -> None:
        """Report to the tracer, if one listens (one branch otherwise)."""
        if self.tracer is not None:
            self.tracer.record(
                TraceEvent(kind=kind, actor=actor, actor_kind=actor.split(":", 1)[0], **details)
            )

    def _trace_rooms(self, kind: TraceKind, actor: str, rooms: Sequence[str] | None) -> None:
        """Report a join or leave of *rooms* (``None``: every room, the socket's own included)."""
        if self.tracer is not None:
            detail = "*" if rooms is None else ", ".join(rooms)
            self._trace(kind, actor, detail=detail, fields={"rooms": None if rooms is None else list(rooms)})


register_context_type(SocketIo, "io")
