"""Cross-check against the real npm parsers (socket.io-parser, socket.io-msgpack-parser) run in node.

One node process per module answers every question: it encodes our packet table (we must produce the same
frames) and decodes what our encoders produce (it must read back the same packets).
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from node_oracle import ask_node
from sio_strategies import packets
from test_sio_json import MALFORMED, VECTORS

from sioactor.protocol import ProtocolError
from sioactor.protocol.socketio import JSON_PARSER, MSGPACK_PARSER, Encoded, Packet, PacketType

ROOT = Path(__file__).resolve().parents[3]
ORACLE = ROOT / "tests" / "node" / "socketio_oracle.js"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "socket.io-parser").is_dir(),
    reason="node and node_modules are needed for the oracle",
)

RANDOM = st.lists(packets(v4_query=False), min_size=40, max_size=40)


def to_js(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, list | tuple):
        return [to_js(item) for item in value]
    if isinstance(value, dict):
        return {key: to_js(item) for key, item in value.items()}
    return value


def from_js(value: Any) -> Any:
    if isinstance(value, list):
        return [from_js(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"$b64"}:
            return base64.b64decode(value["$b64"])
        return {key: from_js(item) for key, item in value.items()}
    return value


def packet_to_js(packet: Packet) -> dict[str, Any]:
    nsp = packet.nsp if packet.query is None else f"{packet.nsp}?{packet.query}"
    obj: dict[str, Any] = {"type": int(packet.type), "nsp": nsp}
    if packet.data is not None:
        obj["data"] = to_js(packet.data)
    if packet.id is not None:
        obj["id"] = packet.id
    return obj


def packet_from_js(obj: dict[str, Any]) -> Packet:
    assert "error" not in obj, obj
    ptype = PacketType(obj["type"])
    if ptype >= PacketType.BINARY_EVENT:
        ptype = PacketType(ptype - 3)
    nsp, mark, query = obj["nsp"].partition("?")
    return Packet(
        type=ptype, nsp=nsp, data=from_js(obj.get("data")), id=obj.get("id"), query=query if mark else None
    )


def frames(encoded: Encoded) -> list[str | bytes]:
    return list(encoded) if isinstance(encoded, tuple) else [encoded]


@pytest.fixture(scope="module")
def table() -> list[Packet]:
    packets_ = [packet for _, packet in VECTORS]
    packets_ += [
        Packet(type=PacketType.EVENT, data=["ev", {"nested": [b"\x00", {"deep": b"\xff\xfe"}]}, b""], id=7),
        Packet(type=PacketType.ACK, nsp="/x", data=[{"a": None, "b": 1.25, "c": -3}], id=0),
        Packet(type=PacketType.EVENT, data=["unicode", "é😀\u2028", {"": "empty key"}]),
    ]
    return packets_


@pytest.fixture(scope="module")
def node(table: list[Packet]) -> dict[str, Any]:
    return ask_node(
        ORACLE.name,
        {
            "json_encode": [packet_to_js(p) for p in table],
            "json_decode": [to_js(frames(JSON_PARSER.encode(p))) for p in table]
            + [[text] for text in MALFORMED],
            "msgpack_encode": [packet_to_js(p) for p in table]
            + [
                {"type": 0, "nsp": "/", "data": {"$undefined": True}},
                {"type": 2, "nsp": "/", "data": ["ev", 1], "options": {"compress": True}},
            ],
            "msgpack_decode": [base64.b64encode(MSGPACK_PARSER.encode(p)).decode() for p in table],  # type: ignore[arg-type]
        },
    )


def test_json_encoding_is_byte_identical_to_socket_io_parser(
    table: list[Packet], node: dict[str, Any]
) -> None:
    for packet, theirs in zip(table, node["json_encode"], strict=True):
        assert frames(JSON_PARSER.encode(packet)) == from_js(theirs), packet


def test_socket_io_parser_decodes_our_json(table: list[Packet], node: dict[str, Any]) -> None:
    for packet, theirs in zip(table, node["json_decode"], strict=False):
        assert packet_from_js(theirs) == packet


def test_what_socket_io_parser_refuses_we_refuse(node: dict[str, Any]) -> None:
    refused = [
        text
        for text, theirs in zip(MALFORMED, node["json_decode"][-len(MALFORMED) :], strict=True)
        if "error" in theirs and theirs["error"] != "decoded 0 packets"  # 0: awaiting attachments
    ]
    assert len(refused) >= 15  # the oracle must actually have refused most of the table
    for text in refused:
        decoder = JSON_PARSER.decoder()
        with pytest.raises(ProtocolError):
            decoder.feed(text)


def test_we_decode_notepack_encodings(table: list[Packet], node: dict[str, Any]) -> None:
    encoded = [base64.b64decode(b64) for b64 in node["msgpack_encode"]]
    for packet, raw in zip(table, encoded, strict=False):
        assert MSGPACK_PARSER.decoder().feed(raw) == packet
    undefined_connect, event_with_options = encoded[len(table) :]
    assert MSGPACK_PARSER.decoder().feed(undefined_connect) == Packet(type=PacketType.CONNECT)
    assert MSGPACK_PARSER.decoder().feed(event_with_options) == Packet(type=PacketType.EVENT, data=["ev", 1])


def test_socket_io_msgpack_parser_decodes_ours(table: list[Packet], node: dict[str, Any]) -> None:
    for packet, theirs in zip(table, node["msgpack_decode"], strict=True):
        assert packet_from_js(theirs) == packet


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(RANDOM)
def test_random_packets_agree_with_node_both_ways(batch: list[Packet]) -> None:
    answer = ask_node(
        ORACLE.name,
        {
            "json_encode": [packet_to_js(p) for p in batch],
            "json_decode": [to_js(frames(JSON_PARSER.encode(p))) for p in batch],
            "msgpack_decode": [base64.b64encode(MSGPACK_PARSER.encode(p)).decode() for p in batch],  # type: ignore[arg-type]
        },
    )
    for packet, encoded, decoded, msgpacked in zip(
        batch, answer["json_encode"], answer["json_decode"], answer["msgpack_decode"], strict=True
    ):
        # Values, not spellings: floats may be spelled differently (JavaScript writes 2.0 as 2).
        decoder = JSON_PARSER.decoder(max_attachments=100)
        assert [decoder.feed(frame) for frame in from_js(encoded)][-1] == packet
        assert packet_from_js(decoded) == packet
        assert packet_from_js(msgpacked) == packet
