"""Properties of the cluster codec: each message survives its encoding; garbage raises DecodeError alone."""

from __future__ import annotations

import ast
import contextlib
import sys
from pathlib import Path
from typing import Any

import msgpack
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sioactor.protocol import DecodeError
from sioactor.protocol.cluster import (
    AdapterClose,
    AllRooms,
    AllRoomsResponse,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    Heartbeat,
    InitialHeartbeat,
    LegacyCommandDone,
    LegacySocketCommand,
    Recipients,
    RequestType,
    ServerSideEmit,
    ServerSideEmitResponse,
    SocketDetails,
    SocketIds,
    SocketsJoin,
    SocketsLeave,
    decode_classic_broadcast,
    decode_classic_request,
    decode_classic_response,
    decode_cluster_message,
    encode_classic_broadcast,
    encode_classic_request,
    encode_classic_response,
    encode_cluster_message,
    encode_emitter_broadcast,
)

text = st.text(max_size=12)
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False)
json_scalars = st.none() | st.booleans() | ints | floats | text


def values(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
        max_leaves=12,
    )


json_values = values(json_scalars)
binary_values = values(json_scalars | st.binary(max_size=8))
rooms = st.lists(text, max_size=3).map(tuple)
uids = st.text(min_size=1, max_size=16)
request_ids = st.text(min_size=1, max_size=16)
flags = st.dictionaries(text, json_scalars, max_size=3)
recipients = st.builds(Recipients, rooms=rooms, except_rooms=rooms, flags=flags)
plain_recipients = st.builds(Recipients, rooms=rooms, except_rooms=rooms)  # classic requests carry no flags


def events(args: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return st.builds(lambda name, rest: [name, *rest], text, st.lists(args, max_size=4))


sockets = st.lists(
    st.builds(
        SocketDetails,
        id=text,
        handshake=st.dictionaries(text, json_values, max_size=3),
        rooms=rooms,
        data=json_values,
    ),
    max_size=3,
).map(tuple)
nsps = st.sampled_from(["/", "/chat", "/a*b"])


@given(st.builds(Broadcast, uid=uids, nsp=nsps, data=events(binary_values), recipients=recipients))
def test_classic_broadcast_round_trips(message: Broadcast) -> None:
    assert decode_classic_broadcast(encode_classic_broadcast(message)) == message
    assert decode_classic_broadcast(encode_emitter_broadcast(message)) == message


classic_requests = st.one_of(
    st.builds(SocketIds, uid=uids, nsp=st.just("/"), request_id=request_ids, rooms=rooms),
    st.builds(AllRooms, uid=uids, nsp=st.just("/"), request_id=request_ids),
    st.builds(SocketsJoin, uid=st.none() | uids, nsp=st.just("/"), recipients=plain_recipients, rooms=rooms),
    st.builds(SocketsLeave, uid=st.none() | uids, nsp=st.just("/"), recipients=plain_recipients, rooms=rooms),
    st.builds(
        DisconnectSockets,
        uid=st.none() | uids,
        nsp=st.just("/"),
        recipients=plain_recipients,
        close=st.booleans(),
    ),
    st.builds(
        LegacySocketCommand,
        uid=uids,
        nsp=st.just("/"),
        request_id=request_ids,
        kind=st.just(RequestType.REMOTE_JOIN),
        sid=text,
        room=text,
    ),
    st.builds(
        LegacySocketCommand,
        uid=uids,
        nsp=st.just("/"),
        request_id=request_ids,
        kind=st.just(RequestType.REMOTE_DISCONNECT),
        sid=text,
        close=st.booleans(),
    ),
    st.builds(FetchSockets, uid=uids, nsp=st.just("/"), request_id=request_ids, recipients=plain_recipients),
    st.builds(
        ServerSideEmit,
        uid=uids,
        nsp=st.just("/"),
        data=events(json_values),
        request_id=st.none() | request_ids,
    ),
    st.builds(
        Broadcast,
        uid=uids,
        nsp=st.just("/"),
        data=events(binary_values),
        recipients=recipients,
        request_id=request_ids,
    ),
)


@given(classic_requests)
def test_classic_request_round_trips(message: Any) -> None:
    assert decode_classic_request(encode_classic_request(message), nsp="/") == message


classic_responses = st.one_of(
    st.builds(FetchSocketsResponse, uid=st.none(), nsp=st.just("/"), request_id=request_ids, sockets=sockets),
    st.builds(AllRoomsResponse, nsp=st.just("/"), request_id=request_ids, rooms=rooms),
    st.builds(LegacyCommandDone, nsp=st.just("/"), request_id=request_ids),
    st.builds(
        ServerSideEmitResponse, uid=st.none(), nsp=st.just("/"), request_id=request_ids, data=json_values
    ),
    st.builds(
        BroadcastClientCount,
        uid=st.none(),
        nsp=st.just("/"),
        request_id=request_ids,
        client_count=st.integers(0, 9),
    ),
    st.builds(BroadcastAck, uid=st.none(), nsp=st.just("/"), request_id=request_ids, data=binary_values),
)


@given(classic_responses)
def test_classic_response_round_trips(message: Any) -> None:
    assert decode_classic_response(encode_classic_response(message), nsp="/") == message


cluster_messages = st.one_of(
    st.builds(InitialHeartbeat, uid=uids, nsp=nsps),
    st.builds(Heartbeat, uid=uids, nsp=nsps),
    st.builds(AdapterClose, uid=uids, nsp=nsps),
    st.builds(
        Broadcast,
        uid=uids,
        nsp=nsps,
        data=events(binary_values),
        recipients=recipients,
        request_id=st.none() | request_ids,
    ),
    st.builds(SocketsJoin, uid=uids, nsp=nsps, recipients=recipients, rooms=rooms),
    st.builds(SocketsLeave, uid=uids, nsp=nsps, recipients=recipients, rooms=rooms),
    st.builds(DisconnectSockets, uid=uids, nsp=nsps, recipients=recipients, close=st.booleans()),
    st.builds(FetchSockets, uid=uids, nsp=nsps, request_id=request_ids, recipients=recipients),
    st.builds(FetchSocketsResponse, uid=uids, nsp=nsps, request_id=request_ids, sockets=sockets),
    st.builds(
        ServerSideEmit, uid=uids, nsp=nsps, data=events(binary_values), request_id=st.none() | request_ids
    ),
    st.builds(ServerSideEmitResponse, uid=uids, nsp=nsps, request_id=request_ids, data=binary_values),
    st.builds(
        BroadcastClientCount, uid=uids, nsp=nsps, request_id=request_ids, client_count=st.integers(0, 9)
    ),
    st.builds(BroadcastAck, uid=uids, nsp=nsps, request_id=request_ids, data=binary_values),
)


@given(cluster_messages)
def test_cluster_message_round_trips(message: Any) -> None:
    assert decode_cluster_message(encode_cluster_message(message)) == message


DECODERS = (
    decode_classic_broadcast,
    lambda payload: decode_classic_request(payload, nsp="/"),
    lambda payload: decode_classic_response(payload, nsp="/"),
    decode_cluster_message,
)


def decodes_or_refuses(payload: bytes) -> None:
    for decode in DECODERS:
        with contextlib.suppress(DecodeError):
            decode(payload)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=64))
def test_random_bytes_raise_only_decode_error(payload: bytes) -> None:
    decodes_or_refuses(payload)


# Well-formed encodings of wrong shapes: the fields Node's messages use, holding anything.
wire_keys = st.sampled_from(
    [
        "uid",
        "type",
        "data",
        "nsp",
        "opts",
        "rooms",
        "except",
        "flags",
        "packet",
        "requestId",
        "sockets",
        "close",
    ]
)
wrong_scalars = json_scalars | st.integers(min_value=0, max_value=13) | st.binary(max_size=4)
wrong_shapes = st.recursive(
    wrong_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(wire_keys | text, inner, max_size=5),
    max_leaves=16,
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(wrong_shapes)
def test_wrong_shapes_raise_only_decode_error(obj: Any) -> None:
    decodes_or_refuses(msgpack.packb(obj, use_bin_type=True))
    decodes_or_refuses(orjson.dumps(obj, default=list))


@pytest.mark.parametrize(
    "payload",
    [
        b"\xd7\xff" + b"\xff" * 8,  # a timestamp beyond datetime's range
        b"\xd4\x05\x00",  # an extension type no adapter uses
        b"\x91" * 5000 + b"\xc0",  # deeper than any message
        b"[" * 5000,
        b'{"type":' + b"9" * 40 + b"}",  # an integer beyond 64 bits
        b"\xff\xfe",
    ],
)
def test_hostile_payloads_raise_decode_error(payload: bytes) -> None:
    for decode in DECODERS:
        with pytest.raises(DecodeError):
            decode(payload)


def test_protocol_cluster_imports_only_stdlib_msgpack_orjson_protocol_and_the_error_tree() -> None:
    package = Path(__file__).resolve().parents[3] / "sioactor/protocol/cluster"
    allowed = set(sys.stdlib_module_names) | {"msgpack", "orjson"}
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] in allowed or name.startswith(
                    ("sioactor.protocol", "sioactor._errors")
                ), (
                    path.name,
                    name,
                )
                assert name.split(".")[0] not in {"anyio", "asyncio", "trio", "socket", "time"}, (
                    path.name,
                    name,
                )
