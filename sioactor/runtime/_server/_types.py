"""ASGI 3 type aliases, and the reading's cancel scope, shared by the embedded server's modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from types import TracebackType
from typing import Any, Protocol

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}


class DeadlineScope(Protocol):
    """The reading's cancel scope (anyio's, or trio's own): entered once, its deadline moved later."""

    deadline: float

    def __enter__(self) -> DeadlineScope: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...
