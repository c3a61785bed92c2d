"""Serving a ``SocketIo``: the ASGI app whose lifespan runs both halves, and ``running``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskStatus

from sioactor._errors import LifespanFailed, SioactorError
from sioactor.runtime._lifespan import inner_lifespan, serve_contexts
from sioactor.runtime.engineio import EngineServer, engine_asgi_app
from sioactor.runtime.engineio._app import ASGIApp
from sioactor.runtime.engineio._http import Receive, Scope, Send

if TYPE_CHECKING:
    from sioactor.runtime.socketio._io import SocketIo

__all__ = ("running", "socketio_asgi_app")


def socketio_asgi_app(io: SocketIo, engine: EngineServer, other_app: ASGIApp | None) -> ASGIApp:
    """The ASGI app of *io*: Engine.IO requests to *engine*, the rest to *other_app* (or 404).

    Its lifespan runs *io* (``running``) and then *other_app*'s own lifespan, if it has one, so a wrapped
    Starlette or FastAPI app still gets its startup and shutdown; shutdown goes in reverse order.
    """

    async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        await _lifespan(io, engine, other_app, scope, receive, send)

    return engine_asgi_app(engine, fallback=other_app, lifespan=lifespan)


@asynccontextmanager
async def running(io: SocketIo, engine: EngineServer) -> AsyncIterator[None]:
    """Run *io* for the duration of the block: trace sinks, the socket actors' host and the engine server.

    On exit the sockets are closed first (clients are told ``server shutting down``, disconnect handlers
    run), then the engine sessions (their outboxes flushed); the trace sinks stop last, so a trace has the
    whole life, the final stops included.
    """
    failure: SioactorError | None = None
    async with anyio.create_task_group() as tg:
        sinks = anyio.CancelScope()
        await tg.start(_run_sinks, io, sinks)
        try:
            await tg.start(io.run)
        except Exception as exc:  # an adapter that cannot join its cluster (RedisUnavailable ...)
            failure = _sole_error(exc)
            if failure is None:
                raise
            sinks.cancel()
        if failure is None:
            await tg.start(engine.run)
            try:
                yield
            finally:
                with anyio.CancelScope(shield=True):
                    await io.close()
                    await engine.close()
                sinks.cancel()
    if failure is not None:
        # Raised outside the task group, so the host sees a failed startup and not an exception group.
        raise LifespanFailed(f"the Socket.IO server did not start: {failure}") from failure


def _sole_error(exc: BaseException) -> SioactorError | None:
    """The one sioactor error *exc* is, or holds alone (through nested groups); else ``None``."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc if isinstance(exc, SioactorError) else None


async def _lifespan(
    io: SocketIo, engine: EngineServer, other_app: ASGIApp | None, scope: Scope, receive: Receive, send: Send
) -> None:
    contexts: list[AbstractAsyncContextManager[object]] = [running(io, engine)]
    if other_app is not None:
        contexts.append(inner_lifespan(other_app, scope.get("state")))
    await serve_contexts(receive, send, contexts)


async def _run_sinks(
    io: SocketIo, scope: anyio.CancelScope, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    with scope:
        await io._run_trace_sinks(task_status=task_status)
