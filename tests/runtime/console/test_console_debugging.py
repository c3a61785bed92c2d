"""The console under real debugging: the drill-down follows its socket, a slow consumer shows on its socket,
identical errors are one line, a paused display says so, the tree scrolls, a late console counts as an
early one, and the command line explains bad input instead of a traceback."""

from __future__ import annotations

import io
import re
from pathlib import Path

import anyio
import pytest
from rich.console import Console
from rich.live import Live

from sioactor.__main__ import main
from sioactor.actors._trace import TraceEvent, TraceKind
from sioactor.runtime.console import ConsoleApp, ConsoleModel, ViewState, follow_endpoint, screen
from sioactor.runtime.console._views import actor_tree
from sioactor.runtime.socketio import SocketIo, SocketIoConfig
from sioactor.runtime.trace import StatsRecord, TraceEndpoint, TraceHub, TraceRecord, encode_record

ENGINE = "E" * 20


def rec(t: float, kind: TraceKind, actor: str, actor_kind: str, **kw: object) -> TraceRecord:
    event = TraceEvent(kind=kind, actor=actor, actor_kind=actor_kind, **kw)  # type: ignore[arg-type]
    return TraceRecord(time=t, seq=int(t * 1000), event=event)


def spawn(t: float, sid: str, engine: str | None = None) -> TraceRecord:
    fields = {"engine": engine or sid.lower(), "transport": "websocket", "protocol": 5}
    return rec(t, TraceKind.SPAWNED, f"socket:/:{sid}", "socket", fields=fields, depth=0, capacity=128)


def stop(t: float, sid: str) -> TraceRecord:
    return rec(t, TraceKind.STOPPED, f"socket:/:{sid}", "socket", detail="transport close")


def render(
    app_or_model: ConsoleApp | ConsoleModel, state: ViewState | None = None, *, width: int = 160, **kw: int
) -> str:
    model = app_or_model.model if isinstance(app_or_model, ConsoleApp) else app_or_model
    if state is None:
        state = app_or_model.state if isinstance(app_or_model, ConsoleApp) else ViewState()
    console = Console(record=True, width=width, height=40, color_system=None, file=io.StringIO())
    console.print(screen(model, state, **kw))  # type: ignore[arg-type]
    return console.export_text()


def test_the_drill_down_follows_its_socket_and_says_when_it_disconnects() -> None:
    app = ConsoleApp(Console(file=io.StringIO()))
    app.model.apply_all([spawn(1.0, "AAA"), spawn(1.1, "BBB"), spawn(1.2, "CCC")])
    app.key("down")
    app.key("enter")
    assert re.search(r"socket +BBB on /", render(app))
    app.model.apply(stop(2.0, "AAA"))  # the socket above it leaves: the list moves, the view does not
    app.key("x")  # any key (the frame's own tick does the same)
    assert re.search(r"socket +BBB on /", render(app))
    app.model.apply(stop(3.0, "BBB"))
    app.key("x")
    text = render(app)
    assert re.search(r"socket +BBB on /", text)
    assert "disconnected (transport close)" in text
    assert "socket CCC" not in text
    app.key("esc")  # back in the tree, the cursor is on a live socket again
    assert app.state.focus == "socket:/:CCC"


def test_the_cursor_stays_on_its_socket_when_others_come_and_go() -> None:
    app = ConsoleApp(Console(file=io.StringIO()))
    app.model.apply_all([spawn(1.0, "BBB"), spawn(1.1, "CCC")])
    app.key("down")
    assert app.state.focus == "socket:/:CCC"
    app.model.apply(spawn(2.0, "AAA"))  # sorts first
    app.key("x")
    assert (app.state.focus, app.state.selected) == ("socket:/:CCC", 2)


def test_a_slow_consumer_shows_on_its_socket_with_identical_errors_grouped() -> None:
    model = ConsoleModel()
    model.apply(rec(1.0, TraceKind.SPAWNED, ENGINE, "engine_session", depth=0, capacity=128))
    model.apply(spawn(1.1, "AAA", engine=ENGINE))
    for n in range(420):
        model.apply(
            rec(
                2.0 + n * 0.05,
                TraceKind.MAILBOX_FULL,
                ENGINE,
                "engine_session",
                message="str",
                depth=128,
                capacity=128,
                detail="InternalChannelFull",
            )
        )
    model.apply(
        rec(
            23.0,
            TraceKind.HANDLER_FAILED,
            "socket:/:AAA",
            "socket",
            message="EventReceived",
            fields={"event": "chat"},
            detail="InternalChannelFull('socket:/:AAA', 'mailbox full')",
        )
    )
    text = render(model, ViewState(drilled=True))
    assert re.search(r"outbox +██████████ 128/128  full x420", text)
    assert "engine: socket AAA: mailbox_full str 128/128 InternalChannelFull" in text
    assert "engine: [x420 in 21 s] socket AAA: mailbox_full str 128/128 InternalChannelFull" in text
    assert "handler_failed 'chat' EventReceived InternalChannelFull(" in text
    from sioactor.runtime.console import LogFilter

    errors = render(model, ViewState(log_filter=LogFilter.parse("errors")), width=300)
    assert errors.count("mailbox_full") == 1
    assert "[x420 in 21 s] socket AAA: mailbox_full str 128/128 InternalChannelFull" in errors


def test_the_tree_scrolls_with_the_cursor() -> None:
    model = ConsoleModel()
    sids = [f"S{n:03d}" for n in range(30)]
    model.apply_all(spawn(1.0 + n, sid) for n, sid in enumerate(sids))
    console = Console(record=True, width=160, color_system=None, file=io.StringIO())
    console.print(actor_tree(model, 20, rows=5))
    text = console.export_text()
    assert f"socket {sids[20]}" in text
    assert f"socket {sids[17]}" not in text
    assert f"socket {sids[23]}" not in text
    assert "↑ 18 more sockets" in text
    assert "↓ 7 more sockets" in text
    app = ConsoleApp(Console(file=io.StringIO(), height=30))
    app.model.apply_all(spawn(1.0 + n, sid) for n, sid in enumerate(sids))
    for _ in range(29):
        app.key("down")
    assert f"socket {sids[29]}" in render(app, tree_rows=5)


@pytest.mark.anyio
async def test_a_live_pause_is_shown_and_holds_the_display() -> None:
    out = io.StringIO()
    console = Console(file=out, width=160, height=30, color_system=None, force_terminal=True)
    app = ConsoleApp(console)
    app.model.apply(spawn(1.0, "AAA"))
    with Live(app.frame(), console=console, auto_refresh=False) as live:
        async with anyio.create_task_group() as tg:
            tg.start_soon(app._redraw, live)
            await anyio.sleep(0.3)
            app.key("p")
            await anyio.sleep(0.6)
            assert "PAUSED" in out.getvalue()
            drawn = len(out.getvalue())
            app.model.apply(spawn(2.0, "BBB"))  # the model keeps up; the display holds still
            app.record(spawn(2.1, "CCC"))
            await anyio.sleep(0.6)
            assert len(out.getvalue()) == drawn
            tg.cancel_scope.cancel()


def test_totals_since_start_make_late_consoles_agree() -> None:
    hub = TraceHub()
    for n in range(3):
        hub.record(
            TraceEvent(kind=TraceKind.HANDLER_FAILED, actor="socket:/:A", actor_kind="socket", detail=f"{n}")
        )
    counter = hub.message_counter("socket:/:A", "socket", 8, None)
    early, late = ConsoleModel(), ConsoleModel()
    early.apply_totals(hub.totals())
    with hub.subscribe(messages=(), summaries=True) as first:
        early.apply_stats(first.receive_nowait())  # type: ignore[arg-type]
        for _ in range(5):
            counter.enqueued("m", 1)
            counter.handled(0.001, 0)
        hub.flush()
        early.apply_stats(first.receive_nowait())  # type: ignore[arg-type]
        hub.record(TraceEvent(kind=TraceKind.MAILBOX_FULL, actor="E", actor_kind="engine_session"))
        early.apply(first.receive_nowait())  # type: ignore[arg-type]
        late.apply_totals(hub.totals())
        with hub.subscribe(messages=(), summaries=True) as second:
            totals = second.receive_nowait()
            assert isinstance(totals, StatsRecord)
            assert totals.totals
            late.apply_stats(totals)
    assert (early.errors, early.mailbox_full) == (late.errors, late.mailbox_full) == (4, 1)
    assert early.actors["socket:/:A"].enqueued == late.actors["socket:/:A"].enqueued == 5
    assert late.rate_in.rate(late.now) == 0  # totals are no traffic


def test_a_fixed_trace_token_comes_from_the_config() -> None:
    io_ = SocketIo(SocketIoConfig(trace_endpoint="127.0.0.1:0", trace_token="s3cret"))
    assert io_.trace_endpoint is not None
    assert io_.trace_endpoint.token == "s3cret"
    assert io_.trace_endpoint.console_command.endswith("--token s3cret")


@pytest.mark.anyio
async def test_a_console_reconnects_across_a_restart_with_the_same_token() -> None:
    class Feed:
        hellos = 0

        def connected(self, hello: dict[str, object]) -> None:
            self.hellos += 1

        def record(self, record: TraceRecord) -> None: ...
        def stats(self, record: StatsRecord) -> None: ...
        def lost(self, count: int) -> None: ...
        def status(self, text: str) -> None: ...

    feed = Feed()
    first = TraceEndpoint(TraceHub(), token="fixed")
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            async with anyio.create_task_group() as serving:
                address = await serving.start(first.serve)
                tg.start_soon(lambda: follow_endpoint(address, "fixed", feed, retry=0.05))
                while feed.hellos < 1:  # noqa: ASYNC110 (the feed is a plain object)
                    await anyio.sleep(0.01)
                serving.cancel_scope.cancel()  # the server stops ...
            again = TraceEndpoint(TraceHub(), port=first.port, token="fixed")  # ... and starts again
            async with anyio.create_task_group() as serving:
                await serving.start(again.serve)
                while feed.hellos < 2:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
                serving.cancel_scope.cancel()
            tg.cancel_scope.cancel()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--connect", "localhost", "--token", "t"], "'localhost' is not HOST:PORT (e.g. localhost:PORT"),
        (["--connect", "localhost:http", "--token", "t"], "is not HOST:PORT"),
        (["--replay", "/nonexistent/missing.jsonl"], "cannot read /nonexistent/missing.jsonl"),
    ],
)
def test_bad_command_lines_say_what_is_wrong(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["console", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert says in err
    assert "Traceback" not in err


def test_a_garbage_replay_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "notes.jsonl"
    garbage.write_text("this is not\na trace\n")
    with pytest.raises(SystemExit):
        main(["console", "--replay", str(garbage)])
    assert "is not a sioactor trace" in capsys.readouterr().err
    good = tmp_path / "trace.jsonl"
    good.write_bytes(encode_record(spawn(1.0, "AAA")) + b"garbage\n")
    from sioactor.runtime.console._sources import check_replay

    assert check_replay(good) is None


@pytest.mark.anyio
async def test_a_replay_with_unreadable_lines_says_so(tmp_path: Path) -> None:
    from sioactor.runtime.console import ReplayControl, replay_file

    path = tmp_path / "trace.jsonl"
    path.write_bytes(encode_record(spawn(1.0, "AAA")) + b"garbage\n{}\n")
    app = ConsoleApp(Console(file=io.StringIO()), replay=ReplayControl(1000.0))
    with anyio.fail_after(5):
        await replay_file(path, app, ReplayControl(1000.0))
    assert "1 records; 2 unreadable lines skipped" in app.state.status


@pytest.mark.anyio
async def test_a_wrong_token_says_so_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = TraceEndpoint(TraceHub(), token="right")
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            address = await tg.start(endpoint.serve)
            argv = ["console", "--connect", address, "--token", "wrong"]
            code = await anyio.to_thread.run_sync(main, argv)
            tg.cancel_scope.cancel()
    assert code == 2
    err = capsys.readouterr().err
    assert "refused this console (bad or missing token): pass the token the server logged" in err
    assert "TaskGroup" not in err


@pytest.mark.parametrize(
    ("address", "index", "derived"),
    [
        ("127.0.0.1:4000", 0, "127.0.0.1:4000"),
        ("127.0.0.1:4000", 2, "127.0.0.1:4002"),
        ("[::1]:4000", 1, "[::1]:4001"),
        ("4000", 1, "4001"),
        ("127.0.0.1:0", 1, "127.0.0.1:0"),
        ("unix:/tmp/t.sock", 0, "unix:/tmp/t.sock"),
        ("unix:/tmp/t.sock", 3, "unix:/tmp/t.sock.3"),
    ],
)
def test_each_worker_serves_its_trace_at_an_address_derived_from_the_servers(
    address: str, index: int, derived: str
) -> None:
    from sioactor.runtime.trace._record import worker_address

    assert worker_address(address, index) == derived


def test_a_worker_is_asked_only_for_its_own_actors_and_the_shared_patterns() -> None:
    from sioactor.runtime.console._sources import MessageRequest

    request = MessageRequest(("kind:socket", "socket:/:Abc@w0", "Abc@w0", "socket:/:Bxy@w1"))
    assert b'"actors":["kind:socket","socket:/:Abc","Abc"]' in request.line("@w0")
    assert b'"actors":["kind:socket","socket:/:Bxy"]' in request.line("@w1")
    assert b'"socket:/:Bxy@w1"' in request.line()  # a single server: as given


def test_a_worker_that_restarts_is_forgotten_alone() -> None:
    app = ConsoleApp(Console(file=io.StringIO()))
    for worker in (0, 1):
        app.connected({"control": "hello", "pid": 10 + worker, "worker": worker, "workers": 2, "totals": {}})
        app.record(spawn(1.0, f"s{worker}@w{worker}", engine=f"s{worker}@w{worker}"))
    assert app.state.status == "attached to 2 of 2 workers (w0 pid 10, w1 pid 11)"
    app.connected({"control": "hello", "pid": 12, "worker": 1, "workers": 2, "totals": {"failed": 2}})
    assert list(app.model.sockets) == ["socket:/:s0@w0"]
    assert app.model.errors == 2
    assert "w1 pid 12" in app.state.status
