"""The session forwarding's messages (``protocol/cluster/_forwarding.py``): each round-trips, and anything
else on the channels decodes to ``DecodeError`` alone."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sioactor._errors import DecodeError
from sioactor.protocol.cluster._forwarding import (
    FinishedMessage,
    ForwardRequest,
    FromClient,
    RequestHead,
    Taken,
    ToClient,
    decode_forward_message,
    encode_forward_message,
)


def test_forwarding_messages_round_trip_and_garbage_is_refused() -> None:
    head = RequestHead(
        kind="http",
        method="POST",
        path="/socket.io/",
        query_string=b"EIO=4",
        headers=((b"host", b"x"),),
        client=("127.0.0.1", 5),
        scheme="http",
    )
    for message in (
        ForwardRequest(entry="n1", exchange=3, sid="s" * 20, head=head, body=b"40"),
        Taken(exchange=3, owner="n2"),
        ToClient(
            exchange=3, message={"type": "http.response.start", "status": 200, "headers": ((b"a", b"b"),)}
        ),
        FromClient(entry="n1", exchange=3, message={"type": "websocket.receive", "text": "2probe"}),
        FinishedMessage(exchange=3),
    ):
        assert decode_forward_message(encode_forward_message(message)) == message
    for garbage in (b"", b"\xc1", b"\x90", b"\x92\x01\x01", b"\x93\x02\x01\x80", b"\x93\x01\xc3\xa1x"):
        with pytest.raises(DecodeError):
            decode_forward_message(garbage)


_LEAVES = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8) | st.binary(max_size=8)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=12) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30,
)


@given(
    st.binary(max_size=200)
    | st.lists(_VALUES, max_size=12).map(lambda v: msgpack.packb(v, use_bin_type=True))
)
def test_decoding_anything_raises_decode_error_alone(payload: bytes) -> None:
    try:
        message = decode_forward_message(payload)
    except DecodeError:
        return
    assert decode_forward_message(encode_forward_message(message)) == message
