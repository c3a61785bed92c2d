"""permessage-deflate's negotiation (RFC 7692 §5, through websockets' factory) and the server frames
`Deflate.encode_frames` writes, read back by websockets' client-side parser."""

from __future__ import annotations

import pytest
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode

from sioactor.runtime._server._ws_deflate import Deflate, negotiate


def offer(*values: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"host", b"x"), *((b"sec-websocket-extensions", value) for value in values)]


@pytest.mark.parametrize(
    ("values", "answer"),
    [
        ((b"permessage-deflate",), b"permessage-deflate"),
        ((b"permessage-deflate; client_max_window_bits",), b"permessage-deflate"),
        (
            (b"permessage-deflate; server_no_context_takeover",),
            b"permessage-deflate; server_no_context_takeover",
        ),
        (
            (b"permessage-deflate; server_max_window_bits=10",),
            b"permessage-deflate; server_max_window_bits=10",
        ),
        # The first acceptable offer wins: one the server cannot do is skipped.
        (
            (b"permessage-deflate; server_max_window_bits=8, permessage-deflate",),
            b"permessage-deflate",
        ),
        ((b"x-webkit-deflate-frame", b"permessage-deflate"), b"permessage-deflate"),
    ],
)
def test_accepted_offers(values: tuple[bytes, ...], answer: bytes) -> None:
    deflate = negotiate(offer(*values), 1024)
    assert deflate is not None
    assert deflate.header == answer


@pytest.mark.parametrize(
    "values",
    [
        (),
        (b"x-webkit-deflate-frame",),
        (b"permessage-deflate; server_max_window_bits=8",),
        (b"permessage-deflate; unknown_param",),
        (b"permessage-deflate; =broken",),
    ],
)
def test_nothing_negotiated(values: tuple[bytes, ...]) -> None:
    assert negotiate(offer(*values), 1024) is None


def read(data: bytes, client: PerMessageDeflate) -> list[tuple[bool, bool, bytes]]:
    """(text?, compressed?, payload) per server frame in *data*, inflated as a client would."""
    out = []
    at = 0
    while at < len(data):
        first, second = data[at], data[at + 1]
        size, head = second & 0x7F, 2
        if size == 126:
            size, head = int.from_bytes(data[at + 2 : at + 4], "big"), 4
        elif size == 127:
            size, head = int.from_bytes(data[at + 2 : at + 10], "big"), 10
        payload = data[at + head : at + head + size]
        opcode = Opcode.TEXT if first & 0x0F == 1 else Opcode.BINARY
        frame = client.decode(Frame(opcode, payload, rsv1=bool(first & 0x40)))
        out.append((opcode is Opcode.TEXT, bool(first & 0x40), bytes(frame.data)))
        at += head + size
    return out


def test_frames_from_the_threshold_up_are_compressed_and_read_back_with_context_takeover() -> None:
    deflate = negotiate(offer(b"permessage-deflate"), 1024)
    assert deflate is not None
    client = PerMessageDeflate(False, False, 15, 15)
    just_under, at = "a" * 1023, "b" * 1024
    binary = bytes(range(256)) * 10
    messages: list[str | bytes] = [just_under, at, binary, at, "é" * 600]
    got = read(deflate.encode_frames(messages), client)
    assert got == [
        (True, False, just_under.encode()),
        (True, True, at.encode()),
        (False, True, binary),
        (True, True, at.encode()),  # the same text again: the shared window makes it a few bytes
        (True, True, ("é" * 600).encode()),  # 1200 bytes of UTF-8: the threshold counts bytes
    ]


def test_no_zlib_context_until_a_message_needs_one() -> None:
    deflate = negotiate(offer(b"permessage-deflate"), 1024)
    assert deflate is not None
    deflate.encode_frames(["small"])
    assert deflate._extension is None
    deflate.encode_frames(["x" * 2000])
    assert isinstance(deflate._extension, PerMessageDeflate)


def test_without_context_takeover_each_message_is_compressed_alone() -> None:
    deflate = negotiate(offer(b"permessage-deflate; server_no_context_takeover"), 0)
    assert isinstance(deflate, Deflate)
    first, second = deflate.encode_frames(["hello" * 300]), deflate.encode_frames(["hello" * 300])
    assert first == second
