"""The Engine.IO server as ASGI: polling and WebSocket transports, the upgrade, and ``engine_asgi_app``.

Public names: ``EngineServer``, ``EngineConfig``, ``CorsConfig``, ``CookieConfig``, ``engine_asgi_app``,
``EngineError``, ``RequestRefused``.

Layer rule: it may import ``sioactor.actors``, ``sioactor.protocol`` and the embedded server
(``runtime._server``); never ``runtime.socketio`` (which sits on top of it) or the console.
``tests/test_layering.py`` enforces it.
"""

from __future__ import annotations

from sioactor.actors.engineio._session import SlowConsumerPolicy
from sioactor.runtime.engineio._app import engine_asgi_app
from sioactor.runtime.engineio._config import AllowRequest, CookieConfig, CorsConfig, EngineConfig
from sioactor.runtime.engineio._http import EngineError
from sioactor.runtime.engineio._refusals import RequestRefused
from sioactor.runtime.engineio._server import EngineServer, new_sid

__all__ = (
    "AllowRequest",
    "CookieConfig",
    "CorsConfig",
    "EngineConfig",
    "EngineError",
    "EngineServer",
    "RequestRefused",
    "SlowConsumerPolicy",
    "engine_asgi_app",
    "new_sid",
)
