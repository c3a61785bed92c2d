"""The cluster codec against Node's own bytes (CLUSTER-NOTES §8): each capture decodes to the message it
carried and encodes back to the very same bytes, on the channel Node chose."""

from __future__ import annotations

import pytest
from cluster_captures import (
    ADMIN_ROOM_JOINED,
    BROADCAST_ACK_RESPONSE,
    BROADCAST_WITH_ACK_REQUEST,
    CLASSIC_BROADCASTS,
    CLASSIC_FETCH_RESPONSE,
    CLASSIC_JSON_REQUESTS,
    CLASSIC_JSON_RESPONSES,
    EMITTER_BROADCASTS,
    EMITTER_JSON_REQUESTS,
    PYTHON_BROADCAST,
    SHARDED_BINARY_BROADCAST,
    SHARDED_JSON,
    STREAMS_MSGPACK,
)

from sioactor.protocol.cluster import (
    EMITTER_UID,
    AllRooms,
    AllRoomsResponse,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    ClassicChannels,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    Recipients,
    ServerSideEmit,
    ServerSideEmitResponse,
    ShardedChannels,
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


@pytest.mark.parametrize(("channel", "hexed"), CLASSIC_BROADCASTS)
def test_classic_broadcast_round_trips_on_nodes_channel(channel: str, hexed: str) -> None:
    payload = bytes.fromhex(hexed)
    message = decode_classic_broadcast(payload)
    assert encode_classic_broadcast(message) == payload
    channels = ClassicChannels(message.nsp)
    assert channels.broadcast_target(message.recipients) == channel
    expected_room = message.recipients.rooms[0] if len(message.recipients.rooms) == 1 else None
    assert channels.room_of(channel) == expected_room


def test_classic_broadcast_values() -> None:
    decoded = [decode_classic_broadcast(bytes.fromhex(hexed)) for _, hexed in CLASSIC_BROADCASTS]
    assert decoded[0] == Broadcast(
        uid="KEaaGZ", nsp="/", data=["bcast-all", "hello", 1, {"a": 1.5, "b": None, "c": True}]
    )
    assert decoded[2].recipients == Recipients(rooms=("room1", "room2"), except_rooms=("room3",))
    assert decoded[3].recipients.flags == {"volatile": True, "compress": False}
    assert decoded[4].data == ["bcast-bin", b"\x01\x02\x03", {"nested": b"\x04\x05"}]
    assert (decoded[5].uid, decoded[5].nsp) == ("haamTg", "/chat")
    assert decoded[6].recipients.except_rooms == ("ha6RpxId2a6LsFHvAAAA",)


@pytest.mark.parametrize(("channel", "hexed"), EMITTER_BROADCASTS)
def test_emitter_broadcast_round_trips(channel: str, hexed: str) -> None:
    payload = bytes.fromhex(hexed)
    message = decode_classic_broadcast(payload)
    assert message.uid == EMITTER_UID
    assert encode_emitter_broadcast(message) == payload
    assert ClassicChannels(message.nsp).broadcast_target(message.recipients) == channel


def test_emitter_broadcast_values() -> None:
    decoded = [decode_classic_broadcast(bytes.fromhex(hexed)) for _, hexed in EMITTER_BROADCASTS]
    assert decoded[0].data == ["from-emitter", "hi", 42, {"k": [1, 2]}]
    assert decoded[2].recipients == Recipients(
        rooms=("room1", "room2"), except_rooms=("room3",), flags={"volatile": True, "compress": False}
    )
    assert (decoded[3].nsp, decoded[3].data) == ("/chat", ["bin", b"\xde\xad"])


@pytest.mark.parametrize(("channel", "text"), CLASSIC_JSON_REQUESTS + EMITTER_JSON_REQUESTS)
def test_classic_request_round_trips(channel: str, text: str) -> None:
    payload = text.encode()
    message = decode_classic_request(payload, nsp="/")
    assert encode_classic_request(message) == payload
    assert channel == ClassicChannels("/").request


def test_classic_request_values() -> None:
    node = [decode_classic_request(text.encode(), nsp="/") for _, text in CLASSIC_JSON_REQUESTS]
    assert node[1] == FetchSockets(
        uid="KEaaGZ", nsp="/", request_id="b_35S8", recipients=Recipients(rooms=("room1",))
    )
    assert node[2] == AllRooms(uid="KEaaGZ", nsp="/", request_id="c0Qf3z")
    assert node[3] == ServerSideEmit(uid="KEaaGZ", nsp="/", data=["ssemit", "a", 2, {"o": 1}])
    assert node[4] == ServerSideEmit(uid="KEaaGZ", nsp="/", data=["ssemit-ack", "q"], request_id="xKfiFm")
    assert node[5] == SocketsJoin(uid="KEaaGZ", nsp="/", recipients=Recipients(), rooms=("room2",))
    assert node[7] == DisconnectSockets(
        uid="KEaaGZ", nsp="/", recipients=Recipients(rooms=("irYitCqNBGaF3VYQAAAC",)), close=False
    )
    emitter = [decode_classic_request(text.encode(), nsp="/") for _, text in EMITTER_JSON_REQUESTS]
    assert emitter[0] == ServerSideEmit(uid=EMITTER_UID, nsp="/", data=["ssemit", "from-emitter"])
    assert emitter[2] == SocketsLeave(uid=None, nsp="/", recipients=Recipients(), rooms=("room9",))
    assert isinstance(emitter[3], DisconnectSockets)
    assert (emitter[3].uid, emitter[3].close) == (None, True)


def test_broadcast_with_ack_request_round_trips() -> None:
    payload = bytes.fromhex(BROADCAST_WITH_ACK_REQUEST)
    message = decode_classic_request(payload, nsp="/")
    assert message == Broadcast(
        uid="KEaaGZ",
        nsp="/",
        data=["bcast-ack", "data"],
        recipients=Recipients(flags={"timeout": 2000}),
        request_id="AFi1xP",
    )
    assert encode_classic_request(message) == payload


@pytest.mark.parametrize(
    "payload",
    [text.encode() for _, text in CLASSIC_JSON_RESPONSES]
    + [bytes.fromhex(BROADCAST_ACK_RESPONSE), CLASSIC_FETCH_RESPONSE.encode()],
)
def test_classic_response_round_trips(payload: bytes) -> None:
    assert encode_classic_response(decode_classic_response(payload, nsp="/")) == payload


def test_classic_response_values() -> None:
    rooms, sse, count = (
        decode_classic_response(text.encode(), nsp="/") for _, text in CLASSIC_JSON_RESPONSES
    )
    assert rooms == AllRoomsResponse(
        nsp="/", request_id="c0Qf3z", rooms=("rVfNz3QXuJvNmUIEAAAB", "room1", "irYitCqNBGaF3VYQAAAC")
    )
    assert sse == ServerSideEmitResponse(uid=None, nsp="/", request_id="xKfiFm", data="pong-from-S2")
    assert count == BroadcastClientCount(uid=None, nsp="/", request_id="AFi1xP", client_count=2)
    ack = decode_classic_response(bytes.fromhex(BROADCAST_ACK_RESPONSE), nsp="/")
    assert ack == BroadcastAck(uid=None, nsp="/", request_id="AFi1xP", data="ack-from-client@S2")
    fetched = decode_classic_response(CLASSIC_FETCH_RESPONSE.encode(), nsp="/")
    assert isinstance(fetched, FetchSocketsResponse)
    (socket,) = fetched.sockets
    assert socket.id == "rVfNz3QXuJvNmUIEAAAB"
    assert socket.rooms == ("rVfNz3QXuJvNmUIEAAAB", "room1")
    assert socket.data == {"user": {"name": "u-rVfN"}}
    assert socket.handshake["query"] == {"room": "room1", "EIO": "4", "transport": "websocket"}


REQUESTER_UID = "fd7a265e748ffd1f"


@pytest.mark.parametrize(("channel", "text"), SHARDED_JSON)
def test_sharded_message_round_trips_on_nodes_channel(channel: str, text: str) -> None:
    payload = text.encode()
    message = decode_cluster_message(payload)
    assert encode_cluster_message(message) == payload
    channels = ShardedChannels(message.nsp)
    if isinstance(message, ServerSideEmitResponse | BroadcastClientCount | BroadcastAck):
        assert channel == channels.response_for(REQUESTER_UID)  # an answer, on the requester's own channel
    else:
        assert channels.target(message) == channel


def test_sharded_binary_broadcast_is_msgpack_and_round_trips() -> None:
    payload = bytes.fromhex(SHARDED_BINARY_BROADCAST)
    message = decode_cluster_message(payload)
    assert isinstance(message, Broadcast)
    assert message.data == ["bcast-bin", b"\x01\x02\x03", {"nested": b"\x04\x05"}]
    assert encode_cluster_message(message) == payload


def test_streams_adapter_msgpack_envelopes_decode() -> None:
    decoded = [decode_cluster_message(bytes.fromhex(hexed)) for _, hexed in STREAMS_MSGPACK]
    kinds = [type(message) for message in decoded]
    assert kinds == [
        FetchSockets,
        FetchSockets,
        FetchSocketsResponse,
        ServerSideEmit,
        ServerSideEmit,
        ServerSideEmitResponse,
        Broadcast,
        BroadcastClientCount,
        BroadcastAck,
        BroadcastAck,
    ]
    for message in decoded:  # the same values, written as sioactor writes them
        assert decode_cluster_message(encode_cluster_message(message)) == message
    fetched = decoded[2]
    assert isinstance(fetched, FetchSocketsResponse)
    assert fetched.sockets[0].handshake["issued"] == 1795637893247


def test_admin_date_decodes_as_nodes_iso_string() -> None:
    message = decode_classic_broadcast(bytes.fromhex(ADMIN_ROOM_JOINED))
    assert message.nsp == "/admin"
    assert message.data == ["room_joined", "/", "lobby", "Rxt6ROvozo3TQ6MiAAAB", "2026-11-25T20:21:55.384Z"]


def test_python_broadcast_that_node_accepted_is_reproduced() -> None:
    message = Broadcast(uid="fEcOhZ", nsp="/", data=["from-python", "hi", b"\x01\x02\xff", {"n": 1.5}])
    assert encode_classic_broadcast(message) == bytes.fromhex(PYTHON_BROADCAST)


CAPTURES = (
    [bytes.fromhex(hexed) for _, hexed in CLASSIC_BROADCASTS + EMITTER_BROADCASTS + STREAMS_MSGPACK]
    + [text.encode() for _, text in CLASSIC_JSON_REQUESTS + CLASSIC_JSON_RESPONSES + SHARDED_JSON]
    + [bytes.fromhex(BROADCAST_WITH_ACK_REQUEST), CLASSIC_FETCH_RESPONSE.encode()]
)


@pytest.mark.parametrize("payload", CAPTURES)
def test_every_truncation_of_a_capture_is_a_decode_error(payload: bytes) -> None:
    from sioactor.protocol import DecodeError

    decoders = (
        decode_classic_broadcast,
        lambda data: decode_classic_request(data, nsp="/"),
        lambda data: decode_classic_response(data, nsp="/"),
        decode_cluster_message,
    )
    for end in range(len(payload)):
        for decode in decoders:
            with pytest.raises(DecodeError):
                decode(payload[:end])
