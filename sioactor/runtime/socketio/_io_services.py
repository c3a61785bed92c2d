"""``SocketIo``'s base: what the server offers the application beside its sockets -- background tasks run
under the server's supervision (python-socketio's ``start_background_task``) and the engine's
``connection_error`` event (Node's ``io.engine.on("connection_error")``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup

from sioactor.runtime.engineio import EngineServer
from sioactor.runtime.engineio._refusals import ConnectionErrorListener

__all__ = ("IoServices",)

logger = logging.getLogger("sioactor.socketio")


class IoServices:
    """Background tasks and the ``connection_error`` event of a ``SocketIo`` (its base class)."""

    __slots__ = ()

    if TYPE_CHECKING:
        _engine: EngineServer
        _task_group: TaskGroup | None

    def start_background_task(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> anyio.CancelScope:
        """Run ``await fn(*args)`` beside the sockets, in the server's task group; never waits.

        The task is cancelled when the server stops (``close()``, or the end of ``serve``/the lifespan);
        an exception it raises is logged and the server goes on (handle it inside *fn* to do better).
        This is anyio's structured way to keep a task alive with the server; a task of your own task
        group works too when you own one that outlives the server.

        Returns:
            The task's cancel scope: ``scope.cancel()`` ends it early.

        Raises:
            RuntimeError: the server is not running (start tasks from a handler, or after ``serve`` /
                the lifespan has started).
        """
        task_group = self._task_group
        if task_group is None:
            raise RuntimeError(
                "SocketIo is not running: start background tasks once it serves (asgi()/serve()/run())"
            )
        scope = anyio.CancelScope()
        name = getattr(fn, "__qualname__", repr(fn))
        task_group.start_soon(_supervised, fn, args, scope, name, name=f"background task {name}")
        return scope

    def on_connection_error(self, listener: ConnectionErrorListener) -> ConnectionErrorListener:
        """Call *listener* (a plain function) with a ``RequestRefused`` -- the request, Engine.IO's error code
        and message, and why -- for every request refused before it reached a session (Node's
        ``io.engine.on("connection_error")``); usable as a decorator. A listener that raises is logged.
        """
        return self._engine.on_connection_error(listener)


async def _supervised(
    fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...], scope: anyio.CancelScope, name: str
) -> None:
    with scope:
        try:
            await fn(*args)
        except Exception:
            logger.exception("background task %s failed", name)
