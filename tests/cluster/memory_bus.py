"""An in-memory ``ClusterBus`` hub for fast tests of the adapter's logic: several nodes in one process,
pub/sub semantics (each subscribed bus gets each message once, in order; NUMSUB counts buses), no Redis.

It adds fast tests; the behaviour against Redis and Node is tested on the real thing (test_redis_adapter.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from sioactor import RedisUnavailable
from sioactor.runtime.cluster._link import ChannelHandler


def _matches(pattern: str, channel: str) -> bool:
    # The adapters' patterns are an escaped literal prefix followed by "*".
    literal = pattern[:-1].replace("\\", "") if pattern.endswith("*") else pattern.replace("\\", "")
    return channel.startswith(literal) if pattern.endswith("*") else channel == literal


class MemoryHub:
    """The shared medium; ``bus()`` makes one node's connection to it."""

    def __init__(self) -> None:
        self.buses: list[MemoryBus] = []
        self.published: list[tuple[str, bytes]] = []

    def bus(self) -> MemoryBus:
        bus = MemoryBus(self)
        self.buses.append(bus)
        return bus

    def deliver(self, channel: str, payload: bytes) -> None:
        self.published.append((channel, payload))
        for bus in self.buses:
            bus.receive(channel, payload)


class MemoryBus:
    """One node's ``ClusterBus``; ``up = False`` makes it behave as a lost Redis connection."""

    def __init__(self, hub: MemoryHub) -> None:
        self.hub = hub
        self.up = True
        self.channels: dict[str, ChannelHandler] = {}
        self.patterns: dict[str, ChannelHandler] = {}
        self._send: MemoryObjectSendStream[tuple[ChannelHandler, str, bytes]] | None = None
        self._scope: anyio.CancelScope | None = None

    @property
    def connected(self) -> bool:
        return self.up and self._scope is not None

    async def start(self, task_group: TaskGroup) -> None:
        if self._scope is None:
            self._scope = anyio.CancelScope()
            self._send, receive = anyio.create_memory_object_stream[tuple[ChannelHandler, str, bytes]](1000)
            task_group.start_soon(self._run, self._scope, self._send, receive)

    async def close(self) -> None:
        if self._scope is not None:
            self._scope.cancel()
            self._scope = None

    async def _run(
        self,
        scope: anyio.CancelScope,
        send: MemoryObjectSendStream[tuple[ChannelHandler, str, bytes]],
        receive: MemoryObjectReceiveStream[tuple[ChannelHandler, str, bytes]],
    ) -> None:
        with scope, send, receive:
            async for handler, channel, payload in receive:
                with contextlib.suppress(Exception):  # the real link logs and drops the message
                    await handler(channel, payload)

    def receive(self, channel: str, payload: bytes) -> None:
        if not self.connected:
            return
        handler = self.channels.get(channel)
        if handler is None:
            handler = next((h for p, h in self.patterns.items() if _matches(p, channel)), None)
        if handler is not None and self._send is not None:
            self._send.send_nowait((handler, channel, payload))

    def _check(self) -> None:
        if not self.up:
            raise RedisUnavailable("memory://", "the connection was lost; reconnecting")

    def publish_soon(self, channel: str, payload: bytes) -> None:
        self._check()
        self.hub.deliver(channel, payload)

    async def count_subscribers(self, channel: str) -> int:
        self._check()
        return sum(1 for bus in self.hub.buses if bus.connected and channel in bus.channels)

    async def subscribe(
        self, channels: Mapping[str, ChannelHandler], patterns: Mapping[str, ChannelHandler]
    ) -> None:
        self.channels.update(channels)
        self.patterns.update(patterns)

    async def unsubscribe(self, channels: list[str], patterns: list[str]) -> None:
        for channel in channels:
            self.channels.pop(channel, None)
        for pattern in patterns:
            self.patterns.pop(pattern, None)

    def subscribe_soon(self, channels: Mapping[str, ChannelHandler]) -> None:
        self.channels.update(channels)

    def unsubscribe_soon(self, channels: Collection[str]) -> None:
        for channel in channels:
            self.channels.pop(channel, None)
