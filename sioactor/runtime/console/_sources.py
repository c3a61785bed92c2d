"""Where the console's records come from: a live trace endpoint (reconnecting) or a recorded file (replay).

Both push into a ``Feed`` (the app), so the views cannot tell a replay from a live server. A live console
tells the endpoint which actors' per-message records it wants (``MessageRequest``: the drilled-down socket,
the log filter's actors); everything else it sees as per-actor counters.

A server of several workers serves one stream per worker; each ``hello`` lists them all (``endpoints``), so a
console attached to one follows every one of them (`follow_endpoints`). It folds the streams into one feed,
each actor's name marked with its worker (``socket:/chat:SID@w1``, see `worker_suffix`): namespaces and
supervisors have the same name in every worker, and the mark shows which worker holds each socket.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, Protocol

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

from sioactor._errors import TokenRefused
from sioactor.runtime.trace._record import ActorStats, StatsRecord, TraceRecord, decode_line, encode_control

__all__ = (
    "Feed",
    "MessageRequest",
    "ReplayControl",
    "check_address",
    "check_replay",
    "follow_endpoint",
    "follow_endpoints",
    "replay_file",
    "worker_suffix",
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
    ``kind:KIND``, ``*``); each connection sends each change to its endpoint.
    """

    def __init__(self, patterns: tuple[str, ...] = ()) -> None:
        self.patterns = patterns
        self.version = 0
        self._changed: anyio.Event | None = None

    def set(self, patterns: tuple[str, ...]) -> None:
        """Ask for *patterns* instead (no message is sent when nothing changed)."""
        if patterns != self.patterns:
            self.patterns = patterns
            self.version += 1
            if self._changed is not None:
                self._changed.set()
                self._changed = None

    async def changed(self, seen: int) -> int:
        """Wait until the patterns are newer than version *seen* (one connection's last); the version."""
        while self.version == seen:
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()
        return self.version

    def line(self, suffix: str = "") -> bytes:
        """The request line for the endpoint of the worker whose actors' names end with *suffix* (``""``: a
        single server): patterns on another worker's actors are left out, this worker's lose its mark."""
        return encode_control("messages", actors=_for_worker(self.patterns, suffix))


def _for_worker(patterns: tuple[str, ...], suffix: str) -> list[str]:
    if not suffix:
        return list(patterns)
    mine = [p[: -len(suffix)] for p in patterns if p.endswith(suffix)]
    shared = [p for p in patterns if _WORKER_MARK not in p]
    return [*shared, *mine]


_WORKER_MARK = "@w"


def worker_suffix(index: object) -> str:
    """The mark on the names of worker *index*'s actors (``@w1``): ``@`` is in no id the server draws."""
    return f"{_WORKER_MARK}{index}"


class _WorkerFeed:
    # One worker's stream into the console's feed: every actor name it mentions gets the worker's mark.
    def __init__(self, feed: Feed, suffix: str) -> None:
        self.feed = feed
        self.suffix = suffix

    def connected(self, hello: dict[str, Any]) -> None:
        self.feed.connected(hello)

    def record(self, record: TraceRecord) -> None:
        event = record.event
        fields = event.fields
        if isinstance(fields, dict) and isinstance(fields.get("engine"), str):
            fields = {**fields, "engine": fields["engine"] + self.suffix}
        event = dataclasses.replace(event, actor=event.actor + self.suffix, fields=fields)
        self.feed.record(dataclasses.replace(record, event=event))

    def stats(self, record: StatsRecord) -> None:
        actors = tuple(self._marked(stats) for stats in record.actors)
        self.feed.stats(dataclasses.replace(record, actors=actors))

    def _marked(self, stats: ActorStats) -> ActorStats:
        return dataclasses.replace(stats, actor=stats.actor + self.suffix)

    def lost(self, count: int) -> None:
        self.feed.lost(count)

    def status(self, text: str) -> None:
        self.feed.status(text)


async def follow_endpoint(
    address: str, token: str, feed: Feed, *, retry: float = 0.5, request: MessageRequest | None = None
) -> None:
    """Attach to the endpoint at *address* (``host:port`` or ``unix:/path``) and feed its records, forever:
    when the server goes away, say so and reconnect every *retry* seconds. *request* says which actors'
    per-message records to ask for (none by default), now and whenever it changes. A worker of several
    names the others: they are followed too (`follow_endpoints`).

    Raises:
        TokenRefused: the server refused *token* (retrying would not help).
    """
    await follow_endpoints((address,), token, feed, retry=retry, request=request)


async def follow_endpoints(
    addresses: Sequence[str],
    token: str,
    feed: Feed,
    *,
    retry: float = 0.5,
    request: MessageRequest | None = None,
) -> None:
    """`follow_endpoint` for each of *addresses* (the workers of one server, when its port was 0 and they
    cannot find each other), and for every worker their ``hello`` names; all feed *feed*."""
    request = request or MessageRequest()
    followed: set[str] = set()
    async with anyio.create_task_group() as tg:

        def follow(address: str) -> None:
            if address not in followed:
                followed.add(address)
                tg.start_soon(_follow_one, address, token, feed, retry, request, follow)

        for address in addresses:
            follow(address)


async def _follow_one(
    address: str,
    token: str,
    feed: Feed,
    retry: float,
    request: MessageRequest,
    follow: Callable[[str], None],
) -> None:
    while True:
        try:
            stream = await _connect(address)
        except OSError:
            feed.status(f"waiting for {address}")
            await anyio.sleep(retry)
            continue
        async with stream:
            try:
                reader = BufferedByteReceiveStream(stream)
                hello = await _hello(stream, reader, token, request)
                suffix = _worker_of(hello, follow)
                target = _WorkerFeed(feed, suffix) if suffix else feed
                target.connected(hello)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(_send_requests, stream, request, suffix)
                    await _read_stream(reader, target)
                    tg.cancel_scope.cancel()
            except* _STREAM_ERRORS:
                pass
        feed.status(f"server at {address} went away; reconnecting")
        await anyio.sleep(retry)


async def _hello(
    stream: anyio.abc.SocketStream, reader: BufferedByteReceiveStream, token: str, request: MessageRequest
) -> dict[str, Any]:
    # The first line says which worker this is, so the request sent with the token names no worker's actors.
    await stream.send(token.encode() + b"\n")
    item = decode_line(await reader.receive_until(b"\n", _MAX_LINE))
    if isinstance(item, dict) and item.get("control") == "refused":
        _refused(item)
    if not isinstance(item, dict) or item.get("control") != "hello":
        raise anyio.EndOfStream  # not an endpoint: as if it went away
    return item


def _worker_of(hello: dict[str, Any], follow: Callable[[str], None]) -> str:
    # A worker of several: follow the others it names; its mark.
    workers = hello.get("workers")
    if not isinstance(workers, int) or workers < 2:
        return ""
    endpoints = hello.get("endpoints")
    if isinstance(endpoints, list):
        for address in endpoints:
            if isinstance(address, str):
                follow(address)
    return worker_suffix(hello.get("worker"))


async def _send_requests(stream: anyio.abc.SocketStream, request: MessageRequest, suffix: str) -> None:
    seen = request.version
    await stream.send(request.line(suffix))
    while True:
        seen = await request.changed(seen)
        await stream.send(request.line(suffix))


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
        _refused(item)


def _refused(item: dict[str, Any]) -> NoReturn:
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
