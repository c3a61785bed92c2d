"""The ASGI lifespan protocol: startup before the server accepts, shutdown once it stops accepting.

The app runs in its own task for the server's whole life. An app that raises before answering startup
does not support lifespan (plain ASGI apps usually raise on an unknown scope type); the server then
serves it without. An app that answers ``lifespan.startup.failed`` stops the server from starting.

Shutdown runs while the connections are still open (``Lifespan.shut_down``, called by ``serve_asgi``), so
an app can still tell its clients goodbye; leaving the ``lifespan`` block runs it if nobody did.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import TaskGroup

from sioactor._errors import LifespanFailed

from ._types import ASGI_VERSION, ASGIApp, Message

logger = logging.getLogger("sioactor.server")


class Lifespan:
    """One app's lifespan cycle (made by ``lifespan``): its ``state``, and ``shut_down``."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout
        self.state: dict[str, Any] = {}
        self.supported = True
        self._shut_down = False
        self.scope = anyio.CancelScope(shield=True)
        self._to_app, self._app_inbox = anyio.create_memory_object_stream[Message](2)
        self._answer: Message | None = None
        self._answered = anyio.Event()

    async def run(self) -> None:
        # Shielded: cancelling the server must not kill the app's lifespan task before it has handled
        # shutdown. `lifespan()` cancels this scope itself once shutdown is over (or startup failed).
        with self.scope:
            await self._run_app()

    async def _run_app(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI_VERSION, "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        except Exception:
            if self._answer is None:
                self.supported = False
                logger.debug("the app does not support ASGI lifespan; serving without", exc_info=True)
            else:
                logger.exception("the app's lifespan task failed")
        finally:
            self._app_inbox.close()
            self._answered.set()

    async def _receive(self) -> Message:
        return await self._app_inbox.receive()

    async def _send(self, message: Message) -> None:
        self._answer = message
        self._answered.set()

    def close(self) -> None:
        """End the app's lifespan task: it has had its shutdown (or will never get one)."""
        self._to_app.close()
        self.scope.cancel()

    async def shut_down(self) -> None:
        """Run the app's shutdown, once (later calls return at once), within ``timeout``; not shielded, so
        the caller's deadline bounds it too (the app's own task goes on until ``close``). A failed or late
        shutdown is logged: the server stops all the same.
        """
        if self._shut_down or not self.supported:
            return
        self._shut_down = True
        try:
            await self.exchange("shutdown")
        except TimeoutError:
            logger.warning("the app's lifespan shutdown did not finish within %s s", self.timeout)
        except LifespanFailed as exc:
            logger.error("%s", exc)  # noqa: TRY400 (the app's message says it all; our traceback would not)

    async def exchange(self, phase: str) -> None:
        """Send ``lifespan.<phase>`` and wait for the app's answer."""
        self._answered = anyio.Event()
        self._answer = None
        try:
            self._to_app.send_nowait({"type": f"lifespan.{phase}"})
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            return
        with anyio.fail_after(self.timeout):
            await self._answered.wait()
        answer_type = self._answer["type"] if self._answer else None
        if answer_type == f"lifespan.{phase}.failed":
            message = self._answer.get("message", "") if self._answer else ""
            raise LifespanFailed(f"ASGI lifespan {phase} failed: {message}")


@asynccontextmanager
async def lifespan(app: ASGIApp, time_limit: float, task_group: TaskGroup) -> AsyncIterator[Lifespan]:
    """Run startup on entry; on exit, shutdown unless ``shut_down`` ran already (shielded, so a cancelled
    server still shuts down).

    Yields the cycle, whose ``state`` dict request scopes get a shallow copy of.
    """
    cycle = Lifespan(app, time_limit)
    task_group.start_soon(cycle.run)
    try:
        await cycle.exchange("startup")
        try:
            yield cycle
        finally:
            with anyio.CancelScope(shield=True):
                await cycle.shut_down()
    finally:
        cycle.close()
