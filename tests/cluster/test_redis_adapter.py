"""sioactor's Redis adapters in a mixed cluster, against the real thing: a real redis-server, a Node socket.io
4.8 server with @socket.io/redis-adapter 8.3 (classic ``createAdapter`` or ``createShardedAdapter``) and a
sioactor server (the reference server, on asyncio or trio) on the same Redis, real socket.io-client clients
on each; every operation started from each side."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mixed_cluster import Clients, Server
from node_cluster import ADAPTER_KINDS, NODE, NODE_MISSING


@pytest.fixture(params=["asyncio", "trio"])
def py_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clients() -> Iterator[Clients]:
    if NODE is None:
        pytest.skip(NODE_MISSING)
    driver = Clients()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture
def mixed(
    redis_url: str, cluster_key: str, py_backend: str, adapter_kind: str
) -> Iterator[tuple[Server, Server]]:
    """A sioactor node ``py`` and a Node node ``js`` in one cluster."""
    if NODE is None:
        pytest.skip(NODE_MISSING)
    py = Server.python(redis_url, cluster_key, "py", py_backend, adapter=adapter_kind)
    try:
        js = Server.node(redis_url, cluster_key, "js", adapter=adapter_kind)
    except BaseException:
        py.stop()
        raise
    try:
        yield py, js
    finally:
        js.stop()
        py.stop()


def eventually(fetch: Callable[[], Any], expected: Any, timeout: float = 5) -> None:
    """Pub/sub is asynchronous: a join published by one node reaches the others a moment later (so it
    does between Node servers too); *fetch* is retried until it returns *expected*."""
    deadline = time.monotonic() + timeout
    while (got := fetch()) != expected:
        assert time.monotonic() < deadline, f"{got!r} != {expected!r}"
        time.sleep(0.05)


def _connect_four(clients: Clients, py: Server, js: Server) -> dict[str, str]:
    for name, server in (("p1", py), ("p2", py), ("n1", js), ("n2", js)):
        clients.connect(name, server)
    return clients.sids


@pytest.mark.parametrize("adapter_kind", ADAPTER_KINDS)
def test_every_operation_both_ways(mixed: tuple[Server, Server], clients: Clients) -> None:
    py, js = mixed
    sids = _connect_four(clients, py, js)
    assert clients.ask("p1", "who") == "py"
    assert clients.ask("n1", "who") == "js"
    assert clients.ask("p1", "server_count") == 2
    assert clients.ask("n1", "server_count") == 2

    # socket.data, fetched from both sides, with rooms
    assert clients.ask("p1", "set_data", {"lang": "py"}) is True
    assert clients.ask("n1", "set_data", {"lang": "js", "n": [1, 2]}) is True
    everyone = sorted(
        [
            {"id": sids["p1"], "rooms": [sids["p1"]], "data": {"lang": "py"}},
            {"id": sids["p2"], "rooms": [sids["p2"]], "data": {}},
            {"id": sids["n1"], "rooms": [sids["n1"]], "data": {"lang": "js", "n": [1, 2]}},
            {"id": sids["n2"], "rooms": [sids["n2"]], "data": {}},
        ],
        key=lambda d: str(d["id"]),
    )
    assert clients.ask("p1", "cluster_fetch", None) == everyone
    assert clients.ask("n1", "cluster_fetch", None) == everyone

    # sockets_join / sockets_leave from each side, seen from the other
    assert clients.ask("p2", "cluster_join", "both", None) is True
    expected_both = sorted(sids.values())
    eventually(lambda: [s["id"] for s in clients.ask("n2", "cluster_fetch", "both")], expected_both)
    assert clients.ask("n2", "cluster_leave", "both", sids["p1"]) is True
    without_p1 = sorted(sid for name, sid in sids.items() if name != "p1")
    eventually(lambda: [s["id"] for s in clients.ask("p2", "cluster_fetch", "both")], without_p1)
    assert clients.ask("n1", "cluster_join", "vip", sids["p2"]) is True
    assert clients.ask("p1", "cluster_join", "vip", sids["n2"]) is True
    rooms = sorted({*sids.values(), "both", "vip"})
    eventually(lambda: clients.ask("p1", "cluster_rooms"), rooms)
    eventually(lambda: clients.ask("n1", "cluster_rooms"), rooms)
    vip = sorted(
        [[sids["p2"], sorted([sids["p2"], "both", "vip"])], [sids["n2"], sorted([sids["n2"], "both", "vip"])]]
    )
    eventually(lambda: [[s["id"], s["rooms"]] for s in clients.ask("p1", "cluster_fetch", "vip")], vip)

    # server-side emits with acks: answers from every other node
    assert clients.ask("p1", "cluster_sse", {"q": 1}) == [{"server": "js", "payload": {"q": 1}}]
    assert clients.ask("n1", "cluster_sse", [2]) == [{"server": "py", "payload": [2]}]

    # broadcasts, to all, to a room, with binary, from each side
    clients.send("p1", "bcast", "from-py", b"\x01\x02\xff")
    for name in sids:
        assert clients.wait_event(name, "bcast") == ["from-py", b"\x01\x02\xff"]
    clients.send("n1", "bcast", "from-js", {"b": b"\x00"})
    for name in sids:
        assert clients.wait_event(name, "bcast", count=2) == ["from-js", {"b": b"\x00"}]
    clients.send("p1", "to_room", "vip", "vip-news", 1)
    clients.send("n1", "to_room", "vip", "vip-news", 2)
    for name in ("p2", "n2"):
        clients.wait_event(name, "vip-news", count=2)
    for name in ("p1", "n1"):
        assert clients.events(name, "vip-news") == []

    # broadcast with acks: every client of every node answers
    answers = sorted(
        [{"client": name, "event": "poll", "args": ["q"]} for name in sids], key=lambda d: str(d["client"])
    )
    got = clients.ask("p1", "cluster_emit_ack", "poll", "q")
    assert sorted(got, key=lambda d: str(d["client"])) == answers
    got = clients.ask("n1", "cluster_emit_ack", "poll", "q")
    assert sorted(got, key=lambda d: str(d["client"])) == answers

    # disconnect_sockets from each side
    assert clients.ask("p1", "cluster_disconnect", sids["n2"]) is True
    assert clients.wait_disconnect("n2") == "io server disconnect"
    assert clients.ask("n1", "cluster_disconnect", sids["p2"]) is True
    assert clients.wait_disconnect("p2") == "io server disconnect"
    remaining = sorted([sids["p1"], sids["n1"]])
    eventually(lambda: [s["id"] for s in clients.ask("p1", "cluster_fetch", None)], remaining)


@pytest.mark.parametrize("mode", ["static", "dynamic", "dynamic-private"])
def test_sharded_subscription_modes_with_node(
    redis_url: str, cluster_key: str, clients: Clients, mode: str
) -> None:
    # In each mode the publisher picks the channel of a one-room broadcast (a room's own channel, or the
    # main one) and the holders of the room must hear it: a public room and a socket's own room, both ways.
    if NODE is None:
        pytest.skip(NODE_MISSING)
    py = Server.python(
        redis_url, cluster_key, "py", "trio", "--redis-subscription-mode", mode, adapter="sharded"
    )
    try:
        js = Server.node(redis_url, cluster_key, "js", adapter="sharded", mode=mode)
    except BaseException:
        py.stop()
        raise
    try:
        sids = {name: clients.connect(name, server) for name, server in (("p1", py), ("n1", js))}
        assert clients.ask("p1", "join", "room") is not None
        assert clients.ask("n1", "join", "room") is not None
        clients.send("p1", "to_room", "room", "from-py", 1)
        clients.send("n1", "to_room", "room", "from-js", 2)
        assert clients.wait_event("n1", "from-py") == [1]
        assert clients.wait_event("p1", "from-js") == [2]
        clients.send("p1", "to_room", sids["n1"], "private-from-py", 3)
        clients.send("n1", "to_room", sids["p1"], "private-from-js", 4)
        assert clients.wait_event("n1", "private-from-py") == [3]
        assert clients.wait_event("p1", "private-from-js") == [4]
    finally:
        js.stop()
        py.stop()
