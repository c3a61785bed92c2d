"""Engine.IO packets in WebSocket frame form: vectors from the v3 and v4 protocol documents, and errors."""

from __future__ import annotations

import pytest

from sioactor.protocol import DecodeError
from sioactor.protocol.engineio import (
    EngineProtocol,
    Handshake,
    Packet,
    PacketType,
    decode_packet,
    encode_open,
    encode_packet,
    js_length,
)

P = PacketType

# (protocol, frame, packet): every example of a single packet in the v3 and v4 documents.
VECTORS: list[tuple[EngineProtocol, str | bytes, Packet]] = [
    (4, "4hello", Packet(P.MESSAGE, "hello")),
    (4, "2", Packet(P.PING)),
    (4, "3", Packet(P.PONG)),
    (4, "2probe", Packet(P.PING, "probe")),
    (4, "3probe", Packet(P.PONG, "probe")),
    (4, "5", Packet(P.UPGRADE)),
    (4, "6", Packet(P.NOOP)),
    (4, "1", Packet(P.CLOSE)),
    (4, b"\x01\x02\x03\x04", Packet(P.MESSAGE, b"\x01\x02\x03\x04")),
    (4, b"", Packet(P.MESSAGE, b"")),
    (4, "4€", Packet(P.MESSAGE, "€")),
    (3, "2probe", Packet(P.PING, "probe")),
    (3, "3probe", Packet(P.PONG, "probe")),
    (3, "4HelloWorld", Packet(P.MESSAGE, "HelloWorld")),
    (3, "5", Packet(P.UPGRADE)),
    (3, "6", Packet(P.NOOP)),
    # v3's "4|0|1|2|3|4|5": the type byte, then the data.
    (3, b"\x04\x00\x01\x02\x03\x04\x05", Packet(P.MESSAGE, b"\x00\x01\x02\x03\x04\x05")),
    (3, b"\x04", Packet(P.MESSAGE, b"")),
]


@pytest.mark.parametrize(("protocol", "frame", "packet"), VECTORS)
def test_decode_vector(protocol: EngineProtocol, frame: str | bytes, packet: Packet) -> None:
    assert decode_packet(frame, protocol=protocol) == packet


@pytest.mark.parametrize(("protocol", "frame", "packet"), VECTORS)
def test_encode_vector(protocol: EngineProtocol, frame: str | bytes, packet: Packet) -> None:
    encoded = encode_packet(packet, protocol=protocol)
    assert encoded == frame
    assert type(encoded) is type(frame)
    assert decode_packet(encoded, protocol=protocol) == packet


@pytest.mark.parametrize(
    ("protocol", "frame", "packet"),
    [
        (4, "bAQIDBA==", Packet(P.MESSAGE, b"\x01\x02\x03\x04")),
        (4, "b", Packet(P.MESSAGE, b"")),
        (3, "b4AQIDBA==", Packet(P.MESSAGE, b"\x01\x02\x03\x04")),
    ],
)
def test_base64_packet_is_accepted_as_the_reference_parser_does(
    protocol: EngineProtocol, frame: str, packet: Packet
) -> None:
    assert decode_packet(frame, protocol=protocol) == packet


@pytest.mark.parametrize(
    ("protocol", "frame"),
    [
        (4, ""),
        (4, "abc"),
        (4, "7"),
        (4, "9hello"),
        (4, "-1"),
        (4, " 4hello"),
        (4, "bAQI"),
        (4, "b!!!!"),
        (4, "bAQIDBA=x"),
        (4, "bé"),
        (3, ""),
        (3, "x"),
        (3, b""),
        (3, b"\x02probe"),
        (3, b"\x09"),
        (3, "b"),
        (3, "b2AQ=="),
        (3, "b4AQIDB"),
    ],
)
def test_garbage_raises_decode_error(protocol: EngineProtocol, frame: str | bytes) -> None:
    with pytest.raises(DecodeError):
        decode_packet(frame, protocol=protocol)


def test_packet_defaults_to_empty_text() -> None:
    assert Packet(P.NOOP).data == ""
    assert encode_packet(Packet(P.NOOP)) == "6"


@pytest.mark.parametrize("protocol", [3, 4])
def test_encoding_bytes_in_a_control_packet_is_a_caller_bug(protocol: EngineProtocol) -> None:
    with pytest.raises(ValueError, match="only a MESSAGE"):
        encode_packet(Packet(P.PING, b"probe"), protocol=protocol)


@pytest.mark.parametrize(
    ("text", "length"),
    [("", 0), ("hello", 5), ("€", 1), ("é", 1), ("😀", 2), ("a😀b", 4), ("😀😀", 4), ("\U00010000", 2)],
)
def test_js_length_counts_utf16_code_units(text: str, length: int) -> None:
    assert js_length(text) == length


def test_open_packet_v4_matches_the_document_example() -> None:
    handshake = Handshake(
        sid="lv_VI97HAXpY6yYWAAAC",
        upgrades=("websocket",),
        ping_interval=25000,
        ping_timeout=20000,
        max_payload=1000000,
    )
    assert encode_open(handshake) == (
        '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],'
        '"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
    )


def test_open_packet_v3_carries_max_payload_as_node_6_does_and_websocket_has_no_upgrades() -> None:
    handshake = Handshake(sid="abc", upgrades=(), ping_interval=300, ping_timeout=200, max_payload=10)
    assert (
        encode_open(handshake, protocol=3)
        == '0{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":10}'
    )
    assert decode_packet(encode_open(handshake)).type is P.OPEN
