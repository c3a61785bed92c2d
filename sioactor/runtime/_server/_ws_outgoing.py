"""The outgoing side of one WebSocket connection (`WebSocketConnection` inherits it).

Bytes to send (the 101, the app's frames, websockets' answers and close frame) are queued by ``_queue``. On
the direct path they go straight to a non-blocking sink (``_direct.make_sink``). For a plain ASGI app they
wait in a list for the writer task, which wakes once per batch (when the app next yields) and writes
everything queued in one ``send``: an echo of N messages that arrived in one read costs one write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

from ._direct import ByteSink

if TYPE_CHECKING:
    from anyio.abc import SocketStream

__all__ = ("STREAM_GONE", "WebSocketOutgoing", "wake")

STREAM_GONE = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError)


class WebSocketOutgoing:
    """The queue of bytes to send and the writer task that empties it (or the direct path's sink)."""

    __slots__ = (
        "_eof_sent",
        "_out",
        "_out_drained",
        "_out_sink",
        "_out_size",
        "_out_wake",
        "_writer_done",
        "_writer_running",
        "_writer_stop",
    )

    if TYPE_CHECKING:
        _stream: SocketStream

    def _init_outgoing(self) -> None:
        self._out: list[bytes] = []
        self._out_size = 0
        self._out_wake: anyio.Event | None = None
        self._out_drained: anyio.Event | None = None
        self._out_sink: ByteSink | None = None  # the direct path's: then nothing is queued here
        self._writer_stop = False
        self._writer_running = False
        self._writer_done: anyio.Event | None = None
        self._eof_sent = False

    def _queue(self, chunks: list[bytes]) -> None:
        # b"" among the chunks is websockets' end of the closing handshake: the write side shuts down.
        if self._out_sink is not None:
            self._out_sink.write(b"".join(chunks))
            if b"" in chunks:
                self._out_sink.write_eof()
            return
        if chunks:
            self._out.extend(chunks)
            self._out_size += sum(map(len, chunks))
            self._out_wake = wake(self._out_wake)

    def _stop_writer(self) -> None:
        self._writer_stop = True
        self._out_wake = wake(self._out_wake)

    async def _write_loop(self) -> None:
        try:
            while True:
                if not self._out:
                    if self._writer_stop:
                        return
                    self._out_wake = anyio.Event()
                    await self._out_wake.wait()
                    continue
                chunks, self._out, self._out_size = self._out, [], 0
                self._out_drained = wake(self._out_drained)
                await self._write(chunks)
        finally:
            self._writer_running = False
            self._writer_done = wake(self._writer_done)

    async def _write(self, chunks: list[bytes]) -> None:
        if self._eof_sent:
            return
        self._eof_sent = b"" in chunks
        try:
            await self._stream.send(b"".join(chunks))
            if self._eof_sent:
                await self._stream.send_eof()
        except (*STREAM_GONE, OSError):
            # The peer is gone; the read loop sees it too and ends the connection.
            self._eof_sent = True


def wake(event: anyio.Event | None) -> anyio.Event | None:
    """Set *event* if someone waits on it; return what the caller stores in its place (no event)."""
    if event is not None:
        event.set()
    return None
