"""Cross-check the codecs against the reference parsers in both directions: npm engine.io-parser 5 for v4, and
the engine.io-parser 2 inside socket.io-client 2 for v3 (text, b64 and XHR2 binary payloads).

``tests/node/engineio_oracle.js`` is run once per module with every case of this file in one JSON request.
"""

from __future__ import annotations

import base64
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from node_oracle import ask_node

from sioactor.protocol import DecodeError
from sioactor.protocol.engineio import (
    Packet,
    PacketType,
    decode_packet,
    decode_payload,
    encode_packet,
    encode_payload,
)

ROOT = Path(__file__).resolve().parents[3]
ORACLE = ROOT / "tests" / "node" / "engineio_oracle.js"
P = PacketType

FIXED_PACKETS = [
    Packet(P.MESSAGE, "hello"),
    Packet(P.MESSAGE, ""),
    Packet(P.MESSAGE, b"\x01\x02\x03\x04"),
    Packet(P.MESSAGE, b""),
    Packet(P.MESSAGE, "€ and 😀 and \x00"),
    Packet(P.PING, "probe"),
    Packet(P.PONG, "probe"),
    Packet(P.OPEN, '{"sid":"x"}'),
    Packet(P.CLOSE),
    Packet(P.UPGRADE),
    Packet(P.NOOP),
]
GARBAGE_FRAMES = ["", "abc", "7", "9x", "-", " 4"]
GARBAGE_BODIES = ["", "abc", "4a\x1e\x1e4b", "4a\x1e", "4a\x1ex"]
GARBAGE_BODIES_V3 = ["", "abc", "6:4hello!", "7:4hello", "2:4hello", ":4", "1:x"]


def random_packets(rng: random.Random, count: int) -> list[Packet]:
    alphabet = 'ab\x00\n:é€😀\u2028"\\{}'
    packets = []
    for _ in range(count):
        if rng.random() < 0.3:
            packets.append(Packet(P.MESSAGE, rng.randbytes(rng.randrange(0, 40))))
        else:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 20)))
            packets.append(Packet(rng.choice(list(P)), text))
    return packets


RANDOM_PACKETS = random_packets(random.Random(20240611), 200)
PAYLOADS = [FIXED_PACKETS, *(RANDOM_PACKETS[i : i + 7] for i in range(0, 200, 7))]
ALL_PACKETS = FIXED_PACKETS + RANDOM_PACKETS
PAYLOADS_V3 = [[], *PAYLOADS]


def to_json(packet: Packet) -> dict[str, str]:
    name = packet.type.name.lower()
    if isinstance(packet.data, bytes):
        return {"type": name, "binary": base64.b64encode(packet.data).decode()}
    return {"type": name, "data": packet.data}


def from_json(packet: dict[str, str]) -> Packet | None:
    if packet["type"] == "error":
        return None
    kind = P[packet["type"].upper()]
    if "binary" in packet:
        return Packet(kind, base64.b64decode(packet["binary"]))
    return Packet(kind, packet["data"])


def frame_json(frame: str | bytes) -> dict[str, str]:
    if isinstance(frame, str):
        return {"text": frame}
    return {"binary": base64.b64encode(frame).decode()}


def v3_body(payload: list[Packet], b64: bool) -> str | dict[str, str]:
    body = encode_payload(payload, protocol=3, b64=b64)
    return body if isinstance(body, str) else frame_json(body)


def from_frame(frame: dict[str, str]) -> str | bytes:
    return frame["text"] if "text" in frame else base64.b64decode(frame["binary"])


@pytest.fixture(scope="module")
def oracle() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    request = {
        "packets": [to_json(p) for p in ALL_PACKETS],
        "payloads": [[to_json(p) for p in payload] for payload in PAYLOADS],
        "frames": [frame_json(encode_packet(p)) for p in ALL_PACKETS] + [{"text": g} for g in GARBAGE_FRAMES],
        "bodies": [encode_payload(payload) for payload in PAYLOADS] + GARBAGE_BODIES,
        "v3": {
            "packets": [to_json(p) for p in ALL_PACKETS],
            "payloads": [[to_json(p) for p in payload] for payload in PAYLOADS_V3],
            "xhr2": [[to_json(p) for p in payload] for payload in PAYLOADS_V3],
            "frames": [frame_json(encode_packet(p, protocol=3)) for p in ALL_PACKETS],
            "bodies": [v3_body(payload, b64) for b64 in (True, False) for payload in PAYLOADS_V3]
            + GARBAGE_BODIES_V3,
        },
    }
    return ask_node(ORACLE.name, request)


def test_frames_equal_the_reference_encoding(oracle: dict[str, Any]) -> None:
    assert oracle["packets"] == [frame_json(encode_packet(p)) for p in ALL_PACKETS]


def test_payloads_equal_the_reference_encoding(oracle: dict[str, Any]) -> None:
    assert oracle["payloads"] == [encode_payload(payload) for payload in PAYLOADS]


def test_reference_decodes_our_frames(oracle: dict[str, Any]) -> None:
    decoded = [from_json(p) for p in oracle["frames"][: len(ALL_PACKETS)]]
    assert decoded == ALL_PACKETS


def test_reference_decodes_our_payloads(oracle: dict[str, Any]) -> None:
    decoded = [[from_json(p) for p in body] for body in oracle["bodies"][: len(PAYLOADS)]]
    assert decoded == PAYLOADS


def test_we_decode_the_reference_encoding(oracle: dict[str, Any]) -> None:
    assert [decode_packet(from_frame(frame)) for frame in oracle["packets"]] == ALL_PACKETS
    assert [decode_payload(body) for body in oracle["payloads"]] == PAYLOADS


def test_garbage_is_an_error_for_both(oracle: dict[str, Any]) -> None:
    reference_frames = oracle["frames"][len(ALL_PACKETS) :]
    assert reference_frames == [{"type": "error"}] * len(GARBAGE_FRAMES)
    for frame in GARBAGE_FRAMES:
        with pytest.raises(DecodeError):
            decode_packet(frame)
    for body, reference in zip(GARBAGE_BODIES, oracle["bodies"][len(PAYLOADS) :], strict=True):
        assert reference[-1] == {"type": "error"}
        with pytest.raises(DecodeError):
            decode_payload(body)


def test_v3_frames_equal_the_reference_encoding(oracle: dict[str, Any]) -> None:
    assert oracle["v3"]["packets"] == [frame_json(encode_packet(p, protocol=3)) for p in ALL_PACKETS]


@pytest.mark.parametrize(("key", "b64"), [("payloads", True), ("xhr2", False)])
def test_v3_payloads_equal_the_reference_encoding(oracle: dict[str, Any], key: str, b64: bool) -> None:
    ours = [frame_json(encode_payload(payload, protocol=3, b64=b64)) for payload in PAYLOADS_V3]
    assert oracle["v3"][key] == ours
    assert any("binary" in body for body in ours) != b64  # the XHR2 form really was exercised


def test_v3_reference_decodes_our_frames_and_payloads(oracle: dict[str, Any]) -> None:
    assert [from_json(p) for p in oracle["v3"]["frames"]] == ALL_PACKETS
    decoded = [[from_json(p) for p in body] for body in oracle["v3"]["bodies"][: 2 * len(PAYLOADS_V3)]]
    assert decoded == PAYLOADS_V3 + PAYLOADS_V3


def test_v3_we_decode_the_reference_encoding(oracle: dict[str, Any]) -> None:
    assert [decode_packet(from_frame(frame), protocol=3) for frame in oracle["v3"]["packets"]] == ALL_PACKETS
    for key in ("payloads", "xhr2"):
        bodies = [from_frame(frame) for frame in oracle["v3"][key]]
        assert [decode_payload(body, protocol=3) for body in bodies] == PAYLOADS_V3


def test_v3_garbage_is_an_error_for_both(oracle: dict[str, Any]) -> None:
    for body, reference in zip(
        GARBAGE_BODIES_V3, oracle["v3"]["bodies"][2 * len(PAYLOADS_V3) :], strict=True
    ):
        assert reference[-1] == {"type": "error"}, body  # after any packets that came before the fault
        with pytest.raises(DecodeError):
            decode_payload(body, protocol=3)
