"""The JSON-lines recorder: a subscriber appending every record to a file, for ``sioactor console --replay``.

It writes in batches (whatever is queued when it wakes, up to ``_BATCH`` records) through anyio's
thread-backed file, so the event loop never waits on the disk; a disk slower than the server loses
records like any slow subscriber, and a ``lost`` control line in the file says how many.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from os import PathLike

import anyio
import anyio.abc

from sioactor.runtime.trace._hub import TraceHub, TraceSubscription
from sioactor.runtime.trace._record import TraceRecord, encode_control, encode_record

__all__ = ("record_trace", "run_recorder")

_BATCH = 512
_BUFFER = 16384


async def run_recorder(
    hub: TraceHub,
    path: str | PathLike[str],
    *,
    buffer: int = _BUFFER,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Append the hub's records to *path* until cancelled (start it with ``task_group.start``)."""
    with hub.subscribe(buffer=buffer) as subscription:
        async with await anyio.open_file(path, "ab") as file:
            task_status.started()
            try:
                await _write_all(subscription, file)
            finally:
                with anyio.CancelScope(shield=True):
                    await file.write(_batch(None, subscription))


@asynccontextmanager
async def record_trace(
    hub: TraceHub, path: str | PathLike[str], *, buffer: int = _BUFFER
) -> AsyncIterator[None]:
    """Record the hub's trace to *path* (JSON lines, appended) while the block runs::

        async with record_trace(hub, "trace.jsonl"):
            await io.serve()

    Leaving the block ends the subscription, and the recorder writes every record taken before that.
    """
    with hub.subscribe(buffer=buffer) as subscription:
        async with await anyio.open_file(path, "ab") as file, anyio.create_task_group() as tg:
            tg.start_soon(_write_all, subscription, file)
            try:
                yield
            finally:
                subscription.end()


async def _write_all(subscription: TraceSubscription, file: anyio.AsyncFile[bytes]) -> None:
    while True:
        try:
            first = await subscription.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return
        await file.write(_batch(first, subscription))


def _batch(first: TraceRecord | None, subscription: TraceSubscription) -> bytes:
    # Everything already queued goes out in one write; a loss is recorded where it was noticed.
    parts = [] if first is None else [encode_record(first)]
    while len(parts) < _BATCH:
        try:
            parts.append(encode_record(subscription.receive_nowait()))
        except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
            break
    lost = subscription.take_lost()
    if lost:
        parts.append(encode_control("lost", count=lost))
    return b"".join(parts)
