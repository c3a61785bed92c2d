"""Polling payloads (v3 text, v3 XHR2 binary, v4) and outbox framing: document vectors, limits, errors."""

from __future__ import annotations

import pytest

from sioactor.protocol import DecodeError, PayloadTooLarge
from sioactor.protocol.engineio import (
    EngineProtocol,
    OutboxEntry,
    Packet,
    PacketType,
    decode_payload,
    encode_outbox_payload,
    encode_payload,
    encode_ws_frames,
)

P = PacketType
HELLO = Packet(P.MESSAGE, "hello")
BIN = Packet(P.MESSAGE, b"\x01\x02\x03\x04")

# (protocol, b64, body, packets): bodies from the v4 document, the v3 document (incl. its "€" example) and the
# official suite's expectations (PROTOCOL-NOTES.md).
VECTORS: list[tuple[EngineProtocol, bool, str | bytes, list[Packet]]] = [
    (4, False, "4hello\x1e2\x1e4world", [HELLO, Packet(P.PING), Packet(P.MESSAGE, "world")]),
    (4, False, "4hello\x1ebAQIDBA==", [HELLO, BIN]),
    (4, False, "4test1\x1e4test2\x1e4test3", [Packet(P.MESSAGE, f"test{i}") for i in (1, 2, 3)]),
    (4, False, "4hello", [HELLO]),
    (4, False, "6", [Packet(P.NOOP)]),
    (4, False, "1", [Packet(P.CLOSE)]),
    (3, False, "2:4€", [Packet(P.MESSAGE, "€")]),
    (3, False, "6:4hello", [HELLO]),
    (3, False, "6:4hello2:4€1:6", [HELLO, Packet(P.MESSAGE, "€"), Packet(P.NOOP)]),
    (3, False, "3:4😀", [Packet(P.MESSAGE, "😀")]),
    (3, False, "7:4a😀b😀2:4c", [Packet(P.MESSAGE, "a😀b😀"), Packet(P.MESSAGE, "c")]),
    (3, False, "0:", []),
    (3, True, "6:4hello10:b4AQIDBA==", [HELLO, BIN]),
    (3, True, "10:b4AQIDBA==", [BIN]),
    (3, False, b"\x00\x06\xff4hello\x01\x05\xff\x04\x01\x02\x03\x04", [HELLO, BIN]),
    (3, False, b"\x01\x05\xff\x04\x01\x02\x03\x04", [BIN]),
    # XHR2 text lengths count UTF-8 bytes: "4€" is 4 bytes.
    (
        3,
        False,
        b"\x00\x04\xff4\xe2\x82\xac\x01\x01\xff\x04",
        [Packet(P.MESSAGE, "€"), Packet(P.MESSAGE, b"")],
    ),
    (3, False, b"\x01\x01\x00\x01\xff\x04" + bytes(100), [Packet(P.MESSAGE, bytes(100))]),
]


@pytest.mark.parametrize(("protocol", "b64", "body", "packets"), VECTORS)
def test_decode_vector(protocol: EngineProtocol, b64: bool, body: str | bytes, packets: list[Packet]) -> None:
    assert decode_payload(body, protocol=protocol) == packets


@pytest.mark.parametrize(("protocol", "b64", "body", "packets"), VECTORS)
def test_encode_vector(protocol: EngineProtocol, b64: bool, body: str | bytes, packets: list[Packet]) -> None:
    assert encode_payload(packets, protocol=protocol, b64=b64) == body


@pytest.mark.parametrize(("protocol", "b64", "body", "packets"), VECTORS)
def test_text_bodies_also_decode_from_utf8_bytes(
    protocol: EngineProtocol, b64: bool, body: str | bytes, packets: list[Packet]
) -> None:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    assert decode_payload(raw, protocol=protocol) == packets


def test_v3_with_b64_flag_never_gives_bytes() -> None:
    assert encode_payload([BIN], protocol=3, b64=True) == "10:b4AQIDBA=="
    assert encode_payload([BIN], protocol=4, b64=False) == "bAQIDBA=="


@pytest.mark.parametrize(
    ("protocol", "body"),
    [
        (4, ""),
        (4, b""),
        (4, "abc"),
        (4, "4hello\x1e"),
        (4, "4a\x1e\x1e4b"),
        (4, "4hello\x1ebAQIDB"),
        (4, b"4hello\xff"),
        (3, ""),
        (3, "6:4hello!"),
        (3, "6:4hello7:4hello"),
        (3, ":4"),
        (3, "a:4"),
        (3, "-1:4"),
        (3, "1:a"),
        (3, "12345678901:4"),
        (3, "4hello"),
        (3, "2:4😀"),
        (3, "1:b"),
        (3, "3:b4A"),
        (3, "٣:4ab"),
        (3, b"\x00\x06\xff4hello\x01"),
        (3, b"\x00\x07\xff4hello"),
        (3, b"\x00\xff4hello"),
        (3, b"\x00\x06"),
        (3, b"\x00\x0a\xff4hello"),
        (3, b"\x01\x00\xff"),
        (3, b"\x01\x02\xff\x02a"),
        (3, b"\x00\x02\xff4\xff"),
        (3, b"\x00" + bytes(20) + b"\xff"),
        (3, b"\xff\xfe"),
    ],
)
def test_garbage_raises_decode_error(protocol: EngineProtocol, body: str | bytes) -> None:
    with pytest.raises(DecodeError):
        decode_payload(body, protocol=protocol)


@pytest.mark.parametrize("protocol", [3, 4])
def test_oversized_body_is_refused_before_parsing(protocol: EngineProtocol) -> None:
    body = "garbage that would not parse" * 10
    with pytest.raises(PayloadTooLarge) as caught:
        decode_payload(body, protocol=protocol, max_payload=100)
    assert (caught.value.size, caught.value.limit) == (len(body), 100)


def test_body_at_the_limit_is_accepted() -> None:
    assert decode_payload("4" + "x" * 99, max_payload=100) == [Packet(P.MESSAGE, "x" * 99)]


def test_empty_v4_payload_encodes_as_empty_text() -> None:
    assert encode_payload([]) == ""
    assert encode_outbox_payload([]) == ""


OUTBOX: list[OutboxEntry] = ["hello", b"\x01\x02\x03\x04", ("a", b"\x05"), Packet(P.PING), Packet(P.NOOP)]
OUTBOX_PACKETS = [
    HELLO,
    BIN,
    Packet(P.MESSAGE, "a"),
    Packet(P.MESSAGE, b"\x05"),
    Packet(P.PING),
    Packet(P.NOOP),
]


@pytest.mark.parametrize(("protocol", "b64"), [(4, False), (3, False), (3, True)])
def test_outbox_payload_equals_the_packet_payload(protocol: EngineProtocol, b64: bool) -> None:
    body = encode_outbox_payload(OUTBOX, protocol=protocol, b64=b64)
    assert body == encode_payload(OUTBOX_PACKETS, protocol=protocol, b64=b64)
    assert decode_payload(body, protocol=protocol) == OUTBOX_PACKETS


def test_outbox_payload_v4_exact_body() -> None:
    assert encode_outbox_payload(OUTBOX) == "4hello\x1ebAQIDBA==\x1e4a\x1ebBQ==\x1e2\x1e6"


def test_outbox_payload_v3_text_only_stays_text() -> None:
    assert encode_outbox_payload(["hello", "€"], protocol=3) == "6:4hello2:4€"


@pytest.mark.parametrize(
    ("protocol", "entry", "frames"),
    [
        (4, "hello", ["4hello"]),
        (3, "hello", ["4hello"]),
        (4, b"\x01\x02", [b"\x01\x02"]),
        (3, b"\x01\x02", [b"\x04\x01\x02"]),
        (
            4,
            ('451-["e",{"_placeholder":true,"num":0}]', b"\x01"),
            ['4451-["e",{"_placeholder":true,"num":0}]', b"\x01"],
        ),
        (3, ("x", b"\x01", b""), ["4x", b"\x04\x01", b"\x04"]),
        (4, Packet(P.PING), ["2"]),
        (4, Packet(P.CLOSE), ["1"]),
        (3, Packet(P.PONG, "probe"), ["3probe"]),
        (3, Packet(P.MESSAGE, b"\x09"), [b"\x04\x09"]),
    ],
)
def test_ws_frames(protocol: EngineProtocol, entry: OutboxEntry, frames: list[str | bytes]) -> None:
    assert encode_ws_frames(entry, protocol=protocol) == frames


V3_VECTORS = [(body, packets) for protocol, _, body, packets in VECTORS if protocol == 3 and packets]


@pytest.mark.parametrize(("body", "packets"), V3_VECTORS)
def test_v3_trailing_data_is_an_error(body: str | bytes, packets: list[Packet]) -> None:
    with pytest.raises(DecodeError):
        decode_payload(body + ("1" if isinstance(body, str) else b"\x00"), protocol=3)  # type: ignore[operator]


@pytest.mark.parametrize(("body", "packets"), V3_VECTORS)
def test_v3_every_prefix_is_a_packet_prefix_or_an_error(body: str | bytes, packets: list[Packet]) -> None:
    complete = 0
    for cut in range(1, len(body)):
        try:
            decoded = decode_payload(body[:cut], protocol=3)
        except DecodeError:
            continue
        assert decoded == packets[: len(decoded)]
        assert len(decoded) < len(packets)
        complete += 1
    assert complete == len(packets) - 1  # exactly the cuts at packet boundaries decode


@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_bytes_like_bodies_decode(wrap: type[bytearray] | type[memoryview]) -> None:
    assert decode_payload(wrap(b"4hello\x1ebAQIDBA==")) == [HELLO, BIN]
    assert decode_payload(wrap(b"\x00\x06\xff4hello"), protocol=3) == [HELLO]
    assert decode_payload(wrap(b"6:4hello"), protocol=3) == [HELLO]
