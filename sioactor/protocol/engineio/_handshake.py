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
        max_payload: the largest polling body the server accepts, in bytes (advertised in v4 only).
    """

    sid: str
    upgrades: tuple[str, ...]
    ping_interval: int
    ping_timeout: int
    max_payload: int


def encode_open(handshake: Handshake, *, protocol: EngineProtocol = 4) -> str:
    """The OPEN packet: ``0`` + compact JSON, keys sid, upgrades, pingInterval, pingTimeout[, maxPayload].

    The official test suite checks the exact key set, so v3 (which has no maxPayload) leaves that key out.
    """
    fields: dict[str, object] = {
        "sid": handshake.sid,
        "upgrades": list(handshake.upgrades),
        "pingInterval": handshake.ping_interval,
        "pingTimeout": handshake.ping_timeout,
    }
    if protocol == 4:
        fields["maxPayload"] = handshake.max_payload
    return "0" + orjson.dumps(fields).decode("utf-8")
