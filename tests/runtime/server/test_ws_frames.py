"""`FrameSplitter`: the same messages and the same protocol errors as websockets' own parser, however the
bytes are cut, with plain frames read by the splitter and every other frame by websockets; with
permessage-deflate negotiated too, where a compressed frame (RSV1) must always go to websockets."""

from __future__ import annotations

import itertools
import os

from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.utils import apply_mask

from sioactor.runtime._server._ws_frames import PENDING_LIMIT, RAW, TEXT, FrameSplitter

MAX_SIZE = 200_000


def client_frame(first_byte: int, payload: bytes, *, masked: bool = True) -> bytes:
    """One client frame: *first_byte* is FIN/RSV/opcode; masked unless told otherwise."""
    size = len(payload)
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head = bytes((first_byte, mask_bit | size))
    elif size < 65_536:
        head = bytes((first_byte, mask_bit | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((first_byte, mask_bit | 127)) + size.to_bytes(8, "big")
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + apply_mask(payload, mask)


class Reader:
    """What the server's connection does with client bytes: messages and the protocol's state."""

    def __init__(self, *, split: bool, deflate: bool = False) -> None:
        self.protocol = ServerProtocol(state=State.OPEN, max_size=MAX_SIZE)
        if deflate:  # as _websocket.py gives it the negotiated extension: it inflates RSV1 frames
            self.protocol.extensions = [PerMessageDeflate(False, False, 15, 15)]
        self.splitter = FrameSplitter(MAX_SIZE) if split else None
        self.messages: list[tuple[bool, bytes]] = []
        self.fragments: list[bytes] = []
        self.fragment_text = False
        self.pongs = 0

    def feed(self, data: bytes) -> None:
        protocol = self.protocol
        if self.splitter is None:
            protocol.receive_data(data)
            self._events()
            return
        plain_ok = protocol.state is State.OPEN and not self.fragments
        for kind, payload in self.splitter.split(data, plain_ok):
            if kind == RAW:
                protocol.receive_data(payload)
                self._events()
            elif protocol.state is State.OPEN:
                self.messages.append((kind == TEXT, payload))

    def _events(self) -> None:
        for event in self.protocol.events_received():
            assert isinstance(event, Frame)
            if event.opcode in (Opcode.TEXT, Opcode.BINARY):
                if event.fin:
                    self.messages.append((event.opcode is Opcode.TEXT, bytes(event.data)))
                else:
                    self.fragments, self.fragment_text = [bytes(event.data)], event.opcode is Opcode.TEXT
            elif event.opcode is Opcode.CONT:
                self.fragments.append(bytes(event.data))
                if event.fin:
                    self.messages.append((self.fragment_text, b"".join(self.fragments)))
                    self.fragments = []
        self.pongs += sum(out.startswith(b"\x8a") for out in self.protocol.data_to_send())

    @property
    def outcome(self) -> tuple[list[tuple[bool, bytes]], State, int | None, int]:
        close = self.protocol.close_sent
        return self.messages, self.protocol.state, None if close is None else int(close.code), self.pongs


def both(stream: bytes, cuts: list[int], *, deflate: bool = False) -> tuple[Reader, Reader]:
    alone, split = Reader(split=False, deflate=deflate), Reader(split=True, deflate=deflate)
    bounds = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    for start, end in itertools.pairwise(bounds):
        alone.feed(stream[start:end])
        split.feed(stream[start:end])
    return alone, split


payloads = st.binary(min_size=0, max_size=300) | st.sampled_from([b"x" * 126, b"y" * 65_535, b"z" * 70_000])
frames = st.one_of(
    st.tuples(st.just("text"), st.text(max_size=200).map(str.encode)),
    st.tuples(st.just("binary"), payloads),
    st.tuples(st.just("ping"), st.binary(max_size=20)),
    st.tuples(st.just("fragmented"), st.lists(st.binary(max_size=50), min_size=2, max_size=4)),
)


def encode(kind: str, body: bytes | list[bytes]) -> bytes:
    if kind == "text":
        assert isinstance(body, bytes)
        return client_frame(0x81, body)
    if kind == "binary":
        assert isinstance(body, bytes)
        return client_frame(0x82, body)
    if kind == "ping":
        assert isinstance(body, bytes)
        return client_frame(0x89, body)
    assert isinstance(body, list)
    parts = [client_frame(0x02, body[0])]
    parts += [client_frame(0x00, piece) for piece in body[1:-1]]
    parts.append(client_frame(0x80, body[-1]))
    return b"".join(parts)


@settings(max_examples=150, deadline=None)
@given(st.lists(frames, max_size=8), st.lists(st.integers(min_value=0, max_value=1 << 20), max_size=12))
def test_any_frame_sequence_cut_anywhere_reads_as_websockets_reads_it(
    sequence: list[tuple[str, bytes | list[bytes]]], cuts: list[int]
) -> None:
    stream = b"".join(encode(kind, body) for kind, body in sequence)
    alone, split = both(stream, cuts)
    assert split.outcome == alone.outcome
    assert len(alone.messages) == sum(kind in ("text", "binary", "fragmented") for kind, _ in sequence)


def deflated(kind: str, body: bytes, client: PerMessageDeflate) -> bytes:
    """A client's compressed message (RSV1 set), its deflate context carried over from the last one."""
    opcode = Opcode.TEXT if kind == "deflated_text" else Opcode.BINARY
    frame = client.encode(Frame(opcode, body))
    return client_frame((0xC1 if opcode is Opcode.TEXT else 0xC2), bytes(frame.data))


compressible = st.one_of(
    st.tuples(st.sampled_from(["deflated_text"]), st.text(max_size=300).map(str.encode)),
    st.tuples(st.sampled_from(["deflated_binary"]), payloads),
    st.tuples(st.just("text"), st.text(max_size=200).map(str.encode)),
    st.tuples(st.just("binary"), payloads),
    st.tuples(st.just("ping"), st.binary(max_size=20)),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(compressible, max_size=8), st.lists(st.integers(min_value=0, max_value=1 << 20), max_size=12))
def test_compressed_and_plain_frames_cut_anywhere_read_as_websockets_reads_them(
    sequence: list[tuple[str, bytes]], cuts: list[int]
) -> None:
    client = PerMessageDeflate(False, False, 15, 15)
    stream = b"".join(
        deflated(kind, body, client) if kind.startswith("deflated") else encode(kind, body)
        for kind, body in sequence
    )
    alone, split = both(stream, cuts, deflate=True)
    assert split.outcome == alone.outcome
    assert [body for _, body in split.messages] == [body for kind, body in sequence if kind != "ping"]


def test_a_compressed_frame_never_takes_the_plain_path() -> None:
    client = PerMessageDeflate(False, False, 15, 15)
    frame = deflated("deflated_text", b'42["big","' + b"a" * 2000 + b'"]', client)
    assert [kind for kind, _ in FrameSplitter(MAX_SIZE).split(frame, plain_ok=True)] == [RAW]


def test_plain_frames_are_read_without_websockets() -> None:
    splitter = FrameSplitter(MAX_SIZE)
    data = client_frame(0x81, b'42["echo",1]') + client_frame(0x82, b"\x00\x01")
    assert splitter.split(data, plain_ok=True) == [(TEXT, b'42["echo",1]'), (2, b"\x00\x01")]


def test_an_incomplete_frame_waits_for_its_rest() -> None:
    splitter = FrameSplitter(MAX_SIZE)
    frame = client_frame(0x81, b"hello")
    assert splitter.split(frame[:3], plain_ok=True) == []
    assert splitter.split(frame[3:], plain_ok=True) == [(TEXT, b"hello")]


def test_a_frame_larger_than_the_pending_limit_streams_to_websockets() -> None:
    frame = client_frame(0x82, b"b" * (PENDING_LIMIT + 10))
    alone, split = both(frame, [1000, 40_000])
    assert split.outcome == alone.outcome
    assert split.messages == [(False, b"b" * (PENDING_LIMIT + 10))]


def test_a_text_frame_inside_a_fragmented_message_is_websockets_protocol_error() -> None:
    stream = client_frame(0x01, b"start") + client_frame(0x81, b"intruder") + client_frame(0x80, b"end")
    alone, split = both(stream, [])
    assert split.outcome == alone.outcome
    assert split.protocol.close_sent is not None
    assert split.protocol.close_sent.code == 1002


def test_an_oversized_message_is_refused_with_1009_as_websockets_does() -> None:
    alone, split = both(client_frame(0x81, b"a" * (MAX_SIZE + 1)), [5000])
    assert split.outcome == alone.outcome
    assert split.protocol.close_sent is not None
    assert split.protocol.close_sent.code == 1009


def test_unmasked_or_reserved_bit_frames_fail_as_websockets_fails_them() -> None:
    for stream in (client_frame(0x81, b"bare", masked=False), client_frame(0xC1, b"rsv1")):
        alone, split = both(stream, [])
        assert split.outcome == alone.outcome
        assert split.protocol.state is not State.OPEN
