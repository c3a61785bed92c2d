"""`serve_asgi`: the listener, accept loops, one task per connection (`_tasks`), lifespan around it all."""

from __future__ import annotations

import errno
import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, cast

import anyio
from anyio.abc import SocketAttribute, SocketListener, SocketStream, TaskStatus

from sioactor._lowlevel import Backend, current_backend

from ._aio_stream import accept_on_loop, addresses
from ._config import ServerConfig
from ._gc import tuned_gc
from ._http import HttpConnection
from ._lifespan import lifespan
from ._scope import ConnectionInfo
from ._tasks import Spawn, connection_tasks
from ._types import ASGIApp

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
    """Serve *app* over HTTP/1.1 and WebSocket on ``config.host:config.port`` until cancelled.

    Runs on asyncio and trio alike. With ``config.lifespan`` the app's lifespan startup completes before
    the first connection is accepted, and its shutdown runs after the last one closed (shielded, so it
    runs even when the server is cancelled). ``task_status.started()`` reports the bound port, which is
    how a caller learns the ephemeral port chosen for ``port=0``.

    Cancelling the calling scope is the graceful shutdown: the listener closes first, then every
    connection is cancelled and its socket closed; no task outlives this call.

    Raises:
        LifespanFailed: the app answered ``lifespan.startup.failed``.
        OSError: the address could not be bound.
    """
    async with anyio.create_task_group() as tg, AsyncExitStack() as stack:
        state: dict[str, Any] = {}
        if config.lifespan:
            state = await stack.enter_async_context(lifespan(app, config.lifespan_timeout, tg))
        stack.enter_context(tuned_gc(config.gc_thresholds))
        await _listen(app, config, state, task_status)
    # Unreachable unless cancelled; the lifespan task, if it is still waiting, goes with the group.


async def _listen(
    app: ASGIApp, config: ServerConfig, state: dict[str, Any], task_status: TaskStatus[int]
) -> None:
    listener = await anyio.create_tcp_listener(
        local_host=config.host, local_port=config.port, backlog=config.backlog
    )
    backend = current_backend()
    async with listener, connection_tasks(backend) as spawn, anyio.create_task_group() as accepting:
        task_status.started(int(listener.extra(SocketAttribute.local_port)))
        trio_helpers = None if backend.name == "asyncio" else _trio_helpers(config, spawn)
        for one in listener.listeners:
            # create_tcp_listener builds only TCP socket listeners; the cast names what accept() needs.
            accepting.start_soon(
                _accept_loop, cast(SocketListener, one), app, config, state, spawn, backend, trio_helpers
            )


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


async def _accept_loop(
    listener: SocketListener,
    app: ASGIApp,
    config: ServerConfig,
    state: dict[str, Any],
    spawn: Spawn,
    backend: Backend,
    trio_helpers: tuple[TrioReactor | None, ReadDeadlines] | None,
) -> None:
    def serve(stream: SocketStream) -> None:
        spawn(_serve_connection, stream, app, config, state, spawn, backend)

    if backend.name == "asyncio":
        raw = listener.extra(SocketAttribute.raw_socket)
        await accept_on_loop(raw, config.max_body_buffer, config.backlog, serve)
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


async def _serve_connection(
    stream: SocketStream,
    app: ASGIApp,
    config: ServerConfig,
    state: dict[str, Any],
    spawn: Spawn,
    backend: Backend,
) -> None:
    async with stream:
        try:
            peer, local = addresses(stream) or (
                stream.extra(SocketAttribute.remote_address, None),
                stream.extra(SocketAttribute.local_address, None),
            )
            info = ConnectionInfo(
                client=_address(peer),
                server=_address(local),
                root_path=config.root_path,
                state=state,
                backend=backend,
            )
            upgrade = await HttpConnection(stream, app, config, info, spawn).run()
            if upgrade is not None:
                await upgrade.run(app)
        except Exception:
            # One connection's failure is logged and closes that connection only.
            logger.exception("connection failed")


def _address(address: object) -> tuple[str, int] | None:
    if isinstance(address, tuple):
        return str(address[0]), int(address[1])
    return None
