"""Where the console's records come from: a live trace endpoint (reconnecting) or a recorded file (replay).

Both push into a ``Feed`` (the app), so the views cannot tell a replay from a live server. A live console
tells the endpoint which actors' per-message records it wants (``MessageRequest``: the drilled-down socket,
the log filter's actors); everything else it sees as per-actor counters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

from sioactor._errors import TokenRefused
from sioactor.runtime.trace._record import StatsRecord, TraceRecord, decode_line, encode_control

__all__ = (
    "Feed",
    "MessageRequest",
    "ReplayControl",
    "check_address",
    "check_replay",
    "follow_endpoint",
    "replay_file",
)

_MAX_LINE = 1 << 24
_MAX_GAP = 2.0
_STREAM_ERRORS = (
    anyio.EndOfStream,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.IncompleteRead,
    anyio.DelimiterNotFound,
    OSError,
)


class Feed(Protocol):
    """What a source reports to."""

    def connected(self, hello: dict[str, Any]) -> None:
        """A (re)connection succeeded: a new server, or the same one again."""

    def record(self, record: TraceRecord) -> None:
        """One trace record."""

    def stats(self, record: StatsRecord) -> None:
        """One flush of per-actor message counters."""

    def lost(self, count: int) -> None:
        """The server dropped *count* records for this console."""

    def status(self, text: str) -> None:
        """The source's state, for the summary bar."""


def check_address(address: str) -> str | None:
    """Why *address* is no endpoint address (``HOST:PORT``, ``PORT``, ``unix:/PATH``), or ``None``."""
    if address.startswith("unix:"):
        return None if address[len("unix:") :] else "'unix:' needs a path, e.g. unix:/tmp/trace.sock"
    _, colon, port = address.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        example = f"{address}:PORT" if not colon else "127.0.0.1:4000"
        return f"{address!r} is not HOST:PORT (e.g. {example}; the server logs the address to use)"
    return None


def check_replay(path: str | Path) -> str | None:
    """Why *path* cannot be replayed (missing, a directory, unreadable, its first line no trace line), or
    ``None``."""
    try:
        with open(path, "rb") as file:
            first = b""
            while not first.strip():
                first = file.readline(_MAX_LINE)
                if not first:
                    return f"{path} is empty: no trace to replay"
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if decode_line(first) is None:
        return (
            f"{path} is not a sioactor trace (its first line is no trace record); record one with trace_file"
        )
    return None


async def _connect(address: str) -> anyio.abc.SocketStream:
    if address.startswith("unix:"):
        return await anyio.connect_unix(address[len("unix:") :])
    host, _, port = address.rpartition(":")
    return await anyio.connect_tcp(host or "127.0.0.1", int(port))


class MessageRequest:
    """The actors whose per-message records a live console wants (glob patterns on actor names,
    ``kind:KIND``, ``*``); the connection sends each change to the endpoint.
    """

    def __init__(self, patterns: tuple[str, ...] = ()) -> None:
        self.patterns = patterns
        self._changed: anyio.Event | None = None

    def set(self, patterns: tuple[str, ...]) -> None:
        """Ask for *patterns* instead (no message is sent when nothing changed)."""
        if patterns != self.patterns:
            self.patterns = patterns
            if self._changed is not None:
                self._changed.set()

    async def changed(self) -> tuple[str, ...]:
        """Wait for the next change; return the patterns."""
        self._changed = anyio.Event()
        await self._changed.wait()
        return self.patterns

    def line(self) -> bytes:
        """The request line for the endpoint."""
        return encode_control("messages", actors=list(self.patterns))


async def follow_endpoint(
    address: str, token: str, feed: Feed, *, retry: float = 0.5, request: MessageRequest | None = None
) -> None:
    """Attach to the endpoint at *address* (``host:port`` or ``unix:/path``) and feed its records, forever:
    when the server goes away, say so and reconnect every *retry* seconds. *request* says which actors'
    per-message records to ask for (none by default), now and whenever it changes.

    Raises:
        TokenRefused: the server refused *token* (retrying would not help).
    """
    request = request or MessageRequest()
    while True:
        try:
            stream = await _connect(address)
        except OSError:
            feed.status(f"waiting for {address}")
            await anyio.sleep(retry)
            continue
        async with stream:
            try:
                await stream.send(token.encode() + b"\n" + request.line())
                async with anyio.create_task_group() as tg:
                    tg.start_soon(_send_requests, stream, request)
                    await _read_stream(BufferedByteReceiveStream(stream), feed)
                    tg.cancel_scope.cancel()
            except* _STREAM_ERRORS:
                pass
        feed.status(f"server at {address} went away; reconnecting")
        await anyio.sleep(retry)


async def _send_requests(stream: anyio.abc.SocketStream, request: MessageRequest) -> None:
    while True:
        await request.changed()
        await stream.send(request.line())


async def _read_stream(reader: BufferedByteReceiveStream, feed: Feed) -> None:
    while True:
        item = decode_line(await reader.receive_until(b"\n", _MAX_LINE))
        if isinstance(item, TraceRecord):
            feed.record(item)
        elif isinstance(item, StatsRecord):
            feed.stats(item)
        elif item is not None:
            _control(item, feed)


def _control(item: dict[str, Any], feed: Feed) -> None:
    control = item.get("control")
    if control == "hello":
        feed.connected(item)
    elif control == "lost":
        feed.lost(int(item.get("count", 0)))
    elif control == "refused":
        raise TokenRefused(
            f"the trace endpoint refused this console ({item.get('reason', '?')}): pass the token the server "
            "logged at start-up with --token; a server started again has a new one unless its config sets "
            "SocketIoConfig(trace_token=...)"
        )


class ReplayControl:
    """Playback speed and stepping, set by the keyboard.

    Attributes:
        speed: 1.0 real speed, 10.0 ten times faster; 0 means step mode (one record per ``step()``).
        paused: playback waits until resumed.
    """

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self.paused = False
        self._wake = anyio.Event()

    def step(self) -> None:
        """Let one record through (step mode), or wake a paused playback to re-check."""
        self._wake.set()

    def toggle_pause(self) -> None:
        """Pause or resume."""
        self.paused = not self.paused
        self._wake.set()

    async def wait_turn(self, gap: float) -> None:
        """Wait before the next record, *gap* seconds of recorded time after the previous one."""
        while self.paused or self.speed <= 0:
            self._wake = anyio.Event()
            await self._wake.wait()
            if not self.paused and self.speed <= 0:
                return
        if gap > 0:
            await anyio.sleep(min(gap, _MAX_GAP) / self.speed)


async def replay_file(path: str | Path, feed: Feed, control: ReplayControl) -> None:
    """Play the JSON-lines trace at *path* into *feed*, paced by *control*."""
    feed.connected({"control": "hello", "replay": str(path)})
    previous: float | None = None
    count = unreadable = 0
    async with await anyio.open_file(path, "rb") as file:
        async for line in file:
            item = decode_line(line)
            if item is None and line.strip():
                unreadable += 1
            if isinstance(item, TraceRecord | StatsRecord):
                if previous is not None:
                    await control.wait_turn(item.time - previous)
                previous = item.time
                if isinstance(item, TraceRecord):
                    feed.record(item)
                else:
                    feed.stats(item)
                count += 1
            elif item is not None and item.get("control") == "lost":
                feed.lost(int(item.get("count", 0)))
    if unreadable and not count:
        feed.status(f"{path} is not a sioactor trace: none of its {unreadable} lines is a trace record")
    elif unreadable:
        feed.status(f"replay of {path} finished ({count} records; {unreadable} unreadable lines skipped)")
    else:
        feed.status(f"replay of {path} finished ({count} records)")
