"""The embedded server: a small ASGI 3 server on anyio (own HTTP/1.1 parser, websockets' sans-IO protocol).

Runs on asyncio and trio. Public names: `serve_asgi`, `ServerConfig`, `ClientDisconnected`, `LifespanFailed`.
"""

from __future__ import annotations

from sioactor._errors import ClientDisconnected, LifespanFailed

from ._config import ServerConfig
from ._serve import serve_asgi
from ._types import ASGIApp

__all__ = ("ASGIApp", "ClientDisconnected", "LifespanFailed", "ServerConfig", "serve_asgi")
