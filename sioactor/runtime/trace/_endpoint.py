"""``TraceEndpoint``: the local listener a ``sioactor console`` in another terminal attaches to.

The wire is JSON lines. The console first sends the token and a newline; anything else (a wrong token, no
line within ``handshake_timeout``, a line longer than ``_MAX_TOKEN_LINE``) gets a ``refused`` control line and
the connection closed. An accepted console gets a ``hello`` line (``stats``: the summaries' interval;
``totals``: the records of each kind since the server started, so that consoles attached at different times
count errors alike), the snapshot, then the records and the stats (see ``_record.py``) and a ``lost`` line
whenever its subscription dropped some. Each console has its own bounded subscription, so a console that
reads slowly loses records, never slows the server.

A console gets no per-message records (``ENQUEUED`` / ``HANDLED``) until it asks: it may send control lines
after its token, ``{"control": "messages", "actors": [PATTERN, ...]}``, each replacing its selection (glob
patterns on actor names, ``kind:KIND``, ``*``; see ``_stats.py``); its counters come as stats anyway.

It listens on 127.0.0.1 (or a unix socket) by default; any other host must be asked for with
``allow_remote=True``, because the trace shows event names, rooms and ids of every client.

In a server of several workers each worker serves its own stream (`serve_as_worker`), at an address derived
from the configured one (``worker_address`` in ``_record.py``): the workers share no memory, and a console
that follows them all folds the streams together, each actor's name marked with its worker.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
import secrets
import time
from typing import final

import anyio
import anyio.abc
import orjson
from anyio.streams.buffered import BufferedByteReceiveStream

from sioactor._errors import ConfigError
from sioactor.runtime.trace._hub import STATS_INTERVAL, TraceHub, TraceSubscription
from sioactor.runtime.trace._record import encode_control, encode_item, encode_record, worker_address

__all__ = ("TraceEndpoint",)

_MAX_TOKEN_LINE = 256
_MAX_REQUEST_LINE = 1 << 16
_BATCH = 256
_STREAM_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream, OSError)


@final
class TraceEndpoint:
    """Serves the hub's trace to token-holding consoles. Start ``serve`` with ``task_group.start``; it returns
    once listening, and ``address`` / ``token`` / ``console_command`` tell a user how to attach.

    Args:
        hub: the server's tracer.
        host: the address to bind (loopback unless *allow_remote*); ignored with *unix_path*.
        port: the TCP port; 0 picks a free one.
        unix_path: listen on this unix socket instead of TCP.
        token: the secret a console must present; a random one by default.
        buffer: each console's subscription size, in records.
        handshake_timeout: seconds a connection has to present the token.
        allow_remote: permit a non-loopback *host*.

    Raises:
        ConfigError: *host* is not a loopback address and *allow_remote* is false.
    """

    def __init__(
        self,
        hub: TraceHub,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        unix_path: str | None = None,
        token: str | None = None,
        buffer: int = 4096,
        handshake_timeout: float = 5.0,
        allow_remote: bool = False,
    ) -> None:
        if unix_path is None and not allow_remote and not _is_loopback(host):
            raise ConfigError(
                f"trace endpoint host {host!r} is not a loopback address; the trace shows every client's "
                "ids and events, so bind 127.0.0.1 or a unix socket, or pass allow_remote=True deliberately"
            )
        self.hub = hub
        self.host = host
        self.port = port
        self.unix_path = unix_path
        self.token = token or secrets.token_urlsafe(18)
        self.buffer = buffer
        self.handshake_timeout = handshake_timeout
        self.started = time.time()
        self.consoles = 0
        self._workers: dict[str, object] = {}

    def serve_as_worker(self, index: int, count: int) -> None:
        """Serve as worker *index* of a server of *count* (call it before `serve`, in the worker): at
        ``worker_address(address, index)``, with the workers and their addresses in each ``hello``."""
        base = self.address
        if self.unix_path is not None:
            self.unix_path = worker_address(base, index)[len("unix:") :]
        else:
            self.port = int(worker_address(base, index).rpartition(":")[2])
        derivable = self.unix_path is not None or self.port != 0
        endpoints = [worker_address(base, i) for i in range(count)] if derivable else None
        self._workers = {"worker": index, "workers": count, "endpoints": endpoints}

    @property
    def address(self) -> str:
        """Where consoles connect: ``host:port`` or ``unix:/path`` (the port is known once serving)."""
        return f"unix:{self.unix_path}" if self.unix_path is not None else f"{self.host}:{self.port}"

    @property
    def console_command(self) -> str:
        """The command that attaches a console, token included: print it at start-up."""
        return f"sioactor console --connect {self.address} --token {self.token}"

    async def serve(self, *, task_status: anyio.abc.TaskStatus[str] = anyio.TASK_STATUS_IGNORED) -> None:
        """Listen and serve consoles until cancelled; ``task_status.started`` gets ``address``."""
        listener: anyio.abc.Listener[anyio.abc.SocketStream]
        if self.unix_path is not None:
            listener = await anyio.create_unix_listener(self.unix_path, mode=0o600)
        else:
            listener = await anyio.create_tcp_listener(local_host=self.host, local_port=self.port)
            self.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(self.hub.run_stats)
            task_status.started(self.address)
            await listener.serve(self._serve_console)

    async def _serve_console(self, stream: anyio.abc.SocketStream) -> None:
        async with stream:
            reader = BufferedByteReceiveStream(stream)
            if not await self._authenticated(stream, reader):
                return
            self.consoles += 1
            try:
                await self._stream_trace(stream, reader)
            except _STREAM_ERRORS:
                pass
            finally:
                self.consoles -= 1

    async def _authenticated(self, stream: anyio.abc.SocketStream, reader: BufferedByteReceiveStream) -> bool:
        try:
            with anyio.fail_after(self.handshake_timeout):
                line = await reader.receive_until(b"\n", _MAX_TOKEN_LINE)
        except (TimeoutError, anyio.IncompleteRead, anyio.DelimiterNotFound, *_STREAM_ERRORS):
            line = b""
        if hmac.compare_digest(line.strip(), self.token.encode()):
            return True
        with contextlib.suppress(*_STREAM_ERRORS):
            await stream.send(encode_control("refused", reason="bad or missing token"))
        return False

    async def _stream_trace(self, stream: anyio.abc.SocketStream, reader: BufferedByteReceiveStream) -> None:
        # The totals and the subscription are taken in one tick: each record is counted in one or the other.
        hello = encode_control(
            "hello",
            pid=os.getpid(),
            started=self.started,
            buffer=self.buffer,
            stats=STATS_INTERVAL,
            totals=self.hub.totals(),
            **self._workers,
        )
        with self.hub.subscribe(buffer=self.buffer, messages=(), summaries=True) as subscription:
            # Subscribed before the hello: whatever happens after the console saw it reaches the console.
            await stream.send(hello + b"".join(encode_record(r) for r in self.hub.snapshot()))
            async with anyio.create_task_group() as tg:
                # The console's requests come in while its trace goes out; its EOF ends both.
                tg.start_soon(_read_requests, stream, reader, subscription, tg.cancel_scope)
                await _pump(stream, subscription)


async def _pump(stream: anyio.abc.SocketStream, subscription: TraceSubscription) -> None:
    while True:
        parts = [encode_item(await subscription.receive())]
        while len(parts) < _BATCH:
            try:
                parts.append(encode_item(subscription.receive_nowait()))
            except anyio.WouldBlock:
                break
        lost = subscription.take_lost()
        if lost:
            parts.append(encode_control("lost", count=lost))
        await stream.send(b"".join(parts))


async def _read_requests(
    stream: anyio.abc.SocketStream,
    reader: BufferedByteReceiveStream,
    subscription: TraceSubscription,
    scope: anyio.CancelScope,
) -> None:
    pending = b""
    try:
        while chunk := await _receive_when_readable(stream, reader):
            *lines, pending = (pending + chunk).split(b"\n")
            if len(pending) > _MAX_REQUEST_LINE:
                break  # not a console: stop serving it
            for line in lines:
                _request(line, subscription)
    except _STREAM_ERRORS:
        pass
    scope.cancel()


def _request(line: bytes, subscription: TraceSubscription) -> None:
    # Lines that are not a request this endpoint knows are ignored: a newer console may ask for more.
    try:
        request = orjson.loads(line)
    except ValueError:
        return
    if isinstance(request, dict) and request.get("control") == "messages":
        actors = request.get("actors")
        if isinstance(actors, list):
            subscription.select(actors)


async def _receive_when_readable(stream: anyio.abc.SocketStream, reader: BufferedByteReceiveStream) -> bytes:
    # anyio's asyncio unix-socket stream waits in receive() on a future that the selector's callback completes
    # with an unguarded set_result. When the console's EOF makes the socket readable in the same loop turn
    # that the endpoint is cancelled (server shutdown), that callback runs on the cancelled future and asyncio
    # reports an InvalidStateError. So this task never waits inside receive() on a unix socket: it waits in
    # anyio.wait_readable (which tolerates that race), then receive() finds the data or EOF ready. TCP
    # streams on asyncio are transport-driven (no such wait, and wait_readable would steal their reader).
    if isinstance(stream, anyio.abc.UNIXSocketStream) and not reader.buffer:
        await anyio.wait_readable(stream.extra(anyio.abc.SocketAttribute.raw_socket))
    return await reader.receive()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
