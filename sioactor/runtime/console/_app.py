"""``ConsoleApp``: the running console: a source feeding the model, the keyboard, and rich ``Live`` redrawing
the views a few times a second. Pausing freezes the display of a live server (the model keeps up, so
resuming shows the present; a key press still redraws, so the user can move and drill down meanwhile) and
halts a replay; either way the screen says PAUSED.

The cursor follows a socket, not a position: ``ViewState.focus`` names it, and each frame puts the cursor
back on it while it lives, so sockets that come and go above it do not move the user to another one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console
from rich.live import Live

from sioactor._errors import FilterError
from sioactor.runtime.console._filters import LogFilter
from sioactor.runtime.console._keys import raw_terminal, read_keys
from sioactor.runtime.console._model import ConsoleModel
from sioactor.runtime.console._sources import (
    MessageRequest,
    ReplayControl,
    follow_endpoints,
    replay_file,
    worker_suffix,
)
from sioactor.runtime.console._views import ViewState, screen
from sioactor.runtime.trace._record import StatsRecord, TraceRecord

__all__ = ("ConsoleApp", "Source", "live_source", "replay_source")

_FRAME = 0.25

Source = Callable[["ConsoleApp"], Coroutine[Any, Any, None]]


class ConsoleApp:
    """The console: implements ``Feed`` for the sources and reacts to keys.

    Args:
        console: where to draw (a real terminal, or a recording console in tests).
        replay: a ``ReplayControl`` when replaying a file; ``None`` for a live server.
        log_filter: the initial message-log filter.
        messages: patterns of actors whose per-message records to ask a live server for, always.

    Attributes:
        request: what a live source asks the endpoint for: *messages*, the log filter's actors and, while
            drilled down, the selected socket and its engine session.
    """

    def __init__(
        self,
        console: Console,
        *,
        replay: ReplayControl | None = None,
        log_filter: LogFilter | None = None,
        messages: tuple[str, ...] = (),
    ) -> None:
        self.console = console
        self.model = ConsoleModel()
        self.state = ViewState(log_filter=log_filter or LogFilter())
        self.replay = replay
        self.done = anyio.Event()
        self._dirty = True
        self._keyed = False  # a key was pressed since the last frame: a paused display redraws once
        self._messages = messages
        self._workers: dict[str, object] = {}  # a multi-worker server's: worker mark → pid
        self.request = MessageRequest()
        self._update_request()

    # --- Feed -------------------------------------------------------------------------------------------

    def connected(self, hello: dict[str, Any]) -> None:
        """A new connection: forget the previous server's actors (a worker's: that worker's); take its
        totals since start."""
        workers = hello.get("workers")
        if isinstance(workers, int) and workers > 1:
            mark = worker_suffix(hello.get("worker"))
            self.model.forget_worker(mark)
            self.model.apply_totals(hello.get("totals"), mark)
            self._workers[mark] = hello.get("pid", "?")
            pids = ", ".join(f"{m[1:]} pid {pid}" for m, pid in sorted(self._workers.items()))
            self.state.status = f"attached to {len(self._workers)} of {workers} workers ({pids})"
        else:
            self.model.reset()
            self.model.apply_totals(hello.get("totals"))
            where = hello.get("replay") or f"server pid {hello.get('pid', '?')}"
            self.state.status = f"replaying {where}" if "replay" in hello else f"attached to {where}"
        self._dirty = True

    def record(self, record: TraceRecord) -> None:
        """Fold in one record."""
        self.model.apply(record)
        self._dirty = True

    def stats(self, record: StatsRecord) -> None:
        """Fold in one flush of message counters."""
        self.model.apply_stats(record)
        self._dirty = True

    def lost(self, count: int) -> None:
        """The server dropped records for this console."""
        self.model.note_lost(count)

    def status(self, text: str) -> None:
        """Show the source's state."""
        self.state.status = text
        self._dirty = True

    # --- keys -------------------------------------------------------------------------------------------

    def key(self, key: str) -> None:
        """React to one key press."""
        self._dirty = self._keyed = True
        self._key(key)
        self._update_request()

    def _follow_focus(self) -> None:
        # Keep the cursor on the focused socket while it lives; else stay at the position, on its new socket.
        sockets = self.model.live_sockets()
        names = [s.name for s in sockets]
        state = self.state
        if state.focus in names:
            state.selected = names.index(state.focus)
        elif sockets and not state.drilled:
            state.selected = max(0, min(state.selected, len(sockets) - 1))
            state.focus = names[state.selected]

    def _update_request(self) -> None:
        self._follow_focus()
        patterns = [*self._messages, *self.state.log_filter.actor_patterns(self.model)]
        socket = self.model.sockets.get(self.state.focus) if self.state.focus else None
        if self.state.drilled and socket is not None and self.model.actors[socket.name].alive:
            patterns += [socket.name] if socket.engine is None else [socket.name, socket.engine]
        self.request.set(tuple(dict.fromkeys(patterns)))
        self.state.messages = ", ".join(self.request.patterns)

    def _key(self, key: str) -> None:
        if self.state.prompt is not None:
            self._prompt_key(key)
        elif key == "q":
            self.done.set()
        elif key in ("p", " ") and (key == "p" or self.replay is None):
            self._toggle_pause()
        elif key in ("up", "k", "down", "j"):
            self._move(-1 if key in ("up", "k") else 1)
        elif key in ("enter", "right"):
            self._follow_focus()
            self.state.drilled = True
        elif key in ("esc", "left"):
            self.state.drilled = False
            self._follow_focus()
        elif key == "/":
            self.state.prompt = ""
        elif key == "e":
            f = self.state.log_filter
            self.state.log_filter = LogFilter(**{**_as_dict(f), "errors_only": not f.errors_only})
        elif self.replay is not None:
            self._replay_key(key)

    def _toggle_pause(self) -> None:
        self.state.paused = not self.state.paused
        if self.replay is not None:
            self.replay.toggle_pause()

    def _move(self, delta: int) -> None:
        sockets = self.model.live_sockets()
        if not sockets:
            return
        self.state.selected = max(0, min(self.state.selected + delta, len(sockets) - 1))
        self.state.focus = sockets[self.state.selected].name

    def _prompt_key(self, key: str) -> None:
        assert self.state.prompt is not None
        if key == "enter":
            try:
                self.state.log_filter = LogFilter.parse(self.state.prompt)
                self.state.message = ""
            except FilterError as exc:
                self.state.message = str(exc)
            self.state.prompt = None
        elif key == "esc":
            self.state.prompt = None
        elif key == "backspace":
            self.state.prompt = self.state.prompt[:-1]
        elif len(key) == 1:
            self.state.prompt += key

    def _replay_key(self, key: str) -> None:
        assert self.replay is not None
        if key == "+":
            self.replay.speed = max(self.replay.speed, 0.5) * 2
        elif key == "-":
            self.replay.speed = self.replay.speed / 2 if self.replay.speed > 0.25 else 0.0
        elif key == "s":
            self.replay.speed = 0.0
            self.replay.step()
        elif key == " ":
            self.replay.step()
        self.state.message = "step mode: space" if self.replay.speed <= 0 else f"speed x{self.replay.speed:g}"

    # --- running ----------------------------------------------------------------------------------------

    def frame(self) -> Any:
        """The current frame, sized to the terminal."""
        height = self.console.size.height
        # A socket takes about three lines of the tree; the rest is the namespace, room and other lines.
        return screen(
            self.model, self.state, log_lines=max(height - 8, 5), tree_rows=max((height - 14) // 3, 2)
        )

    async def run(self, source: Source) -> None:
        """Run *source* (a coroutine function taking this feed), the keyboard and the display until ``q``."""
        with (
            raw_terminal() as interactive,
            Live(
                self.frame(), console=self.console, screen=True, auto_refresh=False, redirect_stderr=False
            ) as live,
        ):
            async with anyio.create_task_group() as tg:
                tg.start_soon(source, self)
                if interactive:
                    tg.start_soon(read_keys, self.key)
                tg.start_soon(self._redraw, live)
                await self.done.wait()
                tg.cancel_scope.cancel()

    async def _redraw(self, live: Live) -> None:
        while True:
            if self.replay is None:
                self.model.tick(time.time())
                self._update_request()  # sockets and room members come and go
            frozen = self.state.paused and self.replay is None and not self._keyed
            if self._dirty and not frozen:
                self._dirty = self._keyed = False
                live.update(self.frame(), refresh=True)
            await anyio.sleep(_FRAME)


def _as_dict(log_filter: LogFilter) -> dict[str, Any]:
    return {name: getattr(log_filter, name) for name in LogFilter.__dataclass_fields__}


def live_source(address: str | Sequence[str], token: str) -> Source:
    """The source for ``--connect`` (one address, or each worker's of a server whose workers cannot find
    each other); it asks for the per-message records ``app.request`` names."""
    addresses = (address,) if isinstance(address, str) else tuple(address)

    async def source(app: ConsoleApp) -> None:
        await follow_endpoints(addresses, token, app, request=app.request)

    return source


def replay_source(path: str | Path, control: ReplayControl) -> Source:
    """The source for ``--replay``."""

    async def source(app: ConsoleApp) -> None:
        await replay_file(path, app, control)

    return source
