"""The JSON-lines recorder: a subscriber appending the hub's records to a file, for console replays.

A file is for post-mortems, so by default it gets every record, per-message ones included. With
``summaries=True`` it gets what a console gets instead: the per-actor counters a few times a second (plus the
per-message records of the actors *messages* selects), which costs the server far less under load.

It writes in batches (whatever is queued when it wakes, up to ``_BATCH`` items) through anyio's
thread-backed file, so the event loop never waits on the disk; a disk slower than the server loses
records like any slow subscriber, and a ``lost`` control line in the file says how many.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from os import PathLike

import anyio
import anyio.abc

from sioactor.runtime.trace._hub import TraceHub
from sioactor.runtime.trace._record import TraceItem, encode_control, encode_item
from sioactor.runtime.trace._selection import ALL_MESSAGES
from sioactor.runtime.trace._subscription import TraceSubscription

__all__ = ("record_trace", "run_recorder")

_BATCH = 512
_BUFFER = 16384


def _subscribe(
    hub: TraceHub, buffer: int, summaries: bool, messages: Iterable[str] | None
) -> TraceSubscription:
    chosen = messages if messages is not None else () if summaries else ALL_MESSAGES
    return hub.subscribe(buffer=buffer, messages=chosen, summaries=summaries)


async def run_recorder(
    hub: TraceHub,
    path: str | PathLike[str],
    *,
    buffer: int = _BUFFER,
    summaries: bool = False,
    messages: Iterable[str] | None = None,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Append the hub's records to *path* until cancelled (start it with ``task_group.start``).

    Args:
        hub: the server's tracer.
        path: the JSON-lines file (appended to).
        buffer: the subscription's bound, in items.
        summaries: record per-actor counters instead of every per-message record.
        messages: the actors whose per-message records to write (default: all, or none with *summaries*).
    """
    with _subscribe(hub, buffer, summaries, messages) as subscription:
        async with await anyio.open_file(path, "ab") as file, anyio.create_task_group() as tg:
            if summaries:
                tg.start_soon(hub.run_stats)
            task_status.started()
            try:
                await _write_all(subscription, file)
            finally:
                with anyio.CancelScope(shield=True):
                    await file.write(_batch(None, subscription))


@asynccontextmanager
async def record_trace(
    hub: TraceHub,
    path: str | PathLike[str],
    *,
    buffer: int = _BUFFER,
    summaries: bool = False,
    messages: Iterable[str] | None = None,
) -> AsyncIterator[None]:
    """Record the hub's trace to *path* (JSON lines, appended) while the block runs::

        async with record_trace(hub, "trace.jsonl"):
            await io.serve()

    Leaving the block ends the subscription, and the recorder writes every record taken before that.
    *summaries* and *messages* are as for ``run_recorder``.
    """
    with _subscribe(hub, buffer, summaries, messages) as subscription:
        async with await anyio.open_file(path, "ab") as file, anyio.create_task_group() as tg:
            tg.start_soon(_write_all, subscription, file)
            flushing = anyio.CancelScope()
            if summaries:
                tg.start_soon(_run_stats, hub, flushing)
            try:
                yield
            finally:
                flushing.cancel()
                if summaries:
                    hub.flush()  # the counts of the last interval belong in the file
                subscription.end()


async def _run_stats(hub: TraceHub, scope: anyio.CancelScope) -> None:
    with scope:
        await hub.run_stats()


async def _write_all(subscription: TraceSubscription, file: anyio.AsyncFile[bytes]) -> None:
    while True:
        try:
            first = await subscription.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return
        await file.write(_batch(first, subscription))


def _batch(first: TraceItem | None, subscription: TraceSubscription) -> bytes:
    # Everything already queued goes out in one write; a loss is recorded where it was noticed.
    parts = [] if first is None else [encode_item(first)]
    while len(parts) < _BATCH:
        try:
            parts.append(encode_item(subscription.receive_nowait()))
        except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
            break
    lost = subscription.take_lost()
    if lost:
        parts.append(encode_control("lost", count=lost))
    return b"".join(parts)
