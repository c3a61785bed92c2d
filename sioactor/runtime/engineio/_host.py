"""``TransportHost``: what a transport (polling, WebSocket, direct WebSocket) needs from the engine server.

The transports are called by ``EngineServer`` for each request and call back into it for the handshake and
the session registry; typing them against this protocol, not the server class, keeps the dependency one way
(the server imports its transports, the transports import this).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from sioactor.actors.engineio._api import RequestInfo, TransportName
    from sioactor.actors.engineio._session import EngineSession
    from sioactor.runtime.engineio._config import EngineConfig
    from sioactor.runtime.engineio._http import EngineError, Scope
    from sioactor.runtime.engineio._locator import SessionLocator

__all__ = ("TransportHost",)


class TransportHost(Protocol):
    """The engine server as its transports see it (``EngineServer`` is the one implementation)."""

    @property
    def config(self) -> EngineConfig:
        """The server's configuration."""

    @property
    def locator(self) -> SessionLocator | None:
        """Who serves a request whose session another node owns, if the server is in such a cluster."""

    @property
    def running(self) -> bool:
        """Whether new sessions may open."""

    def handles(self, path: str) -> bool:
        """Whether a request for *path* belongs to this server."""

    def lookup(self, sid: str) -> EngineSession | None:
        """The session *sid*, or ``None``."""

    def lookup_upgrade(self, sid: str, scope: Scope) -> EngineSession | None:
        """``lookup`` for a WebSocket upgrade, reporting an unknown *sid* as a connection error."""

    def refused(self, scope: Scope, code: EngineError, message: str = "", /, **context: Any) -> None:
        """Tell the ``connection_error`` listeners that this request is refused."""

    def handshake_headers(self, session: EngineSession) -> list[tuple[bytes, bytes]]:
        """The extra headers of the answer that opens *session* (the cookie option's)."""

    def check_handshake(self, query: Mapping[str, str], method: str) -> EngineError | None:
        """Why a handshake must be refused, or ``None``."""

    def protocol_of(self, query: Mapping[str, str]) -> Literal[3, 4] | None:
        """The Engine.IO revision the request asks for, if the server accepts it."""

    def transport_known(self, transport: str | None) -> bool:
        """Whether *transport* is one the server offers."""

    async def allowed(self, request: RequestInfo) -> str | None:
        """The refusal message of ``allow_request``, or ``None``."""

    def request_info(self, scope: Scope) -> RequestInfo:
        """The handshake request as the layers above see it."""

    async def open_session(
        self, protocol: Literal[3, 4], transport: TransportName, request: RequestInfo
    ) -> EngineSession:
        """Create, register and open a session."""

    def open_packet(self, session: EngineSession) -> str:
        """The OPEN packet text for *session*."""
