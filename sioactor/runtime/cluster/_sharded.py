"""``RedisShardedAdapter``: a namespace's adapter in a cluster on Redis 7's sharded pub/sub, wire-compatible
with ``@socket.io/redis-adapter`` 8.3's ``createShardedAdapter`` (the ``ClusterAdapter`` message format).

Everything but the wire is ``BaseRedisAdapter``'s (``_adapter.py``). Two things are its own:

- the room channels of the ``dynamic`` subscription modes. A one-room broadcast goes to ``P#N#<room>#``
  (in ``dynamic`` unless the room looks like a socket id, 20 characters; in ``dynamic-private`` always),
  so a node must hear the channel of every room it holds. Node subscribes when a room is created and
  unsubscribes when it is deleted; so does this adapter, from the room registry's changes, without
  waiting for Redis (as Node does not). ``dynamic`` skips a socket's own room; ``static`` has no room
  channels at all. Every node of a cluster must use the same mode (the publisher picks the channel).
- ``all_rooms``: the format has no such request (Node's sharded adapter answers with its own rooms only);
  this adapter asks the other nodes for their sockets, whose rooms are every room of the cluster.

The server count is ``PUBSUB SHARDNUMSUB P#N#``, as Node counts (no heartbeats).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, final

from sioactor.actors.socketio import RoomChange, RoomObserver
from sioactor.protocol.cluster import (
    DEFAULT_PREFIX,
    FetchSockets,
    FetchSocketsResponse,
    Recipients,
    SubscriptionMode,
)
from sioactor.runtime.cluster._adapter import DEFAULT_REQUESTS_TIMEOUT, BaseRedisAdapter
from sioactor.runtime.cluster._dialect import ShardedDialect
from sioactor.runtime.cluster._link import ClusterBus, RedisLink

if TYPE_CHECKING:
    from sioactor.runtime.socketio._namespace import Namespace

__all__ = ("RedisShardedAdapter", "RedisShardedAdapterFactory")


def as_subscription_mode(mode: SubscriptionMode | str) -> SubscriptionMode:
    """*mode* as a ``SubscriptionMode``; a clear ``ValueError`` for anything else."""
    try:
        return SubscriptionMode(mode)
    except ValueError:
        known = ", ".join(repr(m.value) for m in SubscriptionMode)
        raise ValueError(f"subscription_mode {mode!r} is none of {known}") from None


@final
class RedisShardedAdapterFactory:
    """What ``SocketIo(adapter=...)`` takes: builds each namespace's ``RedisShardedAdapter`` on one link.

    Made by ``RedisShardedAdapter.from_url``.
    """

    __slots__ = ("bus", "key", "mode", "requests_timeout")

    def __init__(
        self,
        bus: ClusterBus,
        *,
        key: str,
        requests_timeout: float,
        subscription_mode: SubscriptionMode | str = SubscriptionMode.DYNAMIC,
    ) -> None:
        self.bus = bus
        self.key = key
        self.mode = as_subscription_mode(subscription_mode)
        self.requests_timeout = requests_timeout

    def __call__(self, ns: Namespace) -> RedisShardedAdapter:
        return RedisShardedAdapter(
            ns, self.bus, key=self.key, subscription_mode=self.mode, requests_timeout=self.requests_timeout
        )


@final
class RedisShardedAdapter(BaseRedisAdapter):
    """The adapter of one namespace in a cluster on Redis sharded pub/sub (``createShardedAdapter``).

        io = SocketIo(adapter=RedisShardedAdapter.from_url("redis://localhost:6379"))

    Needs Redis 7.0 or later, one server (a Redis Cluster's slot routing is not followed). Delivery is
    pub/sub's: at most once, to the nodes connected at that moment.
    """

    __slots__ = ("_on_room", "_room_channels", "channels", "room_observer")

    def __init__(
        self,
        ns: Namespace,
        bus: ClusterBus,
        *,
        key: str = DEFAULT_PREFIX,
        subscription_mode: SubscriptionMode | str = SubscriptionMode.DYNAMIC,
        requests_timeout: float = DEFAULT_REQUESTS_TIMEOUT,
    ) -> None:
        dialect = ShardedDialect(ns.path, key, as_subscription_mode(subscription_mode))
        super().__init__(ns, bus, dialect, requests_timeout=requests_timeout)
        self.channels = dialect.channels
        self._on_room = dialect.handler(self._server.receive)
        self._room_channels: dict[str, str] = {}  # room -> its subscribed channel
        # What the namespace's room registry reports its changes to (none: no room channels to keep).
        self.room_observer: RoomObserver | None = (
            None if dialect.channels.mode is SubscriptionMode.STATIC else self._room_changed
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key: str = DEFAULT_PREFIX,
        subscription_mode: SubscriptionMode | str = SubscriptionMode.DYNAMIC,
        requests_timeout: float = DEFAULT_REQUESTS_TIMEOUT,
        connect_timeout: float = 5.0,
    ) -> RedisShardedAdapterFactory:
        """The adapter factory of a sharded cluster on the Redis (>= 7.0) at *url*.

        Args:
            key: the channels' prefix (Node's ``channelPrefix``); every node of the cluster uses the same.
            subscription_mode: ``"dynamic"`` (Node's default), ``"dynamic-private"`` or ``"static"``;
                every node of the cluster uses the same.
            requests_timeout: seconds ``fetch_sockets`` and ``all_rooms`` wait for the other nodes.
            connect_timeout: seconds to connect to Redis, and for each command.

        Starting the server raises ``RedisUnavailable`` (naming *url*) when Redis cannot be reached then,
        or refuses sharded pub/sub (older than 7.0).
        """
        link = RedisLink(url, timeout=connect_timeout, sharded=True)
        return RedisShardedAdapterFactory(
            link, key=key, requests_timeout=requests_timeout, subscription_mode=subscription_mode
        )

    async def close(self) -> None:
        """See ``BaseRedisAdapter.close``; the room channels are given up too."""
        rooms, self._room_channels = self._room_channels, {}
        if rooms:
            self._bus.unsubscribe_soon(list(rooms.values()))
        await super().close()

    def _room_changed(self, change: RoomChange, room: str, sid: str | None) -> None:
        # The room registry's RoomObserver (its task; never waits, never raises): a room's channel is heard
        # while the room exists here, its owner's own room excepted in the "dynamic" mode.
        if change is RoomChange.DELETED:
            channel = self._room_channels.pop(room, None)
            if channel is not None:
                self._bus.unsubscribe_soon([channel])
            return
        private = self.channels.mode is SubscriptionMode.DYNAMIC_PRIVATE
        wanted = change is RoomChange.CREATED if private else change is RoomChange.JOINED and room != sid
        if wanted and room not in self._room_channels:
            channel = self._room_channels[room] = self.channels.room(room)
            self._bus.subscribe_soon({channel: self._on_room})

    async def all_rooms(self) -> set[str]:
        """See ``Adapter.all_rooms``: this node's rooms and those of every other node's sockets."""

        def ask(request_id: str) -> FetchSockets:
            return FetchSockets(
                uid=self.uid, nsp=self._ns.path, request_id=request_id, recipients=Recipients()
            )

        def remote(answers: list[Any]) -> set[str]:
            return {
                room
                for answer in answers
                if isinstance(answer, FetchSocketsResponse)
                for socket in answer.sockets
                for room in socket.rooms
            }

        answers = await self._ask("all_rooms", ask, self.requests_timeout, remote)
        return await self.local.all_rooms() | remote(answers)
