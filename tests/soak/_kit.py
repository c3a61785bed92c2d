"""What every soak scenario shares: a real in-process server, the resource snapshot a scenario must return
to, a healthy client's echo, the ERROR log watch and the command line.

The server is a ``SocketIo`` on the embedded server over loopback (``serve_asgi``, so the read deadlines can
be short), with short heartbeats: a session a scenario abandons mid-handshake is closed by its missed pong
within a second, so "back to baseline" is something to wait for, not to hope for. Counts are taken from the
server's own tables (Engine.IO sessions, the supervisor's actors) and from the process (event-loop tasks,
open descriptors in ``/proc/self/fd``, ``VmRSS``); the clients run in the same process, so they must be
gone too, which is the point.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import sniffio

from sioactor import (
    AckSender,
    Args,
    EngineConfig,
    ServerConfig,
    Socket,
    SocketIo,
    SocketIoConfig,
    serve_asgi,
)

from ._clients import WsClient

# Short heartbeats and deadlines: what a scenario leaves behind is reaped within about a second (a closing
# polling session waits flush_timeout for a poll to fetch its last packets).
ENGINE = EngineConfig(ping_interval=0.3, ping_timeout=0.3, max_payload=100_000, flush_timeout=0.5)
SERVER = ServerConfig(
    port=0,
    handle_signals=False,
    shutdown_timeout=1.0,
    keep_alive_timeout=1.0,
    body_timeout=2.0,
    body_read_timeout=0.5,
    ws_close_timeout=0.5,
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the server and the process hold at one moment."""

    sessions: int
    actors: int
    tasks: int
    fds: int
    rss_kib: int

    def excess_over(self, baseline: Snapshot) -> dict[str, int]:
        """The counts above *baseline* (RSS excluded: it is bounded, not restored)."""
        counts = ("sessions", "actors", "tasks", "fds")
        return {
            name: getattr(self, name) - getattr(baseline, name)
            for name in counts
            if getattr(self, name) > getattr(baseline, name)
        }


def task_count() -> int:
    """Tasks alive in the current event loop (asyncio's set, or trio's task tree)."""
    if sniffio.current_async_library() == "trio":
        import trio

        def tree(task: trio.lowlevel.Task) -> int:
            return 1 + sum(tree(child) for nursery in task.child_nurseries for child in nursery.child_tasks)

        return tree(trio.lowlevel.current_root_task())
    return len(asyncio.all_tasks())


def rss_kib() -> int:
    """This process's resident set, in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


class ErrorLog(logging.Handler):
    """Keeps every record at ERROR or above, and every record with a traceback, except the *expected*
    ones (regexes matched against the message)."""

    def __init__(self, expected: Sequence[str] = ()) -> None:
        super().__init__(logging.DEBUG)
        self.expected = [re.compile(pattern) for pattern in expected]
        self.unexpected: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.ERROR and record.exc_info is None:
            return
        if not any(pattern.search(record.getMessage()) for pattern in self.expected):
            self.unexpected.append(record)

    def lines(self) -> list[str]:
        formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
        return [formatter.format(record) for record in self.unexpected]


@contextmanager
def watching_errors(expected: Sequence[str] = ()) -> Iterator[ErrorLog]:
    """Collect unexpected ERROR records (and any traceback) from every logger for the block."""
    log = ErrorLog(expected)
    root = logging.getLogger()
    root.addHandler(log)
    try:
        yield log
    finally:
        root.removeHandler(log)


def echo(socket: Socket, args: Args) -> None:
    socket.emit("echo", args)


def ack(args: Args, sender: AckSender) -> None:
    sender.send(args)


def join(socket: Socket, args: Args) -> None:
    socket.join(str(args[0]) if args else "")


@dataclass
class Served:
    """A running server and what it looked like at rest."""

    io: SocketIo
    port: int
    baseline: Snapshot = field(init=False)

    def snapshot(self) -> Snapshot:
        supervisor = self.io._supervisor  # the private count is the point: no actor may outlive its socket
        return Snapshot(
            sessions=len(self.io._engine.sessions),
            actors=0 if supervisor is None else len(supervisor),
            tasks=task_count(),
            fds=len(os.listdir("/proc/self/fd")),
            rss_kib=rss_kib(),
        )

    async def settled(self, within: float = 5.0) -> Snapshot:
        """Wait until the counts are back to the baseline; return the snapshot that showed it, or the
        last one after *within* seconds (the caller checks ``excess_over``)."""
        deadline = time.monotonic() + within
        while True:
            now = self.snapshot()
            if not now.excess_over(self.baseline) or time.monotonic() > deadline:
                return now
            await anyio.sleep(0.05)

    async def echo_seconds(self, payload: str = "ping") -> float:
        """Connect a healthy WebSocket client of the server's parser, time one echo, disconnect cleanly."""
        if self.io.config.parser == "msgpack":
            return await self._msgpack_echo_seconds(payload)
        async with WsClient.connected(self.port) as client:
            started = time.perf_counter()
            await client.send_text(f'42["echo","{payload}"]')
            while (reply := await client.next_text()) != f'42["echo","{payload}"]':
                assert reply.startswith("42"), reply
            seconds = time.perf_counter() - started
            await client.send_text("41")
        return seconds

    async def _msgpack_echo_seconds(self, payload: str) -> float:
        expected = {"type": 2, "nsp": "/", "data": ["echo", payload]}
        async with WsClient.connected_msgpack(self.port) as client:
            started = time.perf_counter()
            await client.send_msgpack(expected)
            while (reply := await client.next_msgpack()) != expected:
                assert reply.get("type") == 2, reply
            seconds = time.perf_counter() - started
            await client.send_msgpack({"type": 1, "nsp": "/"})
        return seconds


@asynccontextmanager
async def serving(
    *,
    engine: EngineConfig = ENGINE,
    server: ServerConfig = SERVER,
    setup: Callable[[SocketIo], None] | None = None,
    **io_options: Any,
) -> AsyncIterator[Served]:
    """A ``SocketIo`` with ``echo``, ``ack`` and ``join`` handlers on ``/`` served on a free loopback port;
    the baseline is taken after one healthy echo (so lazily built state is there already)."""
    io = SocketIo(SocketIoConfig(engine=engine, connect_timeout=1.0, **io_options))
    io.on("echo", echo)
    io.on("ack", ack)
    io.on("join", join)
    if setup is not None:
        setup(io)
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve_asgi, io.asgi(), server)
        served = Served(io, port)
        await served.echo_seconds()
        await anyio.sleep(0.3)  # the warm-up's actors finish their drains
        served.baseline = served.snapshot()
        yield served
        tg.cancel_scope.cancel()


# --- the command line ---------------------------------------------------------------------------------------


def arguments(description: str, *, duration: float = 60.0) -> argparse.ArgumentParser:
    """The options every scenario takes: ``--duration``, ``--backend``, ``--seed``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--duration", type=float, default=duration, help="seconds to run (%(default)s)")
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    return parser


def run_main(main: Callable[[argparse.Namespace], Any], parser: argparse.ArgumentParser) -> None:
    """Parse the command line, run *main* on the chosen backend and exit 1 if it reports a failure."""
    options = parser.parse_args()
    if options.seed is None:
        options.seed = time.time_ns() % 1_000_000
    shown = logging.StreamHandler()  # errors only: a fuzzer's every refused client is a warning
    shown.setLevel(logging.ERROR)
    logging.basicConfig(level=logging.WARNING, handlers=[shown])
    failures: list[str] = anyio.run(main, options, backend=options.backend)
    for failure in failures:
        print("FAIL:", failure)
    print("OK" if not failures else f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


def describe(exc: BaseException) -> str:
    """*exc* and where it was raised (the innermost frame), for a failure line."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    return f"{exc!r}{where}"


def with_server(**changes: Any) -> ServerConfig:
    """``SERVER`` with *changes*."""
    return replace(SERVER, **changes)
