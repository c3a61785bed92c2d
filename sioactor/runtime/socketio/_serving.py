"""Serving a ``SocketIo``: the ASGI app whose lifespan runs both halves, ``running``, and the tracer and trace
sinks the options ask for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import anyio
from anyio.abc import TaskStatus

from sioactor._errors import ConfigError, LifespanFailed, SioactorError
from sioactor.actors._trace import Tracer
from sioactor.runtime._lifespan import inner_lifespan, serve_contexts
from sioactor.runtime._worker_context import current_worker
from sioactor.runtime.engineio import EngineServer, engine_asgi_app
from sioactor.runtime.engineio._app import ASGIApp
from sioactor.runtime.engineio._http import Receive, Scope, Send
from sioactor.runtime.socketio._client_bundle import client_bundle_app
from sioactor.runtime.socketio._config import SocketIoConfig
from sioactor.runtime.trace import TraceEndpoint, TraceHub, endpoint_at, run_trace_sinks

__all__ = ("Served", "running", "socketio_asgi_app", "tracing_for")


class Served(Protocol):
    """What serving needs from the ``SocketIo`` it serves: its run, its close and its trace sinks."""

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Host the socket actors until closed."""

    async def close(self) -> None:
        """Disconnect every socket and stop."""

    @property
    def config(self) -> SocketIoConfig:
        """The server's options."""

    @property
    def tracer(self) -> Tracer | None:
        """The tracer the actors report to."""

    @property
    def trace_endpoint(self) -> TraceEndpoint | None:
        """The endpoint consoles attach to, if configured."""


def socketio_asgi_app(io: Served, engine: EngineServer, other_app: ASGIApp | None) -> ASGIApp:
    """The ASGI app of *io*: Engine.IO requests to *engine*, the rest to *other_app* (or 404); the client
    bundle first, when ``serve_client`` is set.

    Its lifespan runs *io* (``running``) and then *other_app*'s own lifespan, if it has one, so a wrapped
    Starlette or FastAPI app still gets its startup and shutdown; shutdown goes in reverse order.
    """

    async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        await _lifespan(io, engine, other_app, scope, receive, send)

    app = engine_asgi_app(engine, fallback=other_app, lifespan=lifespan)
    if io.config.serve_client is None:
        return app
    return client_bundle_app(io.config.serve_client, io.config.engine_path, engine.config.cors, app)


@asynccontextmanager
async def running(io: Served, engine: EngineServer) -> AsyncIterator[None]:
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
    io: Served, engine: EngineServer, other_app: ASGIApp | None, scope: Scope, receive: Receive, send: Send
) -> None:
    contexts: list[AbstractAsyncContextManager[object]] = [running(io, engine)]
    if other_app is not None:
        contexts.append(inner_lifespan(other_app, scope.get("state")))
    await serve_contexts(receive, send, contexts)


async def _run_sinks(
    io: Served, scope: anyio.CancelScope, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    # Serves ``trace_endpoint`` and records ``trace_file`` until cancelled; returns at once without them.
    with scope:
        path = io.config.trace_file
        if not isinstance(io.tracer, TraceHub) or (io.trace_endpoint is None and path is None):
            task_status.started()
            return
        slot = current_worker()
        if slot is not None and slot.count > 1:
            # Each worker traces its own actors: a stream and a file of its own, beside the others'.
            if io.trace_endpoint is not None:
                io.trace_endpoint.serve_as_worker(slot.index, slot.count)
            if path is not None and slot.index:
                path = f"{path}.{slot.index}"
        await run_trace_sinks(io.trace_endpoint, io.tracer, path, task_status=task_status)


def tracing_for(config: SocketIoConfig, tracer: Tracer | None) -> tuple[Tracer | None, TraceEndpoint | None]:
    """The tracer *config* asks for (a ``TraceHub`` of its own unless *tracer* is one) and its endpoint.

    Raises:
        ConfigError: the tracing options need a ``TraceHub`` but *tracer* is another kind.
    """
    if config.trace_endpoint is None and config.trace_file is None:
        return tracer, None
    if tracer is None:
        tracer = TraceHub(trace_payloads=config.trace_payloads)
    elif not isinstance(tracer, TraceHub):
        raise ConfigError(
            "trace_endpoint / trace_file need the tracer to be a TraceHub (or no tracer at all)"
        )
    endpoint = (
        None
        if config.trace_endpoint is None
        else endpoint_at(tracer, config.trace_endpoint, token=config.trace_token)
    )
    return tracer, endpoint
