"""``engine_asgi_app``: one ASGI app for several Engine.IO servers, run under the ASGI lifespan."""

from __future__ import annotations

from contextlib import AsyncExitStack

import anyio

from sioactor.runtime._server._direct_http import mark_inline_safe
from sioactor.runtime.engineio._http import Receive, Scope, Send, respond
from sioactor.runtime.engineio._polling import handle_http
from sioactor.runtime.engineio._server import EngineServer

__all__ = ("ASGIApp", "engine_asgi_app")

from collections.abc import Awaitable, Callable

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def engine_asgi_app(
    *servers: EngineServer, fallback: ASGIApp | None = None, lifespan: ASGIApp | None = None
) -> ASGIApp:
    """An ASGI app dispatching by path to *servers*, other paths to *fallback* (or 404).

    Under the ASGI lifespan, startup runs every server's ``run`` and completes once they are ready; shutdown
    closes them (sessions get ``SERVER_SHUTTING_DOWN``). A lifespan message is forwarded to *fallback*'s
    lifespan only in the sense that *fallback* is not given one: mount *fallback*'s own lifecycle separately.
    *lifespan*, if given, serves the lifespan scope instead (the Socket.IO app's, which runs more than the
    servers): one app level less for every request than wrapping this app would cost.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            if lifespan is not None:
                await lifespan(scope, receive, send)
            else:
                await _lifespan(servers, receive, send)
            return
        path = scope.get("path", "")
        for server in servers:
            if server.handles(path):
                # Polling straight to its handler: the server's own __call__ would be one more level.
                if kind == "http":
                    await handle_http(server, scope, receive, send)
                else:
                    await server(scope, receive, send)
                return
        if fallback is not None:
            await fallback(scope, receive, send)
        elif scope["type"] == "http":
            await respond(send, 404, b"Not Found")
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    # Its engines' polling handlers serve their requests as handle_http would: the embedded server may
    # call them from its read callback (DirectHttp.serve_sync).
    return mark_inline_safe(app)


async def _lifespan(servers: tuple[EngineServer, ...], receive: Receive, send: Send) -> None:
    async with AsyncExitStack() as stack:
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        tg = await stack.enter_async_context(anyio.create_task_group())
        for server in servers:
            await tg.start(server.run)
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        with anyio.CancelScope(shield=True):
            for server in servers:
                await server.close()
        await send({"type": "lifespan.shutdown.complete"})
