"""Running ``examples/reference_server.py`` as a subprocess on one stack, for the re-created suites."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def reference_server(server: str, backend: str, extra: Sequence[str] = ()) -> Iterator[int]:
    """Run the reference server on *server* (embedded, uvicorn, hypercorn) and *backend*, with the *extra*
    command-line options; yields its port once it has said it is listening, and stops it (by its PID)
    afterwards."""
    port = free_port()
    script = str(ROOT / "examples/reference_server.py")
    proc = subprocess.Popen(
        [sys.executable, script, "--port", str(port), "--server", server, "--backend", backend, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == f"listening on http://127.0.0.1:{port}"
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
