"""The console's model and views: what a trace says shows up, rendered into rich's recording console."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from rich.console import Console

from sioactor import FilterError
from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.console import (
    ConsoleApp,
    ConsoleModel,
    LogFilter,
    ReplayControl,
    ViewState,
    replay_file,
    screen,
)
from sioactor.runtime.console._keys import decode_keys
from sioactor.runtime.trace import (
    ActorStats,
    StatsRecord,
    TraceRecord,
    encode_control,
    encode_record,
    encode_stats,
)

SID = "AAAAAAAAAAAAAAAAAAAA"
ENGINE = "EEEEEEEEEEEEEEEEEEEE"
SOCKET = f"socket:/chat:{SID}"


def rec(t: float, kind: TraceKind, actor: str, actor_kind: str, **kw: object) -> TraceRecord:
    event = TraceEvent(kind=kind, actor=actor, actor_kind=actor_kind, **kw)  # type: ignore[arg-type]
    return TraceRecord(time=t, seq=int(t * 10), event=event)


def session() -> list[TraceRecord]:
    return [
        rec(1.0, TraceKind.SPAWNED, ENGINE, "engine_session", depth=0, capacity=128),
        rec(1.1, TraceKind.UPGRADE, ENGINE, "engine_session", detail="polling -> websocket"),
        rec(
            1.2,
            TraceKind.SPAWNED,
            SOCKET,
            "socket",
            fields={"engine": ENGINE, "transport": "polling", "protocol": 5},
        ),
        rec(1.3, TraceKind.ROOM_JOIN, SOCKET, "socket", detail="['lobby', 'vip']"),
        rec(1.4, TraceKind.ENQUEUED, SOCKET, "socket", message="EventReceived", fields={"event": "chat"}),
        rec(1.5, TraceKind.ENQUEUED, ENGINE, "engine_session", message="str", depth=96, capacity=128),
        rec(1.6, TraceKind.ACK_REQUESTED, SOCKET, "socket", detail="7"),
        rec(1.65, TraceKind.ACK_SENT, SOCKET, "socket", detail="3"),  # an answer: nothing pending
        rec(1.7, TraceKind.MAILBOX_FULL, SOCKET, "socket", message="EventReceived", depth=32, capacity=32),
        rec(1.8, TraceKind.HANDLER_FAILED, SOCKET, "socket", detail="ValueError('boom')"),
        rec(1.9, TraceKind.ROOM_LEAVE, SOCKET, "socket", detail="'vip'"),
    ]


def render(model: ConsoleModel, state: ViewState | None = None, width: int = 160) -> str:
    console = Console(record=True, width=width, height=40, color_system=None, file=io.StringIO())
    console.print(screen(model, state or ViewState()))
    return console.export_text()


def test_model_follows_the_session() -> None:
    model = ConsoleModel()
    model.apply_all(session())
    (socket,) = model.live_sockets()
    assert (socket.namespace, socket.sid, socket.engine, socket.protocol) == ("/chat", SID, ENGINE, 5)
    assert socket.rooms == {SID, "lobby"}
    assert socket.pending_acks == {"7": 1.6}
    assert model.transport_of(socket) == "websocket"
    assert (model.mailbox_full, model.errors) == (1, 2)
    assert model.rooms("/chat") == {"lobby": [SID]}
    assert model.actors[ENGINE].depth == 96
    assert model.rate_in.rate(1.9) == pytest.approx(1 / 5)
    assert model.rate_out.rate(1.9) == pytest.approx(1 / 5)
    assert model.rate_out.rate(10.0) == 0


def test_main_screen_shows_tree_gauges_log_and_summary() -> None:
    model = ConsoleModel()
    model.apply_all(session())
    text = render(model)
    assert "namespace /chat  (1 sockets)" in text
    assert f"room lobby (1): {SID[:8]}" in text
    assert f"socket {SID}" in text
    assert "engine EEEEEEEE websocket" in text
    assert "████████░░ 96/128" in text  # the engine session's outbox at 75 %
    assert "handler_failed ValueError('boom')" in text
    assert "connections 1" in text
    assert "mailbox full 1" in text
    assert "errors 2" in text


def test_socket_drill_down() -> None:
    model = ConsoleModel()
    model.apply_all(session())
    text = render(model, ViewState(drilled=True))
    assert "connected" in text
    assert "websocket" in text
    assert "lobby" in text
    assert re.search(r"pending acks +7", text)
    assert "mailbox_full EventReceived 32/32" in text


def test_stopped_socket_leaves_the_tree() -> None:
    model = ConsoleModel()
    model.apply_all(session())
    model.apply(rec(2.0, TraceKind.STOPPED, SOCKET, "socket", detail="client namespace disconnect"))
    assert model.live_sockets() == []
    assert "namespace /chat" not in render(model)


def test_log_filters() -> None:
    model = ConsoleModel()
    model.apply_all(session())
    errors = render(model, ViewState(log_filter=LogFilter.parse("errors")))
    assert "handler_failed" in errors
    assert "room_join" not in errors
    chat = render(model, ViewState(log_filter=LogFilter.parse("event=chat")))
    assert "enqueued 'chat'" in chat
    assert "upgrade" not in chat
    by_kind = render(model, ViewState(log_filter=LogFilter.parse("kind=engine_session ns=/nope")))
    assert "upgrade" not in by_kind
    room = LogFilter.parse(f"room=lobby sid={SID[:4]}")
    assert all(room.matches(e, model) for e in model.log if e.actor == SOCKET)
    with pytest.raises(FilterError, match="sid="):
        LogFilter.parse("colour=red")


def test_keys_decode_and_drive_the_view() -> None:
    assert decode_keys("\x1b[Aq\r\x1b/") == ["up", "q", "enter", "esc", "/"]
    app = ConsoleApp(Console(file=io.StringIO()))
    app.model.apply_all(session())
    for key in ["/", "e", "v", "e", "n", "t", "=", "x", "enter", "enter", "p"]:
        app.key(key)
    assert app.state.log_filter == LogFilter(event="x")
    assert (app.state.drilled, app.state.paused) == (True, True)


@pytest.mark.anyio
async def test_replay_steps_through_a_recorded_file(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(b"".join(encode_record(r) for r in session()) + encode_control("lost", count=3))
    control = ReplayControl(speed=0)
    app = ConsoleApp(Console(file=io.StringIO()), replay=control)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(replay_file, path, app, control)
            await until(lambda: app.model.records == 1)
            await anyio.sleep(0.05)
            assert app.model.records == 1  # step mode: nothing more until a key
            app.key(" ")
            await until(lambda: app.model.records == 2)
            await anyio.sleep(0.05)
            assert app.model.records == 2
            app.key("+")  # leave step mode: play the rest fast
            control.speed = 1000.0
            control.step()
    assert app.model.records == len(session())
    assert app.model.lost == 3
    assert "finished" in app.state.status


async def until(condition: Callable[[], bool]) -> None:
    # File reads run in worker threads, which wait_all_tasks_blocked() does not wait for.
    while not condition():  # noqa: ASYNC110 (no event to wait for: the reader is a thread)
        await anyio.sleep(0.005)


def test_leave_all_empties_the_rooms_and_a_stop_clears_pending_acks() -> None:
    model = ConsoleModel()
    model.apply_all(session())
    model.apply(rec(2.0, TraceKind.ROOM_LEAVE, SOCKET, "socket", detail="*", fields={"rooms": None}))
    (socket,) = model.live_sockets()
    assert socket.rooms == set()
    model.apply(rec(2.1, TraceKind.STOPPED, SOCKET, "socket", detail="transport_close"))
    assert socket.pending_acks == {}
    assert model.actors[SOCKET].stop_reason == "transport_close"


def test_transport_comes_from_the_spawn_until_an_upgrade() -> None:
    model = ConsoleModel()
    fields = {"engine": "E2", "transport": "websocket", "protocol": 5}
    model.apply(rec(1.0, TraceKind.SPAWNED, "socket:/:S2", "socket", fields=fields))
    model.apply(rec(1.1, TraceKind.SPAWNED, "socket:/:S3", "socket"))
    by_sid = {s.sid: s for s in model.live_sockets()}
    assert model.transport_of(by_sid["S2"]) == "websocket"
    assert (by_sid["S3"].engine, model.transport_of(by_sid["S3"])) == (None, "?")


def stats_record(t: float, *actors: ActorStats) -> StatsRecord:
    return StatsRecord(time=t, interval=0.25, actors=actors)


def busy_socket(enqueued: int) -> ActorStats:
    return ActorStats(
        actor=SOCKET,
        actor_kind="socket",
        enqueued=enqueued,
        handled=enqueued,
        messages={"EventReceived": enqueued},
        depth=1,
        depth_max=7,
        capacity=32,
        handling=enqueued * 0.002,
        handling_max=0.005,
        last="chat",
    )


def test_stats_give_rates_gauges_and_handling_times() -> None:
    model = ConsoleModel()
    model.apply_all(session()[:3])
    model.apply_stats(stats_record(0.0))  # a summarised stream starts with an empty one
    model.apply_stats(stats_record(2.0, busy_socket(10)))
    engine = ActorStats(actor=ENGINE, actor_kind="engine_session", enqueued=20, messages={"str": 20}, depth=3)
    model.apply_stats(stats_record(2.25, busy_socket(5), engine))
    # A per-message record the console asked for (drill-down) feeds the log, not the counts again.
    model.apply(session()[4])
    socket = model.actors[SOCKET]
    assert (socket.enqueued, socket.handled, socket.depth, socket.depth_max, socket.last) == (
        15,
        15,
        1,
        7,
        "chat",
    )
    assert socket.handling_mean == pytest.approx(0.002)
    assert model.rate_in.rate(2.25) == pytest.approx(15 / 5)
    assert model.rate_out.rate(2.25) == pytest.approx(20 / 5)
    assert model.actors[ENGINE].depth == 3
    assert "enqueued 'chat'" in render(model)
    main = render(model)
    assert "peak 7" in main
    assert "2.00 ms" in main
    drilled = render(model, ViewState(drilled=True))
    assert re.search(r"messages +15 in, 15 handled, 3\.0/s; handling 2\.00 ms mean, 5\.00 ms max", drilled)


@pytest.mark.anyio
async def test_replay_of_a_summarised_file(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    lines = [encode_stats(stats_record(1.0)), *(encode_record(r) for r in session()[:3])]
    lines += [encode_stats(stats_record(2.0, busy_socket(4))), encode_record(session()[4])]
    path.write_bytes(b"".join(lines))
    control = ReplayControl(speed=1000.0)
    app = ConsoleApp(Console(file=io.StringIO()), replay=control)
    with anyio.fail_after(5):
        await replay_file(path, app, control)
    assert app.model.summarised
    assert app.model.actors[SOCKET].enqueued == 4  # from the stats; the record only logs


def test_filters_and_drill_down_ask_for_message_records() -> None:
    model = ConsoleModel()
    model.apply_all(session())
    assert LogFilter().actor_patterns(model) == ()
    assert LogFilter.parse("errors").actor_patterns(model) == ()
    assert LogFilter.parse("sid=AB").actor_patterns(model) == ("socket:*:AB*", "AB*")
    assert LogFilter.parse("room=lobby").actor_patterns(model) == (SOCKET,)
    assert LogFilter.parse("ns=/chat trace=kind:rooms").actor_patterns(model) == (
        "kind:rooms",
        "socket:/chat:*",
    )
    assert LogFilter.parse("event=chat").actor_patterns(model) == ("kind:socket",)
    app = ConsoleApp(Console(file=io.StringIO()), messages=("kind:namespace",))
    app.model.apply_all(session())
    assert app.request.patterns == ("kind:namespace",)
    app.key("enter")
    assert app.request.patterns == ("kind:namespace", SOCKET, ENGINE)
    assert f"messages of: kind:namespace, {SOCKET}" in render(app.model, app.state, width=400)
    app.key("esc")
    assert app.request.patterns == ("kind:namespace",)
    assert b'"actors":["kind:namespace"]' in app.request.line()
