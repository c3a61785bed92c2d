"""Hypothesis properties: encoding round-trips, and the peer's garbage raises only ProtocolError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sioactor.protocol import ProtocolError
from sioactor.protocol.engineio import (
    EngineProtocol,
    OutboxEntry,
    Packet,
    PacketType,
    Uncompressed,
    decode_packet,
    decode_payload,
    encode_outbox_payload,
    encode_packet,
    encode_payload,
    encode_ws_frames,
    js_length,
)

protocols = st.sampled_from([3, 4])
# v4 payloads assume the record separator never occurs in text (as the protocol document says).
v4_text = st.text().filter(lambda s: "\x1e" not in s)
binary_messages = st.binary(max_size=64).map(lambda b: Packet(PacketType.MESSAGE, b))


ANY_TEXT = st.text()


def packets(text: st.SearchStrategy[str] = ANY_TEXT) -> st.SearchStrategy[Packet]:
    return st.builds(Packet, st.sampled_from(PacketType), text) | binary_messages


def entries(text: st.SearchStrategy[str]) -> st.SearchStrategy[OutboxEntry]:
    item = text | st.binary(max_size=32)
    return item | st.tuples(item, item) | st.tuples(item) | packets(text)


def flatten(entry: OutboxEntry) -> list[Packet]:
    if isinstance(entry, Packet):
        return [entry]
    items = entry if isinstance(entry, tuple) else (entry,)
    return [Packet(PacketType.MESSAGE, item) for item in items]


@given(packets(), protocols)
def test_packet_round_trip(packet: Packet, protocol: EngineProtocol) -> None:
    assert decode_packet(encode_packet(packet, protocol=protocol), protocol=protocol) == packet


@given(st.lists(packets(v4_text), min_size=1))
def test_v4_payload_round_trip(payload: list[Packet]) -> None:
    assert decode_payload(encode_payload(payload), max_payload=10**9) == payload


@given(st.lists(packets()), st.booleans())
def test_v3_payload_round_trip(payload: list[Packet], b64: bool) -> None:
    body = encode_payload(payload, protocol=3, b64=b64)
    assert decode_payload(body, protocol=3, max_payload=10**9) == payload
    if isinstance(body, str):
        assert decode_payload(body.encode("utf-8"), protocol=3, max_payload=10**9) == payload


@given(st.lists(entries(v4_text), min_size=1), protocols, st.booleans())
def test_outbox_payload_equals_packet_payload(
    entries: list[OutboxEntry], protocol: EngineProtocol, b64: bool
) -> None:
    flat = [packet for entry in entries for packet in flatten(entry)]
    body = encode_outbox_payload(entries, protocol=protocol, b64=b64)
    assert body == encode_payload(flat, protocol=protocol, b64=b64)
    assert decode_payload(body, protocol=protocol, max_payload=10**9) == flat


@given(entries(st.text()), protocols)
def test_ws_frames_decode_to_the_entry(entry: OutboxEntry, protocol: EngineProtocol) -> None:
    frames = encode_ws_frames(entry, protocol=protocol)
    assert [decode_packet(frame, protocol=protocol) for frame in frames] == flatten(entry)


def messages(text: st.SearchStrategy[str]) -> st.SearchStrategy[str | bytes | tuple[str | bytes, ...]]:
    item = text | st.binary(max_size=32)
    return item | st.tuples(item, item) | st.tuples(item)


@given(st.lists(st.tuples(messages(v4_text), st.booleans()), min_size=1), protocols, st.booleans())
def test_uncompressed_entries_frame_as_the_messages_they_wrap(
    marked: list[tuple[str | bytes | tuple[str | bytes, ...], bool]], protocol: EngineProtocol, b64: bool
) -> None:
    # compress(False) changes whether a transport compresses, never the bytes it frames (polling, the
    # ASGI WebSocket path, v3 and v4).
    plain: list[OutboxEntry] = [message for message, _ in marked]
    wrapped: list[OutboxEntry] = [Uncompressed(message) if wrap else message for message, wrap in marked]
    body = encode_outbox_payload(plain, protocol=protocol, b64=b64)
    assert encode_outbox_payload(wrapped, protocol=protocol, b64=b64) == body
    for message, entry in zip(plain, wrapped, strict=True):
        assert encode_ws_frames(entry, protocol=protocol) == encode_ws_frames(message, protocol=protocol)


@given(st.text())
def test_js_length_is_the_utf16_unit_count(text: str) -> None:
    assert js_length(text) == len(text.encode("utf-16-le")) // 2


# Any text (lone surrogates included), any bytes, and text over the characters that payloads are made of.
garbage = (
    st.text(st.characters(exclude_categories=()))
    | st.binary()
    | st.text("0123456789:b4\x1e\x00\x01\xff😀€AQ=")
)


@given(garbage, protocols)
def test_decoding_garbage_raises_only_protocol_errors(data: str | bytes, protocol: EngineProtocol) -> None:
    for decode in (decode_packet, decode_payload):
        with contextlib.suppress(ProtocolError):
            decode(data, protocol=protocol)


@given(st.lists(packets(), min_size=1), protocols, st.booleans(), st.data())
def test_damaged_payloads_raise_only_protocol_errors(
    payload: list[Packet], protocol: EngineProtocol, b64: bool, data: st.DataObject
) -> None:
    body = encode_payload(payload, protocol=protocol, b64=b64)
    cut = data.draw(st.integers(0, len(body)))
    insert = data.draw(st.binary(max_size=3)) if isinstance(body, bytes) else data.draw(st.text(max_size=3))
    damaged = body[:cut] + insert + body[cut + data.draw(st.integers(0, 3)) :]  # type: ignore[operator]
    with contextlib.suppress(ProtocolError):
        decode_payload(damaged, protocol=protocol, max_payload=10**9)


@pytest.mark.parametrize("protocol", [3, 4])
def test_garbage_property_can_fail(protocol: EngineProtocol) -> None:
    # The garbage properties pass vacuously unless decoding garbage actually raises; check that it does.
    with pytest.raises(ProtocolError):
        decode_payload("\x00garbage", protocol=protocol)
