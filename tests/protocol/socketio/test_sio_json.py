"""The JSON format against the examples of the Socket.IO protocol document (v5 and v4) and PROTOCOL-NOTES."""

from __future__ import annotations

from typing import Any

import pytest

from sioactor.protocol import DecodeError, PayloadTooLarge
from sioactor.protocol.socketio import (
    JSON_PARSER,
    Encoded,
    Packet,
    PacketType,
    decode_text,
    encode_event,
    parser_by_name,
)

T = PacketType
PH0 = {"_placeholder": True, "num": 0}

# (wire frames, packet); the text frame first, then attachments. Every row encodes to its frames exactly.
VECTORS: list[tuple[tuple[str | bytes, ...], Packet]] = [
    # v5 document: connection
    (("0",), Packet(type=T.CONNECT)),
    (('0{"sid":"wZX3oN0bSVIhsaknAAAI"}',), Packet(type=T.CONNECT, data={"sid": "wZX3oN0bSVIhsaknAAAI"})),
    (("0/admin,",), Packet(type=T.CONNECT, nsp="/admin")),
    (
        ('0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}',),
        Packet(type=T.CONNECT, nsp="/admin", data={"sid": "oSO0OpakMV_3jnilAAAA"}),
    ),
    (('4{"message":"Not authorized"}',), Packet(type=T.CONNECT_ERROR, data={"message": "Not authorized"})),
    # v5 document: data
    (('2["foo"]',), Packet(type=T.EVENT, data=["foo"])),
    (('2/admin,["bar"]',), Packet(type=T.EVENT, nsp="/admin", data=["bar"])),
    (
        ('51-["baz",{"_placeholder":true,"num":0}]', b"\x01\x02\x03\x04"),
        Packet(type=T.EVENT, data=["baz", b"\x01\x02\x03\x04"]),
    ),
    (
        (
            '52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
            b"\x01\x02",
            b"\x03\x04",
        ),
        Packet(type=T.EVENT, nsp="/admin", data=["baz", b"\x01\x02", b"\x03\x04"]),
    ),
    # v5 document: acknowledgement
    (('212["foo"]',), Packet(type=T.EVENT, data=["foo"], id=12)),
    (("312[]",), Packet(type=T.ACK, data=[], id=12)),
    (('2/admin,13["foo"]',), Packet(type=T.EVENT, nsp="/admin", data=["foo"], id=13)),
    (('3/admin,13["bar"]',), Packet(type=T.ACK, nsp="/admin", data=["bar"], id=13)),
    (
        ('51-14["foo",{"_placeholder":true,"num":0}]', b"\x01\x02\x03\x04"),
        Packet(type=T.EVENT, data=["foo", b"\x01\x02\x03\x04"], id=14),
    ),
    (('314["bar"]',), Packet(type=T.ACK, data=["bar"], id=14)),
    (
        ('61-15["bar",{"_placeholder":true,"num":0}]', b"\x01\x02\x03\x04"),
        Packet(type=T.ACK, data=["bar", b"\x01\x02\x03\x04"], id=15),
    ),
    # v5 document: disconnection
    (("1",), Packet(type=T.DISCONNECT)),
    (("1/admin,",), Packet(type=T.DISCONNECT, nsp="/admin")),
    # v4 document: CONNECT with a query, CONNECT_ERROR with a plain value, binary ack in a namespace
    (("0/admin?token=1234&uid=abcd,",), Packet(type=T.CONNECT, nsp="/admin", query="token=1234&uid=abcd")),
    (('4"Not authorized"',), Packet(type=T.CONNECT_ERROR, data="Not authorized")),
    (
        ('2/admin,456["project:delete",123]',),
        Packet(type=T.EVENT, nsp="/admin", data=["project:delete", 123], id=456),
    ),
    (
        ('61-/admin,456[{"_placeholder":true,"num":0}]', b"\xff"),
        Packet(type=T.ACK, nsp="/admin", data=[b"\xff"], id=456),
    ),
    # PROTOCOL-NOTES (the official suite's frames, without Engine.IO's "4")
    (('2["message",1,"2",{"3":[true]}]',), Packet(type=T.EVENT, data=["message", 1, "2", {"3": [True]}])),
    (('0/custom,{"sid":"abc"}',), Packet(type=T.CONNECT, nsp="/custom", data={"sid": "abc"})),
    (
        ('2/custom,["auth",{"token":"abc"}]',),
        Packet(type=T.EVENT, nsp="/custom", data=["auth", {"token": "abc"}]),
    ),
    (
        ('4/random,{"message":"Invalid namespace"}',),
        Packet(type=T.CONNECT_ERROR, nsp="/random", data={"message": "Invalid namespace"}),
    ),
    (
        ('2456["message-with-ack",1,"2",{"3":[false]}]',),
        Packet(type=T.EVENT, data=["message-with-ack", 1, "2", {"3": [False]}], id=456),
    ),
    (('3456[1,"2",{"3":[false]}]',), Packet(type=T.ACK, data=[1, "2", {"3": [False]}], id=456)),
    (
        (
            '52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
            b"\x01\x02\x03",
            b"\x04\x05\x06",
        ),
        Packet(type=T.EVENT, data=["message", b"\x01\x02\x03", b"\x04\x05\x06"]),
    ),
    (
        ('62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', b"\x01", b"\x02"),
        Packet(type=T.ACK, data=[b"\x01", b"\x02"], id=789),
    ),
    # unicode passes through unescaped, as JSON.stringify writes it
    (('2["é",{"k":"😀"}]',), Packet(type=T.EVENT, data=["é", {"k": "😀"}])),
]


def frames_of(encoded: Encoded) -> tuple[str | bytes, ...]:
    return encoded if isinstance(encoded, tuple) else (encoded,)


def feed_all(frames: tuple[str | bytes, ...]) -> Packet:
    decoder = JSON_PARSER.decoder()
    results = [decoder.feed(frame) for frame in frames]
    # Every frame but the last leaves the packet pending.
    assert results[:-1] == [None] * (len(frames) - 1)
    assert not decoder.pending
    packet = results[-1]
    assert packet is not None
    return packet


@pytest.mark.parametrize(("frames", "packet"), VECTORS)
def test_encode_matches_the_document(frames: tuple[str | bytes, ...], packet: Packet) -> None:
    assert frames_of(JSON_PARSER.encode(packet)) == frames


@pytest.mark.parametrize(("frames", "packet"), VECTORS)
def test_decode_matches_the_document(frames: tuple[str | bytes, ...], packet: Packet) -> None:
    assert feed_all(frames) == packet


@pytest.mark.parametrize(("frames", "packet"), VECTORS)
def test_one_decoder_reads_the_whole_table_in_sequence(
    frames: tuple[str | bytes, ...], packet: Packet
) -> None:
    decoder = JSON_PARSER.decoder()
    for _ in range(2):  # the decoder resets after each packet, binary or not
        out = [decoder.feed(frame) for frame in frames]
        assert out[-1] == packet


def test_binary_wire_types_encode_like_their_plain_types() -> None:
    data = ["ev", b"\x00"]
    assert JSON_PARSER.encode(Packet(type=T.BINARY_EVENT, data=data)) == JSON_PARSER.encode(
        Packet(type=T.EVENT, data=data)
    )
    assert JSON_PARSER.encode(Packet(type=T.BINARY_ACK, data=["x"], id=1)) == '31["x"]'


def test_binary_parts_anywhere_and_of_every_kind_become_attachments_in_order() -> None:
    data = ["ev", {"a": bytearray(b"1"), "b": [memoryview(b"2"), (b"3",)]}, b"4"]
    text, *parts = frames_of(JSON_PARSER.encode(Packet(type=T.EVENT, data=data)))
    assert text == (
        '54-["ev",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1},'
        '[{"_placeholder":true,"num":2}]]},{"_placeholder":true,"num":3}]'
    )
    assert parts == [b"1", b"2", b"3", b"4"]
    assert all(type(part) is bytes for part in parts)
    decoded = feed_all((text, *parts))
    assert decoded.data == ["ev", {"a": b"1", "b": [b"2", [b"3"]]}, b"4"]


@pytest.mark.parametrize(
    ("args", "ack_id", "nsp", "expected"),
    [
        ((), None, "/", '2["ev"]'),
        ((1, "2", {"3": [True]}), None, "/", '2["ev",1,"2",{"3":[true]}]'),
        ([None, 1.5], 7, "/", '27["ev",null,1.5]'),
        (("x",), None, "/chat", '2/chat,["ev","x"]'),
        (("x",), 3, "/chat", '2/chat,3["ev","x"]'),
        ((b"\x01",), 3, "/chat", ('51-/chat,3["ev",{"_placeholder":true,"num":0}]', b"\x01")),
    ],
)
def test_encode_event_is_encode_of_the_same_packet(
    args: Any, ack_id: int | None, nsp: str, expected: Encoded
) -> None:
    assert encode_event(nsp, "ev", args, ack_id, JSON_PARSER) == expected
    assert JSON_PARSER.encode(Packet(type=T.EVENT, nsp=nsp, data=["ev", *args], id=ack_id)) == expected


def test_non_string_keys_are_written_as_javascript_would() -> None:
    assert (
        JSON_PARSER.encode(Packet(type=T.EVENT, data=["ev", {1: "a", None: "b"}]))
        == '2["ev",{"1":"a","null":"b"}]'
    )


@pytest.mark.parametrize("value", [2**64, object(), {1, 2}])
def test_unencodable_payloads_raise_type_error_naming_the_problem(value: Any) -> None:
    with pytest.raises(TypeError, match=r"cannot encode Socket\.IO payload as JSON"):
        JSON_PARSER.encode(Packet(type=T.EVENT, data=["ev", value]))


def test_binary_outside_event_or_ack_is_refused() -> None:
    with pytest.raises(TypeError, match="only travel in EVENT or ACK"):
        JSON_PARSER.encode(Packet(type=T.CONNECT, data={"key": b"x"}))


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ('2["big",100000000000000000000]', ["big", 1e20]),  # beyond 64 bits: a double, as in JavaScript
        ('2["lone","\\ud800"]', ["lone", "\ud800"]),  # orjson refuses lone surrogates; JavaScript sends them
    ],
)
def test_what_javascript_sends_and_orjson_refuses_still_decodes(text: str, data: list[Any]) -> None:
    assert decode_text(text).data == data


MALFORMED = [
    "",
    "9",
    "abc",
    "2{}",  # EVENT payload not an array
    "2[]",  # EVENT without a name
    "2[1]",  # event name not a string
    '2["connect"]',  # reserved event name
    "2abc[1]",  # invalid ack id
    '2["a"]x',  # trailing garbage
    '2["a"',  # truncated JSON
    "2",  # EVENT without payload
    "3",  # ACK without payload
    "3{}",  # ACK payload not an array
    "1[]",  # DISCONNECT with payload
    "0[]",  # CONNECT payload not an object
    "4[]",  # CONNECT_ERROR payload neither string nor object
    '2["a",NaN]',
    "5-[]",  # binary without attachment count
    "5x-[]",
    '51["a"]',  # binary without "-"
    "2" + "1" * 40 + '["a"]',  # absurd ack id
    '50-["a",{"_placeholder":true,"num":0}]',  # placeholder without attachment
    '51-["a",{"_placeholder":true,"num":"0"}]',
]


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_text_raises_decode_error(text: str) -> None:
    with pytest.raises(DecodeError):
        feed_with_one_attachment(text)


def feed_with_one_attachment(text: str) -> Packet | None:
    """Feed *text*, then one attachment if it was a binary header (which may pass alone)."""
    decoder = JSON_PARSER.decoder()
    packet = decoder.feed(text)
    return decoder.feed(b"x") if decoder.pending else packet


def test_placeholder_num_beyond_the_attachments_is_refused() -> None:
    decoder = JSON_PARSER.decoder()
    assert decoder.feed('51-["a",{"_placeholder":true,"num":1}]') is None
    with pytest.raises(DecodeError, match="num 1"):
        decoder.feed(b"x")


def test_binary_frame_without_pending_packet_is_refused() -> None:
    with pytest.raises(DecodeError, match="no binary packet awaits"):
        JSON_PARSER.decoder().feed(b"\x01")


def test_text_frame_while_attachments_are_awaited_is_refused() -> None:
    decoder = JSON_PARSER.decoder()
    decoder.feed('52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
    decoder.feed(b"1")
    assert decoder.pending
    with pytest.raises(DecodeError, match="text message received"):
        decoder.feed('2["a"]')


def test_too_many_attachments_raise_payload_too_large_before_any_arrives() -> None:
    decoder = JSON_PARSER.decoder(max_attachments=2)
    with pytest.raises(PayloadTooLarge, match="3 attachments; max_attachments is 2") as info:
        decoder.feed('53-["a"]')
    assert (info.value.size, info.value.limit) == (3, 2)


def test_total_size_counts_text_and_attachments() -> None:
    with pytest.raises(PayloadTooLarge):
        JSON_PARSER.decoder(max_size=10).feed('2["a","long enough to exceed"]')
    decoder = JSON_PARSER.decoder(max_size=80)
    text = '52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
    decoder.feed(text)
    decoder.feed(b"x" * (80 - len(text)))
    with pytest.raises(PayloadTooLarge, match="exceeds max_size 80"):
        decoder.feed(b"y")


def test_placeholders_in_a_plain_event_stay_data() -> None:
    assert decode_text('2["a",{"_placeholder":true,"num":0}]').data == ["a", PH0]


def test_decode_text_refuses_a_binary_header() -> None:
    with pytest.raises(DecodeError, match="binary packet"):
        decode_text('51-["a",{"_placeholder":true,"num":0}]')


def test_parser_by_name() -> None:
    assert parser_by_name("json") is JSON_PARSER
    assert parser_by_name("json").name == "json"
    with pytest.raises(ValueError, match=r"unknown Socket\.IO parser 'xml'"):
        parser_by_name("xml")


def test_decoded_namespace_runs_to_the_end_without_a_comma() -> None:
    # The official suite sends "41/custom" and "40/random" without the trailing comma.
    assert decode_text("1/custom") == Packet(type=T.DISCONNECT, nsp="/custom")
    assert decode_text("0/random") == Packet(type=T.CONNECT, nsp="/random")


@pytest.mark.parametrize(
    ("nsp", "ack_id", "args"),
    [
        ("/", 0, ()),
        ("/", 12, ("a", {"b": 1})),
        ("/chat", 7, (1, 2)),
        ("/", 3, ("x", b"\x01\x02")),  # a binary ack
        ("/chat", 99, (b"\x00",)),
    ],
)
def test_encode_ack_is_encode_of_the_same_packet(nsp: str, ack_id: int, args: tuple[Any, ...]) -> None:
    expected = JSON_PARSER.encode(Packet(type=T.ACK, nsp=nsp, data=list(args), id=ack_id))
    assert JSON_PARSER.encode_ack(nsp, ack_id, args) == expected


@pytest.mark.parametrize(
    "text", ['21["echo",1]', '2007["a"]', '2123456789["a",{"b":[1]}]', '2/chat,5["a"]', '2["a"]']
)
def test_the_event_fast_paths_read_as_the_general_path(text: str) -> None:
    # The general path parses the same text once the fast path's shape test fails (a namespace before it).
    packet = decode_text(text)
    assert packet.type is T.EVENT
    rebuilt = JSON_PARSER.encode(packet)
    assert decode_text(str(rebuilt)) == packet
    if not text.startswith("2/"):
        digits = text[1 : text.index("[")]
        assert packet.id == (int(digits) if digits else None)
        assert packet.nsp == "/"


@pytest.mark.parametrize("text", ['2²["a"]', '2\u0661["a"]', '212345678901234567890["a"]'])
def test_ack_ids_are_ascii_digits_of_bounded_length(text: str) -> None:
    with pytest.raises(DecodeError):
        decode_text(text)
