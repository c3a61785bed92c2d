"""Channel names of the Redis adapters, as CLUSTER-NOTES §1.1 and §1.5 list them."""

from __future__ import annotations

import pytest

from sioactor.protocol import DecodeError
from sioactor.protocol.cluster import (
    Broadcast,
    ClassicChannels,
    FetchSockets,
    Recipients,
    ShardedChannels,
    SubscriptionMode,
)


def test_classic_channel_names() -> None:
    channels = ClassicChannels("/chat")
    assert channels.broadcast == "socket.io#/chat#"
    assert channels.pattern == "socket.io#/chat#*"
    assert channels.room("room1") == "socket.io#/chat#room1#"
    assert channels.request == "socket.io-request#/chat#"
    assert channels.response == "socket.io-response#/chat#"
    assert channels.response_for("haamTg") == "socket.io-response#/chat#haamTg#"


def test_classic_key_prefix() -> None:
    channels = ClassicChannels("/", prefix="app")
    assert (channels.broadcast, channels.request, channels.response) == (
        "app#/#",
        "app-request#/#",
        "app-response#/#",
    )


def test_classic_pattern_escapes_glob_characters_of_the_namespace() -> None:
    assert ClassicChannels("/a*[b]?").pattern == "socket.io#/a\\*\\[b\\]\\?#*"


@pytest.mark.parametrize(
    ("rooms", "channel"),
    [
        ((), "socket.io#/#"),
        (("r1",), "socket.io#/#r1#"),
        (("r1", "r2"), "socket.io#/#"),
        (("a#b",), "socket.io#/#a#b#"),
    ],
)
def test_classic_broadcast_target_and_room_read_back(rooms: tuple[str, ...], channel: str) -> None:
    channels = ClassicChannels("/")
    assert channels.broadcast_target(Recipients(rooms=rooms)) == channel
    assert channels.room_of(channel) == (rooms[0] if len(rooms) == 1 else None)


@pytest.mark.parametrize(
    "channel", ["socket.io#/chat#", "socket.io#/#room", "other#/#x#", "socket.io-request#/#"]
)
def test_classic_room_of_refuses_foreign_channels(channel: str) -> None:
    with pytest.raises(DecodeError):
        ClassicChannels("/").room_of(channel)


SOCKET_ID = "f7hobyzq2wdm2Vw0AAAC"


@pytest.mark.parametrize(
    ("mode", "room", "channel"),
    [
        (SubscriptionMode.DYNAMIC, "room1", "socket.io#/#room1#"),
        (SubscriptionMode.DYNAMIC, SOCKET_ID, "socket.io#/#"),
        (SubscriptionMode.DYNAMIC_PRIVATE, SOCKET_ID, f"socket.io#/#{SOCKET_ID}#"),
        (SubscriptionMode.STATIC, "room1", "socket.io#/#"),
    ],
)
def test_sharded_one_room_broadcast_channel_by_mode(mode: SubscriptionMode, room: str, channel: str) -> None:
    channels = ShardedChannels("/", mode=mode)
    message = Broadcast(uid="u", nsp="/", data=["ev"], recipients=Recipients(rooms=(room,)))
    assert channels.target(message) == channel


def test_sharded_requests_and_answers_channels() -> None:
    channels = ShardedChannels("/")
    with_ack = Broadcast(
        uid="u", nsp="/", data=["ev"], recipients=Recipients(rooms=("room1",)), request_id="r"
    )
    assert channels.target(with_ack) == "socket.io#/#"
    assert channels.target(FetchSockets(uid="u", nsp="/", request_id="r")) == "socket.io#/#"
    assert channels.response_for("fd7a265e748ffd1f") == "socket.io#/#fd7a265e748ffd1f#"
