"""``watch_loop``: a watchdog that sees the event loop stall and names what held it.

A handler that computes (or calls a blocking function) holds the event loop: no other client is served
meanwhile, and with short heartbeats every client is dropped. Nothing in the loop can notice while it
happens, so the watchdog has two halves:

- a task in the loop beats: it notes the time, sleeps ``period``, and on waking measures how late it woke
  (its lag). A lag over ``threshold`` is a stall, logged once it ended, with its length, and traced as a
  ``LOOP_STALL`` event against the actor that held the loop (the console shows it there);
- a daemon thread looks at the beat every ``period``: when the loop has not beaten for ``threshold`` beyond
  its period, the loop is stalled right now, and the thread reads what holds it: the actor whose handler
  started last (``actors/_handling.py``; nothing else could start since) and the loop thread's stack, whose
  innermost frame outside sioactor and the event loop libraries is the blocking code. It logs that at once,
  so a handler that never returns is reported too.

Neither half touches the hot path: the actors' cost is one attribute store per handled message; the
watchdog's, a task waking ``1 / period`` times a second and a thread doing the same. The thread reads the
loop's stack with ``sys._current_frames`` (CPython), only while a stall lasts.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import anyio

from sioactor.actors._handling import HANDLING
from sioactor.actors._trace import TraceEvent, TraceKind, Tracer

__all__ = ("DEFAULT_STALL_THRESHOLD", "Stall", "watch_loop")

logger = logging.getLogger("sioactor.watchdog")

DEFAULT_STALL_THRESHOLD = 0.5

# Frames from these packages are the machinery around a handler, not the code that blocks.
_MACHINERY = tuple(
    str(Path(module.__file__).parent) + os.sep
    for module in (sys.modules["anyio"], sys.modules["sioactor"], sys.modules["asyncio"])
    if module.__file__
)
_MACHINERY_NAMES = tuple(f"{os.sep}{name}{os.sep}" for name in ("trio", "sniffio", "hypercorn", "uvicorn"))
# An actor is handling a message while the stack runs through this file (the slot may be stale otherwise).
_ACTOR_FILE = str(Path(sys.modules["sioactor.actors._handling"].__file__ or "").with_name("_actor.py"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Stall:
    """What held the loop, as the watchdog thread saw it while it did.

    Attributes:
        actor: the name of the actor whose handler started last (the one running), or ``None``.
        actor_kind: that actor's kind, or ``None``.
        where: the innermost frame outside sioactor and the event loop libraries: ``func (file:line)``.
    """

    actor: str | None
    actor_kind: str | None
    where: str

    def describe(self) -> str:
        """``actor socket:/:abc (socket) in compute (app.py:12)``."""
        who = "no actor" if self.actor is None else f"actor {self.actor} ({self.actor_kind})"
        return f"{who} in {self.where}"


class _Watch:
    """The state both halves share: the loop's last beat, and the thread's report of the current stall."""

    def __init__(self, threshold: float, period: float, loop_thread: int) -> None:
        self.threshold = threshold
        self.period = period
        self.loop_thread = loop_thread
        self.beat = time.monotonic()
        self.seen: Stall | None = None  # what the thread saw during the stall that is going on
        self.stop = threading.Event()

    def run_thread(self) -> None:
        reported = 0.0
        while not self.stop.wait(self.period):
            beat = self.beat
            held = time.monotonic() - beat - self.period
            if held > self.threshold and beat != reported:
                reported = beat
                stall = self.seen = _what_holds(self.loop_thread)
                logger.warning("event loop blocked for over %.2f s by %s", held, stall.describe())


async def watch_loop(threshold: float = DEFAULT_STALL_THRESHOLD, tracer: Tracer | None = None) -> None:
    """Watch the running event loop until cancelled: stalls longer than *threshold* seconds are logged
    (``sioactor.watchdog``, WARNING) as they happen, naming the handler that holds the loop, and once they
    end with their length; with a *tracer*, each is also traced (``LOOP_STALL``, ``duration``).
    """
    period = threshold / 2
    watch = _Watch(threshold, period, threading.get_ident())
    thread = threading.Thread(target=watch.run_thread, name="sioactor loop watchdog", daemon=True)
    thread.start()
    try:
        while True:
            watch.beat = started = time.monotonic()
            await anyio.sleep(period)
            lag = time.monotonic() - started - period
            if lag > threshold:
                _report(lag, watch.seen, tracer)
            watch.seen = None
    finally:
        watch.stop.set()


def _report(lag: float, stall: Stall | None, tracer: Tracer | None) -> None:
    # The thread saw the stall unless it was too short for it (then the slot still names the likely actor).
    if stall is None:
        stall = _what_holds(None)
    logger.warning("event loop was blocked for %.2f s by %s", lag, stall.describe())
    if tracer is not None:
        tracer.record(
            TraceEvent(
                kind=TraceKind.LOOP_STALL,
                actor=stall.actor or "event loop",
                actor_kind=stall.actor_kind or "loop",
                detail=f"blocked the event loop for {lag:.2f} s in {stall.where}",
                duration=lag,
                fields={"stall": lag, "where": stall.where},
            )
        )


def _what_holds(loop_thread: int | None) -> Stall:
    # With the loop's stack: the slot's actor only if an actor is handling a message on it. Without (the
    # thread did not see the stall): the slot's actor, the likeliest.
    actor = HANDLING.actor
    frame = None if loop_thread is None else sys._current_frames().get(loop_thread)
    where = "(a stall too short for the watchdog thread to see where)"
    if frame is not None:
        stack = traceback.extract_stack(frame, limit=64)
        where = _user_frame(stack)
        if not any(entry.filename == _ACTOR_FILE for entry in stack):
            actor = None
    return Stall(
        actor=None if actor is None else str(actor.name),
        actor_kind=None if actor is None else str(actor.kind),
        where=where,
    )


def _user_frame(stack: traceback.StackSummary) -> str:
    # The code that blocks: the outermost frame the machinery called (the handler), and the innermost frame
    # if that is elsewhere (what the handler called).
    outer = 0
    for index, entry in enumerate(stack):
        if _is_machinery(entry.filename):
            outer = index + 1
    if outer >= len(stack):
        return _frame_text(stack[-1])
    where = _frame_text(stack[outer])
    return where if outer == len(stack) - 1 else f"{where}, at {_frame_text(stack[-1])}"


def _is_machinery(filename: str) -> bool:
    return filename.startswith(_MACHINERY) or any(name in filename for name in _MACHINERY_NAMES)


def _frame_text(entry: traceback.FrameSummary) -> str:
    return f"{entry.name} ({Path(entry.filename).name}:{entry.lineno})"
