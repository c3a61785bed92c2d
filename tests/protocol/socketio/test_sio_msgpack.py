"""The msgpack format (npm socket.io-msgpack-parser 3.x): layout, what Node clients send, and refusals."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgpack
import pytest

from sioactor.protocol import DecodeError, PayloadTooLarge
from sioactor.protocol.socketio import MSGPACK_PARSER, Packet, PacketType, decode_msgpack, encode_event

T = PacketType


def pack(obj: Any) -> bytes:
    packed: bytes = msgpack.packb(obj, use_bin_type=True)
    return packed


PACKETS = [
    Packet(type=T.CONNECT),
    Packet(type=T.CONNECT, nsp="/admin", data={"token": "123"}),
    Packet(type=T.CONNECT, nsp="/admin", query="token=1"),
    Packet(type=T.DISCONNECT, nsp="/admin"),
    Packet(type=T.EVENT, data=["foo", 1, 1.5, None, True, {"k": [b"\x01\x02"]}]),
    Packet(type=T.EVENT, nsp="/admin", data=["foo"], id=12),
    Packet(type=T.ACK, data=[], id=2**40),
    Packet(type=T.CONNECT_ERROR, data={"message": "Not authorized", "data": {"code": 1}}),
    Packet(type=T.CONNECT_ERROR, data="Not authorized"),
]


@pytest.mark.parametrize("packet", PACKETS)
def test_round_trip(packet: Packet) -> None:
    encoded = MSGPACK_PARSER.encode(packet)
    assert isinstance(encoded, bytes)
    assert MSGPACK_PARSER.decoder().feed(encoded) == packet


def test_layout_omits_absent_keys_and_carries_binary_inline() -> None:
    assert msgpack.unpackb(MSGPACK_PARSER.encode(Packet(type=T.CONNECT))) == {"type": 0, "nsp": "/"}
    encoded = MSGPACK_PARSER.encode(Packet(type=T.BINARY_EVENT, data=["a", bytearray(b"\x00")], id=3))
    assert encoded == pack({"type": 2, "nsp": "/", "data": ["a", b"\x00"], "id": 3})


def test_encode_event_matches_encode() -> None:
    args = ("x", memoryview(b"\x01"))
    expected = MSGPACK_PARSER.encode(Packet(type=T.EVENT, nsp="/n", data=["ev", *args], id=9))
    assert encode_event("/n", "ev", args, 9, MSGPACK_PARSER) == expected


def test_encode_ack_matches_encode() -> None:
    args = ("x", memoryview(b"\x01"))
    expected = MSGPACK_PARSER.encode(Packet(type=T.ACK, nsp="/n", data=list(args), id=4))
    assert MSGPACK_PARSER.encode_ack("/n", 4, args) == expected


def test_connect_with_notepack_undefined_data_means_no_auth() -> None:
    # socket.io-client with the msgpack parser sends {type: 0, nsp: "/", data: undefined}
    raw = bytes.fromhex("83a474797065 00 a36e7370 a12f a464617461 d40000".replace(" ", ""))
    assert decode_msgpack(raw) == Packet(type=T.CONNECT)


def test_event_options_key_is_ignored() -> None:
    raw = pack({"type": 2, "nsp": "/", "data": ["a"], "options": {"compress": True}})
    assert decode_msgpack(raw) == Packet(type=T.EVENT, data=["a"])


def test_browser_array_buffers_arrive_as_bytes() -> None:
    # notepack writes an ArrayBuffer as ext type 0 of its length
    raw = pack({"type": 2, "nsp": "/", "data": ["a", msgpack.ExtType(0, b"\x01\x02\x03")]})
    assert decode_msgpack(raw).data == ["a", b"\x01\x02\x03"]


@pytest.mark.parametrize(
    "obj",
    [
        [2, "/"],
        {"nsp": "/", "data": ["a"]},
        {"type": 5, "nsp": "/", "data": ["a", {"_placeholder": True, "num": 0}]},
        {"type": True, "nsp": "/", "data": ["a"]},
        {"type": 2, "data": ["a"]},
        {"type": 2, "nsp": 1, "data": ["a"]},
        {"type": 2, "nsp": "/", "data": {}},
        {"type": 2, "nsp": "/", "data": []},
        {"type": 2, "nsp": "/", "data": ["disconnect"]},
        {"type": 2, "nsp": "/", "data": ["a"], "id": "1"},
        {"type": 3, "nsp": "/", "data": None},
        {"type": 0, "nsp": "/", "data": [1]},
        {"type": 1, "nsp": "/", "data": {}},
        {"type": 4, "nsp": "/", "data": 3},
        {"type": 2, "nsp": "/", "data": ["a", msgpack.ExtType(5, b"x")]},
    ],
)
def test_invalid_packets_are_refused(obj: Any) -> None:
    with pytest.raises(DecodeError):
        decode_msgpack(pack(obj))


@pytest.mark.parametrize("raw", [b"", b"\xc1", b"\x92\x01", pack({"type": 2}) + b"\x00", b"\xa2\xff\xfe"])
def test_garbage_is_refused(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_msgpack(raw)


def test_text_frames_and_oversize_frames_are_refused() -> None:
    decoder = MSGPACK_PARSER.decoder(max_size=10)
    assert not decoder.pending
    with pytest.raises(DecodeError, match="binary messages only"):
        decoder.feed('2["a"]')
    with pytest.raises(PayloadTooLarge, match="exceeds max_size 10"):
        decoder.feed(pack({"type": 2, "nsp": "/", "data": ["a" * 20]}))


def test_unencodable_payloads_raise_type_error() -> None:
    with pytest.raises(TypeError, match="as msgpack"):
        MSGPACK_PARSER.encode(Packet(type=T.EVENT, data=["a", 2**64]))
    with pytest.raises(TypeError, match="as msgpack"):
        MSGPACK_PARSER.encode(Packet(type=T.EVENT, data=["a", object()]))


@pytest.mark.parametrize(
    "obj", [{"type": 2, "nsp": "/", "data": ["a", 1], "id": 7}, {"type": 3, "nsp": "/x", "data": []}]
)
def test_fast_path_packets_are_real_frozen_packets(obj: Any) -> None:
    # The hot path builds packets through a mutable twin re-labelled as Packet; it must be indistinguishable.
    packet = decode_msgpack(pack(obj))
    expected = Packet(type=T(obj["type"]), nsp=obj["nsp"], data=obj["data"], id=obj.get("id"))
    assert type(packet) is Packet
    assert packet == expected
    with pytest.raises(dataclasses.FrozenInstanceError):
        packet.nsp = "/other"  # type: ignore[misc]


@pytest.mark.parametrize("top", [None, True, 2, 1.5, "abc", b"\x01", [], msgpack.ExtType(0, b"\x00")])
def test_top_level_values_other_than_a_map_are_refused(top: Any) -> None:
    with pytest.raises(DecodeError, match="must be a map"):
        decode_msgpack(pack(top))


def test_integer_map_keys_inside_data_are_kept() -> None:
    assert decode_msgpack(pack({"type": 2, "nsp": "/", "data": ["a", {1: "x"}]})).data == ["a", {1: "x"}]


def test_encoding_after_a_failed_or_a_large_encode_is_unaffected() -> None:
    # Encoders reuse pooled msgpack Packers: a failure mid-pack or a grown buffer must not leak into the next.
    small = Packet(type=T.EVENT, data=["a", {"k": [1, 2]}], id=1)
    expected = pack({"type": 2, "nsp": "/", "data": ["a", {"k": [1, 2]}], "id": 1})
    with pytest.raises(TypeError):
        MSGPACK_PARSER.encode(Packet(type=T.EVENT, data=["a", {"k": [1, object()]}]))
    assert MSGPACK_PARSER.encode(small) == expected
    big = ["b", b"\x07" * 600_000]
    assert msgpack.unpackb(MSGPACK_PARSER.encode(Packet(type=T.EVENT, data=big)))["data"] == big
    assert MSGPACK_PARSER.encode(small) == expected
    assert encode_event("/", "a", [{"k": [1, 2]}], 1, MSGPACK_PARSER) == expected
