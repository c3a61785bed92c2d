"""``Socket``'s view of the request that opened its connection: query, headers, address, the handshake in
Node's shape, the transport and the protocol revision in use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sioactor.actors.engineio._api import EngineConnection, RequestInfo
from sioactor.runtime.socketio._extract import ProtocolVersion, TransportType
from sioactor.runtime.socketio._handshake import Handshake, build_handshake

__all__ = ("SocketRequest",)


class SocketRequest:
    """The request-side properties of a ``Socket`` (a base class of ``Socket``)."""

    __slots__ = ()

    if TYPE_CHECKING:  # what the socket provides
        conn: EngineConnection
        auth: Any
        _issued: float

    def _trusts_proxy(self) -> bool:
        raise NotImplementedError  # the socket's: its server's ``trust_proxy``

    @property
    def request(self) -> RequestInfo:
        """The HTTP request that opened the connection."""
        return self.conn.request

    @property
    def query(self) -> Mapping[str, str]:
        """The handshake request's query parameters."""
        return self.conn.request.query

    @property
    def headers(self) -> Sequence[tuple[str, str]]:
        """The handshake request's headers (names lower-cased)."""
        return self.conn.request.headers

    @property
    def remote_address(self) -> tuple[str, int] | None:
        """The client's ``(host, port)``, when known."""
        return self.conn.request.remote_address

    @property
    def handshake(self) -> Handshake:
        """The handshake in Node's shape (``Handshake``), read from the request that opened the connection."""
        return build_handshake(self.conn.request, self.auth, self._issued, trust_proxy=self._trusts_proxy())

    @property
    def transport_type(self) -> TransportType:
        """The Engine.IO transport in use now."""
        return TransportType(self.conn.transport)

    @property
    def protocol(self) -> ProtocolVersion:
        """The Socket.IO protocol revision: 5 (Engine.IO v4 clients), 4 (Engine.IO v3 clients)."""
        return ProtocolVersion.V5 if self.conn.protocol == 4 else ProtocolVersion.V4
