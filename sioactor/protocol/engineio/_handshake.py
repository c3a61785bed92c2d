"""The Engine.IO OPEN packet: the handshake the server sends first on every new session."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from sioactor.protocol.engineio._packet import EngineProtocol

__all__ = ("Handshake", "encode_open")


@dataclass(frozen=True, slots=True, kw_only=True)
class Handshake:
    """What the server tells a new session.

    Attributes:
        sid: the session id.
        upgrades: transports the client may upgrade to: ``("websocket",)`` over polling, ``()`` over
            WebSocket.
        ping_interval: milliseconds between heartbeats.
        ping_timeout: milliseconds to wait for the answer to a heartbeat.
        max_payload: the largest polling body or WebSocket message the server accepts, in bytes.
    """

    sid: str
    upgrades: tuple[str, ...]
    ping_interval: int
    ping_timeout: int
    max_payload: int


def encode_open(handshake: Handshake, *, protocol: EngineProtocol = 4) -> str:
    """The OPEN packet: ``0`` + compact JSON, keys sid, upgrades, pingInterval, pingTimeout, maxPayload.

    The official test suite checks this exact key set. Node's engine.io 6 sends the same five keys to v3
    clients too (its ``Socket.onOpen`` does not look at the protocol; v3 clients ignore ``maxPayload``), so
    *protocol* changes nothing here; it is accepted so callers need not care.
    """
    del protocol
    fields = {
        "sid": handshake.sid,
        "upgrades": list(handshake.upgrades),
        "pingInterval": handshake.ping_interval,
        "pingTimeout": handshake.ping_timeout,
        "maxPayload": handshake.max_payload,
    }
    return "0" + orjson.dumps(fields).decode("utf-8")
