"""Scaling out through Redis: the adapter and the emitter of a Socket.IO cluster.

Layer rule: this package may import ``sioactor.protocol``, ``sioactor.actors`` and
``sioactor.runtime.socketio`` (the adapter interface it implements); it alone talks to Redis, through
coredis, the optional ``sioactor[redis]`` extra, imported only when a Redis connection is opened, so that
``import sioactor`` works without it.
"""

from sioactor._errors import ClusterTimeout, RedisUnavailable
from sioactor.runtime.cluster._adapter import RedisAdapter, RedisAdapterFactory
from sioactor.runtime.cluster._emitter import EmitterOperators, RedisEmitter, SyncRedisEmitter
from sioactor.runtime.cluster._hub_bus import HubBus
from sioactor.runtime.cluster._sharded import RedisShardedAdapter, RedisShardedAdapterFactory

__all__ = (
    "ClusterTimeout",
    "EmitterOperators",
    "HubBus",
    "RedisAdapter",
    "RedisAdapterFactory",
    "RedisEmitter",
    "RedisShardedAdapter",
    "RedisShardedAdapterFactory",
    "RedisUnavailable",
    "SyncRedisEmitter",
)
