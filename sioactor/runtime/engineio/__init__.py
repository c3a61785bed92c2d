"""The Engine.IO server as ASGI: polling and WebSocket transports, the upgrade, and ``engine_asgi_app``.

Public names: ``EngineServer``, ``EngineConfig``, ``CorsConfig``, ``engine_asgi_app``, ``EngineError``.
"""

from __future__ import annotations

from sioactor.runtime.engineio._app import engine_asgi_app
from sioactor.runtime.engineio._config import AllowRequest, CorsConfig, EngineConfig
from sioactor.runtime.engineio._http import EngineError
from sioactor.runtime.engineio._server import EngineServer, new_sid

__all__ = (
    "AllowRequest",
    "CorsConfig",
    "EngineConfig",
    "EngineError",
    "EngineServer",
    "engine_asgi_app",
    "new_sid",
)
