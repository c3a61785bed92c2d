"""Two-node broadcast through Redis: deliveries/s and the added latency of the cross-node hop.

    .venv/bin/python bench/cluster_bench.py [--clients 200] [--inflight 10] [--duration 3] [--reps 1]

One redis-server, then for each pair of nodes (sioactor + sioactor, Node + Node, sioactor + Node) two server
processes in one cluster (``examples/reference_server.py --redis``, ``tests/node/cluster_node.js``, both with
the classic ``@socket.io/redis-adapter`` protocol) and the bench's load generator with half the clients on
each node; client 0, on the first node, emits ``bcast``, which every client of both nodes receives. The
line of each run gives deliveries/s and p50 latency for clients on the sender's node and on the other one:
the difference is what the hop through Redis adds. Every process is stopped by its PID.

Not part of the test command; figures go to bench/RESULTS.md by hand, with the date and the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from serverctl import free_port, process  # noqa: E402

NODE = shutil.which("node") or "node"
REDIS = shutil.which("redis-server") or "redis-server"


@contextmanager
def redis(port: int) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as workdir:
        argv = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with process([*argv, "--dir", workdir]):
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}"


@contextmanager
def node_server(kind: str, redis_url: str, key: str, name: str) -> Iterator[str]:
    """One cluster node of *kind* (``sioactor`` or ``node``); yields its URL."""
    if kind == "sioactor":
        argv = [sys.executable, str(ROOT / "examples/reference_server.py"), "--port", str(free_port())]
        argv += ["--ping-interval", "25000", "--ping-timeout", "20000", "--redis", redis_url]
        argv += ["--redis-key", key, "--server-id", name]
    else:
        config = {"redis": redis_url, "key": key, "server_id": name}
        config |= {"ping_interval_ms": 25000, "ping_timeout_ms": 20000}
        argv = [NODE, str(ROOT / "tests/node/cluster_node.js"), json.dumps(config)]
    with process(argv, ready="listening on ") as (_proc, line):
        yield line.split()[-1]


def run_pair(first: str, second: str, redis_url: str, args: argparse.Namespace) -> dict[str, object]:
    key = f"bench{os.getpid()}{first}{second}"
    with node_server(first, redis_url, key, "a") as url1, node_server(second, redis_url, key, "b") as url2:
        time.sleep(0.5)  # both subscribed (each waits for its own), and a moment for NUMSUB to settle
        loadgen = [NODE, str(ROOT / "bench/loadgen/main.js"), "--url", url1, "--url2", url2]
        loadgen += ["--scenario", "bcast", "--clients", str(args.clients), "--inflight", str(args.inflight)]
        loadgen += ["--warmup", "1", "--duration", str(args.duration), "--label", f"{first}+{second}"]
        done = subprocess.run(loadgen, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        if not lines:
            return {"server": f"{first}+{second}", "errors": 1, "error_detail": done.stderr[-500:]}
        result: dict[str, object] = lines[-1]
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--inflight", type=int, default=10)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--pairs", default="sioactor+sioactor,node+node,sioactor+node")
    args = parser.parse_args()
    pairs = [tuple(pair.split("+")) for pair in args.pairs.split(",")]
    with redis(free_port()) as redis_url:
        for _rep in range(args.reps):
            for first, second in pairs:
                print(json.dumps(run_pair(first, second, redis_url, args)), flush=True)


if __name__ == "__main__":
    main()
