"""Scaling out through Redis: the emitter (and, next, the adapter) of a Socket.IO cluster.

Layer rule: this package may import ``sioactor.protocol`` and ``sioactor.actors``; it alone (with the
adapter to come) talks to Redis, through coredis, the optional ``sioactor[redis]`` extra, imported only
when a Redis connection is opened, so that ``import sioactor`` works without it.
"""

from sioactor._errors import RedisUnavailable
from sioactor.runtime.cluster._emitter import EmitterOperators, RedisEmitter, SyncRedisEmitter

__all__ = ("EmitterOperators", "RedisEmitter", "RedisUnavailable", "SyncRedisEmitter")
