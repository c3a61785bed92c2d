"""Nested ASGI lifespans: an inner app's startup and shutdown run inside the outer server's lifespan."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from sioactor import LifespanFailed
from sioactor.runtime._lifespan import inner_lifespan, serve_lifespan

pytestmark = pytest.mark.anyio


class RecordingApp:
    """An ASGI app whose lifespan records what happened, and can fail its startup."""

    def __init__(self, *, fail: bool = False) -> None:
        self.events: list[str] = []
        self.fail = fail

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        if self.fail:
            await send({"type": "lifespan.startup.failed", "message": "no database"})
            return
        self.events.append("startup")
        await send({"type": "lifespan.startup.complete"})
        await receive()
        self.events.append("shutdown")
        await send({"type": "lifespan.shutdown.complete"})


async def no_lifespan(scope: Any, receive: Any, send: Any) -> None:
    return None


async def raises_on_lifespan(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("lifespan not supported")


async def test_startup_on_entry_shutdown_on_exit() -> None:
    app = RecordingApp()
    with anyio.fail_after(5):
        async with inner_lifespan(app):
            assert app.events == ["startup"]
    assert app.events == ["startup", "shutdown"]


@pytest.mark.parametrize("app", [no_lifespan, raises_on_lifespan])
async def test_an_app_without_lifespan_is_served_without_one(app: Any) -> None:
    with anyio.fail_after(5):
        async with inner_lifespan(app):
            pass


async def test_a_failed_startup_is_raised() -> None:
    with anyio.fail_after(5), pytest.raises(LifespanFailed, match="no database"):
        async with inner_lifespan(RecordingApp(fail=True)):
            pytest.fail("the block must not run")


async def test_serve_lifespan_runs_apps_in_order_and_stops_them_in_reverse() -> None:
    first, second = RecordingApp(), RecordingApp()
    order: list[str] = []
    first.events = order
    second.events = order
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    with anyio.fail_after(5):
        await serve_lifespan({"type": "lifespan", "state": {}}, receive, send, [first, second])
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert order == ["startup", "startup", "shutdown", "shutdown"]


async def test_serve_lifespan_reports_a_failed_startup() -> None:
    incoming = [{"type": "lifespan.startup"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with anyio.fail_after(5):
        await serve_lifespan({"type": "lifespan"}, receive, send, [RecordingApp(fail=True)])
    assert sent == [{"type": "lifespan.startup.failed", "message": "no database"}]
