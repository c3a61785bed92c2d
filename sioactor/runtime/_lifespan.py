"""Running the ASGI lifespan of apps that are mounted inside another app.

ASGI gives the lifespan scope to the outermost app only. When sioactor wraps a user's app
(``io.asgi(other_app)``) or several apps share one server (the reference server), the outer app must run
each inner app's lifespan itself: start them in order on ``lifespan.startup``, stop them in reverse order on
``lifespan.shutdown``. An app that does not speak lifespan (it raises, or returns without answering) is
simply served without one, as servers do.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from sioactor._errors import LifespanFailed

__all__ = (
    "ASGIApp",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "inner_lifespan",
    "serve_contexts",
    "serve_lifespan",
)

logger = logging.getLogger("sioactor.runtime")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# How long an inner app may take to answer shutdown before it is cancelled.
SHUTDOWN_TIMEOUT = 30.0


@asynccontextmanager
async def inner_lifespan(app: ASGIApp, state: MutableMapping[str, Any] | None = None) -> AsyncIterator[None]:
    """Run *app*'s lifespan: its startup on entry, its shutdown on exit.

    Raises:
        LifespanFailed: the app reported that its startup failed.
    """
    to_app_send, to_app = anyio.create_memory_object_stream[Message](1)
    from_app_send, from_app = anyio.create_memory_object_stream[Message](1)
    scope: MutableMapping[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
    if state is not None:
        scope["state"] = state

    async def run_app() -> None:
        async with from_app_send, to_app:
            try:
                await app(scope, to_app.receive, from_app_send.send)
            except Exception:
                # The spec's way for an app to say "no lifespan here"; a real failure shows at startup.
                logger.debug("inner app %r has no lifespan support", app, exc_info=True)

    refused: str | None = None
    async with anyio.create_task_group() as tg, to_app_send, from_app:
        tg.start_soon(run_app)
        answer = await _ask(to_app_send, from_app, {"type": "lifespan.startup"})
        if answer is not None and answer["type"] == "lifespan.startup.failed":
            refused = str(answer.get("message", ""))
            tg.cancel_scope.cancel()
        else:
            try:
                yield
            finally:
                with anyio.CancelScope(shield=True), anyio.move_on_after(SHUTDOWN_TIMEOUT):
                    if answer is not None:
                        await _ask(to_app_send, from_app, {"type": "lifespan.shutdown"})
                tg.cancel_scope.cancel()
    # Raised outside the task group, so the caller sees this error and not an exception group.
    if refused is not None:
        raise LifespanFailed(refused)


async def _ask(
    to_app: MemoryObjectSendStream[Message], from_app: MemoryObjectReceiveStream[Message], message: Message
) -> Message | None:
    """Send *message* to the app and return its answer, or ``None`` when the app has already returned (an app
    without lifespan support may return before it is even asked)."""
    try:
        await to_app.send(message)
        return await from_app.receive()
    except (anyio.BrokenResourceError, anyio.EndOfStream):
        return None


async def serve_lifespan(
    scope: MutableMapping[str, Any], receive: Receive, send: Send, apps: Sequence[ASGIApp]
) -> None:
    """Answer the server's lifespan scope by running every app of *apps* as an inner lifespan, in order."""
    state = scope.get("state")
    await serve_contexts(receive, send, [inner_lifespan(app, state) for app in apps])


async def serve_contexts(
    receive: Receive, send: Send, contexts: Sequence[AbstractAsyncContextManager[object]]
) -> None:
    """Answer a lifespan scope with *contexts*: entered in order on startup, exited in reverse on shutdown.

    A context raising ``LifespanFailed`` on entry is reported as ``lifespan.startup.failed`` (the ones
    entered before it are exited).
    """
    message = await receive()
    if message["type"] != "lifespan.startup":
        return
    async with AsyncExitStack() as stack:
        try:
            for context in contexts:
                await stack.enter_async_context(context)
        except LifespanFailed as exc:
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()
    await send({"type": "lifespan.shutdown.complete"})
