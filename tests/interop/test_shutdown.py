"""A graceful shutdown on SIGINT and SIGTERM, on the embedded server over asyncio and trio.

``examples/reference_server.py`` runs in a subprocess with clients connected: socket.io-client 4.8.1 over
WebSocket and over polling (``tests/node/sio_client.js``, scenario ``shutdown``), and raw clients that see the
frames themselves: a WebSocket on ``/socket.io/`` and a held long-poll. Once the server is sent the signal,
every client must be told (DISCONNECT, the poll answered, a close frame), and the process must exit 0, soon,
without a traceback.
"""

from __future__ import annotations

import json
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest
from reference_process import free_port
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "node" / "sio_client.js"
REFERENCE = ROOT / "examples" / "reference_server.py"

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]


def read_line(stream: IO[str], timeout: float) -> str:
    """The next line of *stream*, or ``""`` after *timeout* seconds or at its end."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return stream.readline()


@contextmanager
def reference(backend: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    # Long heartbeats: the raw clients below never answer a ping.
    argv = [sys.executable, str(REFERENCE), "--port", str(port), "--backend", backend]
    argv += ["--ping-interval", "25000", "--ping-timeout", "20000", "--connect-timeout", "45000"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert read_line(proc.stdout, 15).strip() == f"listening on http://127.0.0.1:{port}"
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def raw_websocket(port: int) -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", open_timeout=5) as ws:
        assert ws.recv(timeout=5).startswith("0{")
        ws.send("40")
        assert ws.recv(timeout=5).startswith('40{"sid":')
        assert ws.recv(timeout=5) == '42["auth",{}]'
        yield ws


class HeldPoll:
    """A polling client connected to ``/``, with a GET pending (in a thread) when the signal comes."""

    def __init__(self, port: int) -> None:
        self.client = httpx.Client(timeout=10)
        base = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
        sid = json.loads(self.client.get(base).text[1:])["sid"]
        self.url = f"{base}&sid={sid}"
        assert self.client.post(self.url, content="40").text == "ok"
        received = ""
        while '42["auth"' not in received:
            received += self.client.get(self.url).text
        self.answer: httpx.Response | None = None
        self.thread = threading.Thread(target=self._poll)
        self.thread.start()

    def _poll(self) -> None:
        self.answer = self.client.get(self.url)

    def result(self) -> httpx.Response:
        self.thread.join(10)
        self.client.close()
        assert self.answer is not None
        return self.answer


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_tells_every_client_and_the_server_exits_0(backend: str, signum: signal.Signals) -> None:
    with reference(backend) as (proc, port):
        config = {
            "scenario": "shutdown",
            "url": f"http://127.0.0.1:{port}",
            "client": "v4",
            "timeout_ms": 15000,
        }
        node = subprocess.Popen(
            ["node", str(DRIVER), json.dumps(config)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        try:
            assert node.stdout is not None
            connected = json.loads(read_line(node.stdout, 10))
            assert connected == {"step": "connected", "transports": ["websocket", "polling"]}
            with raw_websocket(port) as ws:
                poll = HeldPoll(port)
                time.sleep(0.3)  # the poll is held by now

                started = time.monotonic()
                proc.send_signal(signum)

                assert ws.recv(timeout=5) == "41"  # DISCONNECT from "/", then the close frame
                with pytest.raises(ConnectionClosedOK) as closed:
                    ws.recv(timeout=5)
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 1000
            answer = poll.result()
            assert answer.status_code == 200
            assert answer.text in ("41", "41\x1e1")  # the close packet too if it was queued before the answer
            told = [json.loads(line) for line in node.stdout.read().splitlines() if line.strip()]
            assert told == [
                {"step": "disconnect", "reasons": ["io server disconnect", "io server disconnect"]},
                {"done": True},
            ]
            assert proc.wait(timeout=10) == 0
            assert time.monotonic() - started < 5
        finally:
            if node.poll() is None:
                node.kill()
            node.wait()
            if node.stdout is not None:
                node.stdout.close()
        assert proc.stderr is not None
        errors = proc.stderr.read()
        assert "Traceback" not in errors, errors
        assert "KeyboardInterrupt" not in errors, errors


def test_a_second_signal_closes_what_is_left_at_once() -> None:
    # A WebSocket client that never answers the server's close frame holds the shutdown for the server's
    # ws_close_timeout (5 s); a second signal ends the wait at once.
    with reference("asyncio") as (proc, port), socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n"
            b"connection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"sec-websocket-version: 13\r\n\r\n"
        )
        sock.settimeout(5)
        assert sock.recv(4096).startswith(b"HTTP/1.1 101 ")  # then this client reads nothing more
        proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert proc.poll() is None  # waiting for the close handshake
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 1.5
