"""`serve_asgi`: the listener, accept loops, one task per connection (`_tasks`), lifespan around it all, and
the orderly shutdown (`_shutdown`); with ``config.workers`` > 1, the supervisor of the forked workers
(`_workers`) and, in each worker, the routing of requests to their sessions' owners (`_routing`)."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, cast

import anyio
from anyio.abc import SocketAttribute, SocketListener, SocketStream, TaskStatus
from anyio.streams.stapled import MultiListener

from sioactor._lowlevel import Backend, current_backend
from sioactor.runtime._worker_context import WorkerSlot, current_worker

from ._aio_stream import accept_on_loop, addresses, adopt_on_loop
from ._config import ServerConfig
from ._gc import tuned_gc
from ._handoff import HandoffReceiver, HandoffSender
from ._http import HttpConnection
from ._hub import announce_ready
from ._lifespan import Lifespan, lifespan
from ._routing import Router, handoff_limit
from ._scope import ConnectionInfo
from ._shutdown import OpenWebSockets, Shutdown
from ._tasks import Spawn, connection_tasks
from ._types import ASGIApp
from ._workers import Supervisor, bind_listener, watch_parent, worker_listener

if TYPE_CHECKING:
    from ._trio_deadlines import ReadDeadlines
    from ._trio_reactor import TrioReactor

logger = logging.getLogger("sioactor.server")

# Accept errors that concern one connection or a passing resource shortage, never the listener itself.
_TRANSIENT_ACCEPT_ERRORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.ECONNABORTED}


async def serve_asgi(
    app: ASGIApp,
    config: ServerConfig,
    *,
    task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve *app* over HTTP/1.1 and WebSocket on ``config.host:config.port`` until a shutdown.

    Runs on asyncio and trio alike. With ``config.lifespan`` the app's lifespan startup completes before
    the first connection is accepted. ``task_status.started()`` reports the bound port, which is how a
    caller learns the ephemeral port chosen for ``port=0``.

    Shutdown, on SIGINT or SIGTERM (``config.handle_signals``) or when the caller's scope is cancelled: the
    listener closes; the app's lifespan shutdown runs while every connection is still open, so the app can
    tell its clients (sioactor disconnects each socket with ``server shutting down``, flushes the outboxes,
    answers held polls and sends the WebSockets' close frames); the WebSockets the app left open are closed
    (1001) and finish their close handshakes; whatever is still open when ``config.shutdown_timeout`` has
    passed is closed. After a signal this returns normally; a cancellation is re-raised once all of it is
    done. No task outlives this call.

    With ``config.workers`` > 1 this process binds the address and supervises the forked workers (each
    serving *app* as described) until a signal or a cancellation stops them; ``task_status`` reports the
    port once bound, before the workers have started.

    Raises:
        LifespanFailed: the app answered ``lifespan.startup.failed`` (with workers: they kept failing).
        OSError: the address could not be bound.
    """
    if config.workers > 1 and current_worker() is None:
        await _supervise(app, config, task_status)
        return
    shutdown = Shutdown()
    async with anyio.create_task_group() as tg, AsyncExitStack() as stack:
        cycle: Lifespan | None = None
        if config.lifespan:
            cycle = await stack.enter_async_context(lifespan(app, config.lifespan_timeout, tg))
        stack.enter_context(tuned_gc(config.gc_thresholds))
        tg.start_soon(shutdown.on_cancel)
        if config.handle_signals:
            tg.start_soon(shutdown.on_signals)
        # Shielded: a cancelled caller gets the same orderly shutdown (see _shutdown.py).
        with anyio.CancelScope(shield=True):
            await _serve(app, config, cycle, shutdown, task_status)
        tg.cancel_scope.cancel()  # the watchers; the lifespan task ends when the stack closes it


async def _serve(
    app: ASGIApp,
    config: ServerConfig,
    cycle: Lifespan | None,
    shutdown: Shutdown,
    task_status: TaskStatus[int],
) -> None:
    slot = current_worker()
    if slot is None:
        listener = await anyio.create_tcp_listener(
            local_host=config.host, local_port=config.port, backlog=config.backlog
        )
    else:
        listener = MultiListener([await SocketListener.from_socket(worker_listener(slot, config.backlog))])
    backend = current_backend()
    state: dict[str, Any] = {} if cycle is None else cycle.state
    websockets = OpenWebSockets()
    async with connection_tasks(backend) as spawn:  # leaving it closes every connection still open
        async with listener, anyio.create_task_group() as accepting:
            task_status.started(int(listener.extra(SocketAttribute.local_port)))
            trio_helpers = None if backend.name == "asyncio" else _trio_helpers(config, spawn)
            connection = _Connection(app, config, state, spawn, backend, websockets)
            if slot is not None:
                connection.trio_helpers = trio_helpers
                _route(slot, connection, accepting)
            for one in listener.listeners:
                # create_tcp_listener builds only TCP socket listeners; the cast names what accept() needs.
                accepting.start_soon(_accept_loop, cast(SocketListener, one), connection, trio_helpers)
            await shutdown.requested()
            accepting.cancel_scope.cancel()
        with shutdown.grace(config.shutdown_timeout) as grace:
            if cycle is not None:
                await cycle.shut_down()
            await websockets.close_all()
        if grace.cancelled_caught:
            logger.warning("shutdown: closing what is still open after the grace period")


async def _supervise(app: ASGIApp, config: ServerConfig, task_status: TaskStatus[int]) -> None:
    # The parent of the workers: binds, forks from a thread (see _workers.py), stops them on a signal or a
    # cancellation, and returns once they all exited.
    listener = bind_listener(config)
    backend = current_backend().name
    options: dict[str, Any] = {}
    if backend == "asyncio" and type(asyncio.get_running_loop()).__module__.startswith("uvloop"):
        options["use_uvloop"] = True  # the workers run on the loop the parent runs on

    def serve_worker() -> None:
        anyio.run(serve_asgi, app, config, backend=backend, backend_options=options)

    supervisor = Supervisor(config, listener, serve_worker)
    with listener:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_stop_when_cancelled, supervisor)
            if config.handle_signals:
                tg.start_soon(_stop_on_signals, supervisor)
            tg.start_soon(_run_supervisor, supervisor, tg.cancel_scope)
            if await anyio.to_thread.run_sync(supervisor.wait_ready):
                task_status.started(listener.getsockname()[1])
    supervisor.raise_failure()


async def _run_supervisor(supervisor: Supervisor, watchers: anyio.CancelScope) -> None:
    await anyio.to_thread.run_sync(supervisor.run)
    watchers.cancel()


async def _stop_when_cancelled(supervisor: Supervisor) -> None:
    try:
        await anyio.sleep_forever()
    finally:
        supervisor.stop()


async def _stop_on_signals(supervisor: Supervisor) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            supervisor.stop()


def _route(slot: WorkerSlot, connection: _Connection, accepting: anyio.abc.TaskGroup) -> None:
    # A worker of several: route requests by session (and take those handed over), leave with the parent.
    handoff = HandoffSender(slot)
    connection.router = Router(slot, handoff, connection.app, connection.config, connection.spawn)
    accepting.start_soon(HandoffReceiver(slot, handoff_limit(connection.config), connection.adopt).run)
    accepting.start_soon(watch_parent, os.getppid())
    announce_ready(slot.hub_path, slot.index)


def _trio_helpers(config: ServerConfig, spawn: Spawn) -> tuple[TrioReactor | None, ReadDeadlines]:
    # trio is an optional dependency: imported only when it runs. Their tasks end with the connections'.
    from ._trio_deadlines import ReadDeadlines
    from ._trio_reactor import make_reactor

    reactor = make_reactor(config.read_size)
    if reactor is not None:
        spawn(reactor.run)
    deadlines = ReadDeadlines()
    spawn(deadlines.run)
    return reactor, deadlines


class _Connection:
    """What every connection is served with; ``serve`` starts one connection's task."""

    __slots__ = ("app", "backend", "config", "router", "spawn", "state", "trio_helpers", "websockets")

    def __init__(
        self,
        app: ASGIApp,
        config: ServerConfig,
        state: dict[str, Any],
        spawn: Spawn,
        backend: Backend,
        websockets: OpenWebSockets,
    ) -> None:
        self.app = app
        self.config = config
        self.state = state
        self.spawn = spawn
        self.backend = backend
        self.websockets = websockets
        self.router: Router | None = None  # a worker of several routes requests by session
        self.trio_helpers: tuple[TrioReactor | None, ReadDeadlines] | None = None

    def serve(self, stream: SocketStream) -> None:
        self.spawn(self._run, stream)

    def adopt(self, sock: socket.socket, pre_read: bytes) -> None:
        """Serve a connection another worker accepted and handed over, *pre_read* its bytes read so far."""
        self.spawn(self._adopt, sock, pre_read)

    async def _adopt(self, sock: socket.socket, pre_read: bytes) -> None:
        try:
            if self.backend.name == "asyncio":
                stream = await adopt_on_loop(sock, self.config.max_body_buffer)
            else:
                from ._trio_stream import adopt_trio  # trio is an optional dependency

                reactor, deadlines = self.trio_helpers or (None, None)
                stream = adopt_trio(await SocketStream.from_socket(sock), reactor, deadlines)
        except OSError:
            sock.close()  # the client left meanwhile
            return
        await self._run(stream, pre_read)

    async def _run(self, stream: SocketStream, pre_read: bytes = b"") -> None:
        async with stream:
            try:
                peer, local = addresses(stream) or (
                    stream.extra(SocketAttribute.remote_address, None),
                    stream.extra(SocketAttribute.local_address, None),
                )
                info = ConnectionInfo(
                    client=_address(peer),
                    server=_address(local),
                    root_path=self.config.root_path,
                    state=self.state,
                    backend=self.backend,
                )
                if self.router is None:
                    upgrade = await HttpConnection(stream, self.app, self.config, info, self.spawn).run()
                else:
                    upgrade = await self.router.serve(stream, info, pre_read)
                if upgrade is not None:
                    self.websockets.opened(upgrade)
                    try:
                        await upgrade.run(self.app)
                    finally:
                        self.websockets.closed(upgrade)
            except Exception:
                # One connection's failure is logged and closes that connection only.
                logger.exception("connection failed")


async def _accept_loop(
    listener: SocketListener,
    connection: _Connection,
    trio_helpers: tuple[TrioReactor | None, ReadDeadlines] | None,
) -> None:
    serve = connection.serve
    if connection.backend.name == "asyncio":
        raw = listener.extra(SocketAttribute.raw_socket)
        await accept_on_loop(raw, connection.config.max_body_buffer, connection.config.backlog, serve)
        return
    from ._trio_stream import adopt_trio  # trio is an optional dependency: imported only when it runs

    reactor, deadlines = trio_helpers or (None, None)
    short_of: OSError | None = None  # the shortage accepting is waiting out, logged once
    while True:
        try:
            stream = await listener.accept()
        except (OSError, anyio.BrokenResourceError) as exc:
            # anyio raises the OSError of a failed accept as the cause of a BrokenResourceError.
            error = exc if isinstance(exc, OSError) else exc.__cause__
            if not isinstance(error, OSError) or error.errno not in _TRANSIENT_ACCEPT_ERRORS:
                raise
            if short_of is None:
                logger.warning("accept failed (%s); retrying every %.1f s, serving meanwhile", error, 0.1)
            short_of = error
            await anyio.sleep(0.1)
            continue
        if short_of is not None:
            logger.warning("accepting again after %s", short_of.strerror)
            short_of = None
        serve(adopt_trio(stream, reactor, deadlines))


def _address(address: object) -> tuple[str, int] | None:
    if isinstance(address, tuple):
        return str(address[0]), int(address[1])
    return None
