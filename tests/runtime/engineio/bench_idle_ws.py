"""Resident memory per idle Engine.IO WebSocket session on the embedded server (not a test; run by hand).

    .venv/bin/python tests/runtime/engineio/bench_idle_ws.py --backend trio -n 2000

Serves a do-nothing EngineServer in this process, has ``tests/node/eio_idle.js`` open N raw WebSocket
sessions that only answer pings, and prints the RSS growth divided by N (and, on asyncio, tasks per session).
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

import anyio

from sioactor.actors.engineio._api import EngineConnection
from sioactor.protocol._reasons import EngineCloseReason
from sioactor.runtime._server import ServerConfig, serve_asgi
from sioactor.runtime.engineio import EngineConfig, EngineServer, engine_asgi_app

SCRIPT = Path(__file__).resolve().parents[3] / "tests/node/eio_idle.js"


class Idle:
    def on_open(self, conn: EngineConnection) -> None:
        pass

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        pass

    def on_close(self, conn: EngineConnection, reason: EngineCloseReason) -> None:
        pass


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def task_count() -> int | None:
    try:
        import asyncio

        return len(asyncio.all_tasks())
    except RuntimeError:
        return None


async def open_clients(port: int, n: int) -> tuple[anyio.abc.Process, int]:
    url = f"ws://127.0.0.1:{port}/engine.io/"
    proc = await anyio.open_process(["node", str(SCRIPT), url, str(n)], stderr=None)
    assert proc.stdout is not None
    line = b""
    with anyio.fail_after(120):
        while not line.endswith(b"\n"):
            line += await proc.stdout.receive(1)
    assert line.decode().strip() == f"ready {n}", line
    return proc, n


async def measure(n: int) -> None:
    engine = EngineServer(EngineConfig(path="/engine.io"), Idle())
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve_asgi, engine_asgi_app(engine), ServerConfig(host="127.0.0.1", port=0))
        warm, _ = await open_clients(port, 20)  # warm caches, code paths and allocator pools first
        await anyio.sleep(0.5)
        await warm.aclose()
        await anyio.sleep(0.5)
        gc.collect()
        before, tasks_before = rss_kb(), task_count()
        proc, _ = await open_clients(port, n)
        await anyio.sleep(1)
        gc.collect()
        after, tasks_after = rss_kb(), task_count()
        assert len(engine.sessions) == n, len(engine.sessions)
        per = (after - before) / n
        print(f"sessions={n} rss_before={before} KB rss_after={after} KB per_session={per:.1f} KB", end="")
        if tasks_before is not None and tasks_after is not None:
            print(f" tasks_per_session={(tasks_after - tasks_before) / n:.2f}", end="")
        print()
        await proc.aclose()
        tg.cancel_scope.cancel()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="asyncio", choices=("asyncio", "trio"))
    parser.add_argument("-n", type=int, default=2000)
    args = parser.parse_args()
    print(f"backend={args.backend} python={sys.version.split()[0]}", end=" ")
    anyio.run(measure, args.n, backend=args.backend)


if __name__ == "__main__":
    main()
