"""Why a connection or a socket ended, with the exact strings Node's socket.io reports."""

from __future__ import annotations

import enum

__all__ = ("DisconnectReason", "EngineCloseReason")


class EngineCloseReason(enum.Enum):
    """Why an Engine.IO session closed. The value is the reason string Node's engine.io uses."""

    TRANSPORT_CLOSE = "transport close"
    TRANSPORT_ERROR = "transport error"
    PING_TIMEOUT = "ping timeout"
    PARSE_ERROR = "parse error"
    FORCED_CLOSE = "forced close"
    SERVER_SHUTTING_DOWN = "server shutting down"
    MULTIPLE_POLLING = "multiple polling requests"
    SLOW_CONSUMER = "transport buffer full"


class DisconnectReason(enum.Enum):
    """Why a Socket.IO socket left its namespace (the seed's set, plus Node's forced server close).

    ``node_reason`` is the string Node's socket.io reports for it (two members share ``transport error``).
    """

    TRANSPORT_CLOSE = "transport_close"
    MULTIPLE_HTTP_POLLING_ERROR = "multiple_http_polling_error"
    PACKET_PARSING_ERROR = "packet_parsing_error"
    TRANSPORT_ERROR = "transport_error"
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"
    CLIENT_NS_DISCONNECT = "client_ns_disconnect"
    SERVER_NS_DISCONNECT = "server_ns_disconnect"
    CLOSING_SERVER = "closing_server"
    FORCED_SERVER_CLOSE = "forced_server_close"

    @property
    def node_reason(self) -> str:
        """The reason string exactly as Node's socket.io reports it."""
        return _NODE_REASON[self]

    @classmethod
    def from_engine(cls, reason: EngineCloseReason) -> DisconnectReason:
        """Map the Engine.IO close reason of a socket's connection to the socket's disconnect reason."""
        return _FROM_ENGINE[reason]


_NODE_REASON = {
    DisconnectReason.TRANSPORT_CLOSE: "transport close",
    DisconnectReason.MULTIPLE_HTTP_POLLING_ERROR: "transport error",
    DisconnectReason.PACKET_PARSING_ERROR: "parse error",
    DisconnectReason.TRANSPORT_ERROR: "transport error",
    DisconnectReason.HEARTBEAT_TIMEOUT: "ping timeout",
    DisconnectReason.CLIENT_NS_DISCONNECT: "client namespace disconnect",
    DisconnectReason.SERVER_NS_DISCONNECT: "server namespace disconnect",
    DisconnectReason.CLOSING_SERVER: "server shutting down",
    DisconnectReason.FORCED_SERVER_CLOSE: "forced server close",
}

_FROM_ENGINE = {
    EngineCloseReason.TRANSPORT_CLOSE: DisconnectReason.TRANSPORT_CLOSE,
    EngineCloseReason.TRANSPORT_ERROR: DisconnectReason.TRANSPORT_ERROR,
    EngineCloseReason.PING_TIMEOUT: DisconnectReason.HEARTBEAT_TIMEOUT,
    EngineCloseReason.PARSE_ERROR: DisconnectReason.PACKET_PARSING_ERROR,
    EngineCloseReason.FORCED_CLOSE: DisconnectReason.FORCED_SERVER_CLOSE,
    EngineCloseReason.SERVER_SHUTTING_DOWN: DisconnectReason.CLOSING_SERVER,
    EngineCloseReason.MULTIPLE_POLLING: DisconnectReason.MULTIPLE_HTTP_POLLING_ERROR,
    EngineCloseReason.SLOW_CONSUMER: DisconnectReason.TRANSPORT_ERROR,
}
