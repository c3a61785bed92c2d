"""Properties of both wire formats: every packet round-trips, and garbage raises only ProtocolError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sio_strategies import packets

from sioactor.protocol import DecodeError, ProtocolError
from sioactor.protocol.socketio import JSON_PARSER, MSGPACK_PARSER, Encoded, Packet

FAST = settings(max_examples=200, deadline=None)


def frames(encoded: Encoded) -> tuple[str | bytes, ...]:
    return encoded if isinstance(encoded, tuple) else (encoded,)


@FAST
@given(packets())
def test_json_round_trip_whole_and_in_pieces(packet: Packet) -> None:
    decoder = JSON_PARSER.decoder(max_attachments=100)
    *head, last = frames(JSON_PARSER.encode(packet))
    assert [decoder.feed(frame) for frame in head] == [None] * len(head)
    assert decoder.feed(last) == packet
    assert not decoder.pending


@FAST
@given(packets(v4_query=False))
def test_msgpack_round_trip(packet: Packet) -> None:
    assert MSGPACK_PARSER.decoder().feed(MSGPACK_PARSER.encode(packet)) == packet


@FAST
@given(st.lists(st.text(max_size=30) | st.binary(max_size=30), min_size=1, max_size=3))
def test_json_decoding_garbage_raises_only_protocol_error(messages: list[str | bytes]) -> None:
    decoder = JSON_PARSER.decoder()
    for message in messages:
        try:
            decoder.feed(message)
        except ProtocolError:
            return


@FAST
@given(st.text(alphabet='0123456789-/,?[]{}":_abcnumtrue', max_size=40))
def test_json_decoding_near_misses_raises_only_protocol_error(text: str) -> None:
    with contextlib.suppress(ProtocolError):
        JSON_PARSER.decoder().feed(text)


@FAST
@given(st.binary(max_size=60) | packets().map(lambda p: MSGPACK_PARSER.encode(p)[:-1]))  # type: ignore[index]
def test_msgpack_decoding_garbage_raises_only_protocol_error(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        MSGPACK_PARSER.decoder().feed(raw)


def test_deep_nesting_is_a_decode_error_not_a_crash() -> None:
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(DecodeError, match="JSON"):
        JSON_PARSER.decoder().feed(f'2["a",{deep}]')
    decoder = JSON_PARSER.decoder()
    binary = '51-["a",' + "[" * 900 + '{"_placeholder":true,"num":0}' + "]" * 900 + "]"
    assert decoder.feed(binary) is None
    packet = decoder.feed(b"x")  # 900 levels: within the recursion limit, the attachment found in place
    assert packet is not None
    inner = packet.data[1]
    for _ in range(899):
        inner = inner[0]
    assert inner == [b"x"]
    deeper = '51-["a",' + "[" * 1010 + '{"_placeholder":true,"num":0}' + "]" * 1010 + "]"
    assert decoder.feed(deeper) is None  # orjson takes 1,024 levels; the walk does not get that far
    with pytest.raises(DecodeError, match="nested too deeply"):
        decoder.feed(b"x")
