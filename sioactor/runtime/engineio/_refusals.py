"""``RequestRefused``: the engine's ``connection_error`` event (a request refused before it reached a
session), and the listeners ``EngineServer.on_connection_error`` keeps, for logging and metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, final

from sioactor.actors.engineio._api import RequestInfo
from sioactor.runtime.engineio._http import EngineError

__all__ = ("ConnectionErrorListener", "RefusalListeners", "RequestRefused")

logger = logging.getLogger("sioactor.engineio")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRefused:
    """A request the engine refused with one of its errors (Node's ``connection_error`` event): a handshake
    with an unsupported protocol, a bad method or one ``allow_request`` refused, an unknown transport or
    session id, an upgrade that does not fit its session.

    Attributes:
        request: the refused request.
        code: the Engine.IO error (``int(code)`` is the wire code; ``code.message`` Node's text).
        message: the message the client was given.
        context: what made the request wrong, with Node's keys (``{"sid": ...}``, ``{"transport": ...}``,
            ``{"protocol": ...}``, ``{"method": ...}``, ``{"name": "TRANSPORT_MISMATCH", ...}``).
    """

    request: RequestInfo
    code: EngineError
    message: str
    context: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


ConnectionErrorListener = Callable[[RequestRefused], object]
"""A ``connection_error`` listener: a plain function called with each ``RequestRefused``."""


class RefusalListeners:
    """The ``connection_error`` listeners of one engine server; telling them never fails the request."""

    __slots__ = ("_listeners",)

    def __init__(self) -> None:
        self._listeners: list[ConnectionErrorListener] = []

    def add(self, listener: ConnectionErrorListener) -> None:
        """Call *listener* for every refusal from now on."""
        self._listeners.append(listener)

    def __bool__(self) -> bool:
        return bool(self._listeners)

    def tell(self, refusal: RequestRefused) -> None:
        """Call every listener with *refusal*; one that raises is logged, and the others still run."""
        for listener in tuple(self._listeners):
            try:
                listener(refusal)
            except Exception:
                logger.exception("connection_error listener %r failed", listener)
