"""The embedded server under a low descriptor limit, for test_server_descriptors.py.

Usage: ``python fd_limited_server.py BACKEND LIMIT`` (BACKEND: asyncio, uvloop or trio). Serves an app that
answers every request 200 at once without reading its body, with short body deadlines, on an ephemeral
loopback port it prints on one line once listening; logs to stderr; runs until killed.
"""

from __future__ import annotations

import logging
import resource
import sys
from typing import Any

import anyio

from sioactor.runtime._server import ServerConfig, serve_asgi


async def answer_at_once(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def main() -> None:
    config = ServerConfig(port=0, lifespan=False, body_read_timeout=1.0, body_timeout=2.0)
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve_asgi, answer_at_once, config)
        print(port, flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)  # to stderr, which the test reads
    backend, limit = sys.argv[1], int(sys.argv[2])
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    if backend == "uvloop":
        anyio.run(main, backend="asyncio", backend_options={"use_uvloop": True})
    else:
        anyio.run(main, backend=backend)
