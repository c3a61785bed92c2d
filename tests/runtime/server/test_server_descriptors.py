"""Running out of file descriptors: a server whose every descriptor is held by clients that declared a body
and never sent it keeps serving, and lets new clients in once the held connections reach their deadline."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

LIMIT = 64  # descriptors the server process may hold
HOLDERS = LIMIT + 16  # more than it can accept at once: the rest wait in the listen backlog
BACKENDS = [
    "asyncio",
    pytest.param(
        "uvloop",
        marks=pytest.mark.skipif(importlib.util.find_spec("uvloop") is None, reason="no uvloop"),
    ),
    "trio",
]


@pytest.fixture(params=BACKENDS)
def limited_server(request: pytest.FixtureRequest) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """The server in a subprocess limited to LIMIT descriptors: (its port, the process)."""
    script = Path(__file__).with_name("fd_limited_server.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, str(script), request.param, str(LIMIT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield port, process
    finally:
        process.kill()
        process.communicate(timeout=10)


def _get(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
        return received


def test_new_clients_get_in_once_held_descriptors_free_up(
    limited_server: tuple[int, subprocess.Popen[str]],
) -> None:
    port, process = limited_server
    holders = []
    try:
        for _ in range(HOLDERS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n")
            holders.append(sock)
        started = time.monotonic()
        answer = b""
        while not answer.startswith(b"HTTP/1.1 200 "):
            assert process.poll() is None, "the server died: " + (process.communicate()[1] or "")[-2000:]
            assert time.monotonic() - started < 15, "no new client got in"
            try:
                answer = _get(port)
            except OSError:  # refused, reset or timed out while descriptors are short
                time.sleep(0.2)
    finally:
        for sock in holders:
            sock.close()
    assert process.poll() is None
    process.kill()
    log = process.communicate(timeout=10)[1]
    # Each shortage is logged once (and its end once), not per retry.
    assert log.count("accept failed") <= log.count("accepting again") + 1, log[-2000:]
