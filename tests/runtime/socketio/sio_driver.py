"""Running one scenario of the Node driver (tests/node/sio_client.js) against an in-process ``SocketIo``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio

from sioactor import SocketIo

DRIVER = Path(__file__).resolve().parents[2] / "node" / "sio_client.js"


async def run_driver(url: str, scenario: str, **cfg: Any) -> dict[str, Any]:
    """Run one scenario of the Node driver; its lines keyed by ``step`` (failing with its output if not)."""
    config = {"scenario": scenario, "url": url, "parser": "json", "client": "v4", "timeout_ms": 5000, **cfg}
    with anyio.fail_after(20):
        done = await anyio.run_process(["node", str(DRIVER), json.dumps(config)], check=False)
    lines = [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]
    assert lines, done.stderr.decode()
    assert lines[-1] == {"done": True}, (lines, done.stderr.decode())
    return {line["step"]: line for line in lines if "step" in line}


async def run_scenario(io: SocketIo, scenario: str, **cfg: Any) -> dict[str, Any]:
    """Serve *io* on a free port for the length of one driver scenario."""
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        steps = await run_driver(f"http://127.0.0.1:{port}", scenario, **cfg)
        tg.cancel_scope.cancel()
    return steps
