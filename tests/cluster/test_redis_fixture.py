"""The redis-server fixture serves real pub/sub through coredis, on both anyio backends, and restarts."""

from __future__ import annotations

import anyio
import coredis
import pytest
from redis_server import RedisServer

pytestmark = pytest.mark.anyio


async def test_publish_reaches_a_subscriber_with_binary_intact(redis_url: str) -> None:
    payload = bytes(range(256))
    with anyio.fail_after(5):
        client = coredis.Redis.from_url(redis_url, decode_responses=False)
        async with client, client.pubsub(channels=["fixture-check"]) as pubsub:
            assert await client.pubsub_numsub("fixture-check") == {b"fixture-check": 1}
            await client.publish("fixture-check", payload)
            async for message in pubsub:
                if message["type"] == "message":
                    assert message["data"] == payload
                    break


async def test_restart_keeps_the_port(own_redis_server: RedisServer) -> None:
    own_redis_server.restart()
    with anyio.fail_after(5):
        async with coredis.Redis.from_url(own_redis_server.url, decode_responses=False) as client:
            assert await client.ping() in (b"PONG", "PONG")
