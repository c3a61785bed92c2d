"""The two wire protocols of ``@socket.io/redis-adapter`` 8.x as seen by one namespace's adapter: which
channels it hears, where and how each message is published, how answers reach their requester.

    classic (createAdapter)          sharded (createShardedAdapter, Redis >= 7)
    PUBLISH / SUBSCRIBE, PSUBSCRIBE  SPUBLISH / SSUBSCRIBE
    broadcasts  P#N# | P#N#<room>#   every message P#N# (one-room broadcasts: P#N#<room># in dynamic modes)
    requests    P-request#N#         answers       P#N#<requester uid>#
    answers     P-response#N#        server count  PUBSUB SHARDNUMSUB P#N#
    server count PUBSUB NUMSUB P-request#N#

Everything else (what a request does, who answers, how answers are counted) is the same for both and
lives in the adapter (``_adapter.py``) and the server (``_serve.py``), which see a ``Dialect`` only.
Decoded messages reach the server through one callback; garbage raises ``DecodeError`` from the decoder,
which the link logs and drops.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Awaitable, Callable
from typing import Protocol

from sioactor.protocol.cluster import (
    Broadcast,
    ClassicChannels,
    ClassicRequest,
    ClassicResponse,
    ClusterMessage,
    ShardedChannels,
    SubscriptionMode,
    decode_classic_broadcast,
    decode_classic_request,
    decode_classic_response,
    decode_cluster_message,
    encode_classic_broadcast,
    encode_classic_request,
    encode_classic_response,
    encode_cluster_message,
)
from sioactor.runtime.cluster._link import ChannelHandler, ClusterBus

__all__ = ("ClassicDialect", "Dialect", "Receive", "ShardedDialect", "classic_uid")

logger = logging.getLogger("sioactor.cluster")

Receive = Callable[[ClusterMessage], Awaitable[None]]
"""Where a dialect hands every decoded message of the namespace's channels."""

Subscriptions = tuple[dict[str, ChannelHandler], dict[str, ChannelHandler]]

_UID_ALPHABET = string.ascii_letters + string.digits + "-_"


def classic_uid() -> str:
    """Six characters of ``[A-Za-z0-9_-]``, as Node's ``uid2(6)`` (classic uids and request ids)."""
    return "".join(secrets.choice(_UID_ALPHABET) for _ in range(6))


def _hex_uid() -> str:
    # ClusterAdapter's randomId(): eight random bytes in hex (uids and request ids).
    return secrets.token_hex(8)


class Dialect(Protocol):
    """One namespace's view of a wire protocol."""

    @property
    def members_channel(self) -> str:
        """The channel whose subscriber count is the number of nodes."""

    def new_id(self) -> str:
        """A fresh uid or request id, in the protocol's own shape."""

    def subscriptions(self, uid: str, receive: Receive) -> Subscriptions:
        """The namespace's channels and patterns, each decoding into *receive*."""

    def publish(self, bus: ClusterBus, message: ClusterMessage) -> None:
        """Publish a broadcast or a request of this node on its channel; never waits.

        Raises:
            RedisUnavailable: the bus is down.
            InternalChannelFull: the bus's queue is full.
            TypeError: a value the encoding cannot carry.
        """

    def answer(self, bus: ClusterBus, answer: ClusterMessage, requester: str | None) -> None:
        """Publish *answer* to the request of node *requester*; raises as ``publish``."""


class ClassicDialect:
    """``createAdapter``'s protocol (CLUSTER-NOTES §1.1-§1.3)."""

    __slots__ = ("channels",)

    def __init__(self, nsp: str, key: str) -> None:
        self.channels = ClassicChannels(nsp, key)

    @property
    def members_channel(self) -> str:
        return self.channels.request

    def new_id(self) -> str:
        return classic_uid()

    def subscriptions(self, uid: str, receive: Receive) -> Subscriptions:
        nsp = self.channels.nsp

        async def on_broadcast(channel: str, payload: bytes) -> None:
            await receive(decode_classic_broadcast(payload))

        async def on_request(channel: str, payload: bytes) -> None:
            await receive(decode_classic_request(payload, nsp=nsp))

        async def on_response(channel: str, payload: bytes) -> None:
            await receive(decode_classic_response(payload, nsp=nsp))

        channels = self.channels
        subscribed: dict[str, ChannelHandler] = {
            channels.request: on_request,
            channels.response: on_response,
            channels.response_for(uid): on_response,
        }
        return subscribed, {channels.pattern: on_broadcast}

    def publish(self, bus: ClusterBus, message: ClusterMessage) -> None:
        if isinstance(message, Broadcast) and message.request_id is None:
            target = self.channels.broadcast_target(message.recipients)
            bus.publish_soon(target, encode_classic_broadcast(message))
            return
        if not isinstance(message, ClassicRequest):
            raise TypeError(f"{type(message).__name__} is no classic request")
        bus.publish_soon(self.channels.request, encode_classic_request(message))

    def answer(self, bus: ClusterBus, answer: ClusterMessage, requester: str | None) -> None:
        # Node's default: every answer on the shared channel, which every node hears (§1.1).
        if not isinstance(answer, ClassicResponse):
            raise TypeError(f"{type(answer).__name__} is no classic answer")
        bus.publish_soon(self.channels.response, encode_classic_response(answer))


class ShardedDialect:
    """``createShardedAdapter``'s protocol: the ClusterAdapter envelope on sharded channels (§1.5, §2)."""

    __slots__ = ("channels",)

    def __init__(self, nsp: str, key: str, mode: SubscriptionMode) -> None:
        self.channels = ShardedChannels(nsp, key, mode)

    @property
    def members_channel(self) -> str:
        return self.channels.main

    def new_id(self) -> str:
        return _hex_uid()

    def subscriptions(self, uid: str, receive: Receive) -> Subscriptions:
        return {
            self.channels.main: self.handler(receive),
            self.channels.response_for(uid): self.handler(receive),
        }, {}

    @staticmethod
    def handler(receive: Receive) -> ChannelHandler:
        """The handler of one of the namespace's channels (room channels included)."""

        async def on_message(channel: str, payload: bytes) -> None:
            await receive(decode_cluster_message(payload))

        return on_message

    def publish(self, bus: ClusterBus, message: ClusterMessage) -> None:
        bus.publish_soon(self.channels.target(message), encode_cluster_message(message))

    def answer(self, bus: ClusterBus, answer: ClusterMessage, requester: str | None) -> None:
        if requester is None:
            logger.debug("%s: a request without a uid cannot be answered", self.channels.nsp)
            return
        bus.publish_soon(self.channels.response_for(requester), encode_cluster_message(answer))
