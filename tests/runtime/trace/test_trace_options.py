"""Tracing turned on with options: ``SocketIoConfig(trace_endpoint=..., trace_file=...)``, served for real."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import httpx
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

from sioactor.actors._trace import TraceKind
from sioactor.runtime.socketio import ConfigError, Socket, SocketIo, SocketIoConfig
from sioactor.runtime.trace import TraceHub, TraceRecord, decode_line

pytestmark = pytest.mark.anyio


def server(config: SocketIoConfig) -> SocketIo:
    io = SocketIo(config)

    async def on_connect(socket: Socket) -> None:
        socket.join("lobby")

    io.ns("/", on_connect)
    return io


async def polling_connect(port: int) -> str:
    """An Engine.IO v4 polling handshake and a CONNECT to ``/``; returns the engine sid."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/socket.io/") as client:
        opened = await client.get("", params={"EIO": "4", "transport": "polling"})
        sid: str = httpx.Response(200, content=opened.content[1:]).json()["sid"]
        posted = await client.post("", params={"EIO": "4", "transport": "polling", "sid": sid}, content="40")
        assert posted.text == "ok"
        return sid


async def test_options_start_the_endpoint_and_the_recorder_and_log_the_command(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "trace.jsonl"
    io = server(SocketIoConfig(trace_endpoint="127.0.0.1:0", trace_file=str(path)))
    assert isinstance(io.tracer, TraceHub)
    assert io.trace_endpoint is not None
    caplog.set_level(logging.WARNING, "sioactor.trace")
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            port = await tg.start(io.serve, "127.0.0.1", 0)
            assert io.trace_endpoint.port != 0
            assert io.trace_endpoint.console_command in caplog.text
            engine_sid = await polling_connect(port)
            async with await anyio.connect_tcp("127.0.0.1", io.trace_endpoint.port) as console:
                await console.send(io.trace_endpoint.token.encode() + b"\n")
                reader = BufferedByteReceiveStream(console)
                hello = decode_line(await reader.receive_until(b"\n", 1 << 20))
                assert isinstance(hello, dict)
                assert hello["control"] == "hello"
                # The snapshot shows what existed before this console attached: the socket, its session.
                while True:
                    line = decode_line(await reader.receive_until(b"\n", 1 << 20))
                    if isinstance(line, TraceRecord) and line.event.actor_kind == "socket":
                        break
            assert line.event.kind is TraceKind.SPAWNED
            assert line.event.fields is not None
            assert line.event.fields["engine"] == engine_sid
            tg.cancel_scope.cancel()
    records = [r for r in map(decode_line, path.read_bytes().splitlines()) if isinstance(r, TraceRecord)]
    kinds = {(r.event.kind, r.event.actor_kind) for r in records}
    assert (TraceKind.SPAWNED, "socket") in kinds
    assert (TraceKind.ROOM_JOIN, "socket") in kinds
    # Sinks stop last: the socket's stop at shutdown is in the file.
    stops = [r.event for r in records if r.event.kind is TraceKind.STOPPED]
    assert [e.detail for e in stops if e.actor_kind == "socket"] == ["closing_server"]


def test_bad_trace_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="HOST:PORT"):
        SocketIo(SocketIoConfig(trace_endpoint="localhost"))
    with pytest.raises(ConfigError, match="loopback"):
        SocketIo(SocketIoConfig(trace_endpoint="0.0.0.0:9000"))
    with pytest.raises(ConfigError, match="TraceHub"):
        SocketIo(SocketIoConfig(trace_file="x.jsonl"), tracer=lambda event: None)  # type: ignore[arg-type]
    assert SocketIo().tracer is None
    assert SocketIo(SocketIoConfig(trace_endpoint="unix:/tmp/x.sock")).trace_endpoint is not None
