"""The console's cluster panel: a Redis link's state, figures and errors, folded from its ``CLUSTER_*``
records (as ``runtime/cluster/_link.py`` writes them) and rendered into rich's recording console."""

from __future__ import annotations

import io
import re

from rich.console import Console

from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.cluster._link import OUTBOX_SIZE, channel_kind
from sioactor.runtime.console import ConsoleModel, ViewState, screen
from sioactor.runtime.trace import TraceRecord

LINK = "cluster:redis://127.0.0.1:6379"


def link_record(t: float, kind: TraceKind, detail: str, **fields: object) -> TraceRecord:
    counts: dict[str, object] = {"in": 0, "out": 0, "dropped": 0}
    counts.update(fields.pop("counts", {}))  # type: ignore[call-overload]
    depth = fields.pop("depth", None)
    event = TraceEvent(
        kind=kind,
        actor=LINK,
        actor_kind="cluster",
        detail=detail,
        fields={**counts, **fields},
        depth=depth,  # type: ignore[arg-type]
        capacity=OUTBOX_SIZE if depth is not None else None,
    )
    return TraceRecord(time=t, seq=int(t * 10), event=event)


def stats(t: float, members: int, pending: int, depth: int, **counts: int) -> TraceRecord:
    channels = {
        "broadcast": {"in": 40, "out": 30},
        "request": {"in": 2, "out": 1},
        "response": {"in": 1, "out": 2},
    }
    detail = f"{members} members, {pending} requests in flight"
    return link_record(
        t,
        TraceKind.CLUSTER_STATS,
        detail,
        members=members,
        pending=pending,
        channels=channels,
        depth=depth,
        counts=counts,
    )


def render(model: ConsoleModel, width: int = 200) -> str:
    console = Console(record=True, width=width, height=40, color_system=None, file=io.StringIO())
    console.print(screen(model, ViewState()))
    return console.export_text()


def test_no_link_no_cluster_panel() -> None:
    model = ConsoleModel()
    model.apply(
        TraceRecord(time=1.0, seq=1, event=TraceEvent(kind=TraceKind.SPAWNED, actor="x", actor_kind="y"))
    )
    assert model.clusters == {}
    assert "cluster" not in render(model)


def test_the_panel_shows_state_members_requests_traffic_and_queue() -> None:
    model = ConsoleModel()
    model.apply(link_record(10.0, TraceKind.CLUSTER_CONNECTED, "connected"))
    model.apply(stats(12.0, members=3, pending=2, depth=5, **{"in": 43, "out": 33, "dropped": 0}))
    (link,) = model.clusters.values()
    assert (link.connected, link.since, link.members, link.pending) == (True, 10.0, 3, 2)
    assert (link.messages_in, link.messages_out, link.depth, link.capacity) == (43, 33, 5, OUTBOX_SIZE)
    assert link.channels == {"broadcast": (40, 30), "request": (2, 1), "response": (1, 2)}
    text = render(model)
    assert re.search(
        rf"{re.escape(LINK)} connected since \S+ \(2 s\) +3 members +2 requests in flight +0 dropped", text
    )
    assert "43 in, 33 out (in/out: broadcast 40/30, request 2/1, response 1/2)" in text
    assert re.search(rf"publish queue \S+ 5/{OUTBOX_SIZE}", text)
    assert model.other_actors() == []  # the panel shows the link, not the actor tree too


def test_a_lost_link_says_why_and_since_when_and_groups_its_errors() -> None:
    model = ConsoleModel()
    model.apply(link_record(10.0, TraceKind.CLUSTER_CONNECTED, "connected"))
    for t, room in ((11.0, "a"), (11.5, "b"), (11.8, "c")):  # a different room's channel each time
        dropped = link_record(
            t, TraceKind.CLUSTER_DROPPED, f"socket.io#/#{room}#: not msgpack", counts={"dropped": 1}
        )
        model.apply(dropped)
    lost = "Error 111 connecting to 127.0.0.1:6379. Connection refused."
    model.apply(link_record(12.0, TraceKind.CLUSTER_DISCONNECTED, lost, counts={"dropped": 3}))
    model.apply(link_record(12.5, TraceKind.CLUSTER_DISCONNECTED, lost, counts={"dropped": 3}))
    model.tick(20.0)
    (link,) = model.clusters.values()
    assert (link.connected, link.since, link.reason, link.dropped) == (False, 12.0, lost, 3)
    assert [group.count for group in link.errors.values()] == [3, 2]
    text = render(model)
    assert re.search(rf"DISCONNECTED since \S+ \(8 s\): {re.escape(lost)} +\? members", text)
    assert "3 dropped" in text
    assert "[x3 in 1 s] cluster_dropped socket.io#/#c#: not msgpack" in text
    assert f"[x2 in 0 s] cluster_disconnected {lost}" in text
    assert model.errors == 5

    model.apply(link_record(13.0, TraceKind.CLUSTER_CONNECTED, "subscriptions renewed"))
    assert (link.connected, link.since, link.reason) == (True, 13.0, None)


def test_a_late_console_learns_the_state_from_the_stats() -> None:
    model = ConsoleModel()
    model.apply(stats(5.0, members=2, pending=0, depth=0))
    (link,) = model.clusters.values()
    assert (link.connected, link.since) == (True, None)
    assert re.search(rf"{re.escape(LINK)} connected +2 members", render(model))


def test_a_worker_restart_forgets_its_link() -> None:
    model = ConsoleModel()
    record = stats(5.0, members=2, pending=0, depth=0)
    record.event.actor = f"{LINK}@w1"
    model.apply(record)
    model.forget_worker("@w1")
    assert model.clusters == {}


def test_channel_kinds_are_few_whatever_the_channel() -> None:
    kinds = {
        "socket.io#/#": "broadcast",
        "socket.io#/chat#room-request#": "broadcast",
        "socket.io-request#/#": "request",
        "socket.io-response#/#": "response",
        "socket.io-response#/#uid#": "response",
        "my-app-forward#node#": "forward",
        "my-app#/#": "broadcast",
    }
    assert {channel: channel_kind(channel) for channel in kinds} == kinds
