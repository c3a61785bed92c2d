"""Engine.IO v3/v4, sans-IO: packets, polling payloads, the handshake, and the session state machine.

Everything here is a value in, a value out; decoding the peer's input raises only ``ProtocolError`` subclasses
(``DecodeError``, ``PayloadTooLarge``).
"""

from sioactor.protocol.engineio._handshake import Handshake, encode_open
from sioactor.protocol.engineio._packet import (
    EngineProtocol,
    Packet,
    PacketType,
    decode_packet,
    encode_packet,
    js_length,
)
from sioactor.protocol.engineio._payload import (
    OutboxEntry,
    Uncompressed,
    decode_payload,
    encode_outbox_payload,
    encode_payload,
    encode_ws_frames,
    payload_packets,
)
from sioactor.protocol.engineio._state import Due, SessionEvent, SessionState, SessionStateMachine

__all__ = (
    "Due",
    "EngineProtocol",
    "Handshake",
    "OutboxEntry",
    "Packet",
    "PacketType",
    "SessionEvent",
    "SessionState",
    "SessionStateMachine",
    "Uncompressed",
    "decode_packet",
    "decode_payload",
    "encode_open",
    "encode_outbox_payload",
    "encode_packet",
    "encode_payload",
    "encode_ws_frames",
    "js_length",
    "payload_packets",
)
