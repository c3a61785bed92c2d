"""Side-by-side WebSocket echo throughput: the embedded server (asyncio, uvloop, trio) vs uvicorn.

Each server runs in its own process on a loopback ephemeral port; a node ``ws`` load generator (another
process) keeps CONNECTIONS sockets each with DEPTH messages in flight for SECONDS and counts echoes.
Run from the repo root: ``.venv/bin/python bench/server_bench.py [seconds] [depth]`` (3 s, 20 by default).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 50

LOAD = r"""
const WebSocket = require('ws');
const [port, conns, depth, seconds] = process.argv.slice(1).map(Number);
let count = 0, open = 0, counting = false;
const payload = '42["echo","hello world, a typical small socket.io event"]';
for (let i = 0; i < conns; i++) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  ws.on('open', () => { for (let j = 0; j < depth; j++) ws.send(payload); if (++open === conns) start(); });
  ws.on('message', () => { if (counting) count++; ws.send(payload); });
  ws.on('error', (e) => { console.error(String(e)); process.exit(1); });
}
function start() {
  setTimeout(() => { counting = true; const t0 = Date.now();
    setTimeout(() => {
      console.log(JSON.stringify({rate: count * 1000 / (Date.now() - t0)}));
      process.exit(0);
    }, seconds * 1000); }, 300);
}
"""

SERVER = r"""
import sys
async def app(scope, receive, send):
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        m = await receive()
        if m["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": m.get("text"), "bytes": m.get("bytes")})
kind, port = sys.argv[1], int(sys.argv[2])
if kind.startswith("uvicorn"):
    import uvicorn
    loop = "uvloop" if kind.endswith("uvloop") else "asyncio"
    uvicorn.run(app, host="127.0.0.1", port=port, http="httptools", ws="websockets-sansio",
                loop=loop, log_level="warning", lifespan="off")
else:
    import anyio
    from sioactor.runtime._server import ServerConfig, serve_asgi
    backend, _, flavour = kind.partition("-")
    options = {"use_uvloop": True} if flavour == "uvloop" else {}
    anyio.run(serve_asgi, app, ServerConfig(port=port, lifespan=False), backend=backend,
              backend_options=options)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    raise RuntimeError(f"server on port {port} did not start")


def measure(kind: str, seconds: float, depth: int) -> dict[str, Any]:
    port = free_port()
    # stderr dropped: uvicorn logs every write to a socket the load generator already closed.
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, kind, str(port)], cwd=ROOT, stderr=subprocess.DEVNULL
    )
    try:
        wait_listening(port)
        args = [str(port), str(CONNECTIONS), str(depth), str(seconds)]
        out = subprocess.run(
            ["node", "-e", LOAD, *args], cwd=ROOT, capture_output=True, text=True, timeout=seconds + 30
        )
        result: dict[str, Any] = json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr}
        return result
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    for kind in ("asyncio", "asyncio-uvloop", "trio", "uvicorn-asyncio", "uvicorn-uvloop"):
        result = measure(kind, seconds, depth)
        rate = f"{result['rate']:>10,.0f} msgs/s" if "rate" in result else result["error"]
        print(f"{kind:<18} {rate}", flush=True)


if __name__ == "__main__":
    main()
