"""Fixtures of the cluster tests: a real redis-server, started per session (or per test, for fault tests)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from node_cluster import NODE, NODE_MISSING, NodeCluster
from redis_server import MISSING_REASON, REDIS_SERVER, RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server shared by the session's tests (pub/sub keeps no state between them)."""
    if REDIS_SERVER is None:
        pytest.skip(MISSING_REASON)
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's redis-server, ``redis://127.0.0.1:<port>``."""
    return redis_server.url


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test alone, which the test may stop and restart."""
    if REDIS_SERVER is None:
        pytest.skip(MISSING_REASON)
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cluster_key() -> str:
    """A key prefix of this test alone, so that tests sharing the redis-server never hear each other."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def adapter_kind() -> str:
    """Which Redis adapter the cluster uses: ``classic`` unless the test parametrizes it."""
    return "classic"


@pytest.fixture
def node_cluster(redis_url: str, cluster_key: str, adapter_kind: str) -> Iterator[NodeCluster]:
    """A Node socket.io server with @socket.io/redis-adapter on the session's Redis, and its clients."""
    if NODE is None:
        pytest.skip(NODE_MISSING)
    cluster = NodeCluster(redis_url, cluster_key, adapter_kind)
    try:
        yield cluster
    finally:
        cluster.stop()
