"""Broadcast to 1,000 clients spread over 2 workers: sioactor's reference server with ``--workers 2`` (the
kernel spreads the connections, the workers' hub carries the broadcast) against Node's own multi-core setup
(``bench/servers/node_cluster_server.js``: node:cluster, @socket.io/sticky, @socket.io/cluster-adapter, 2
workers), interleaved in one run.

    .venv/bin/python bench/workers_bcast.py [--reps 3] [--clients 1000] [--inflight 10] [--duration 5]

The load generator is the bench's (``bench/loadgen/main.js --scenario bcast``): every client on WebSocket,
client 0 emits ``bcast``, the server emits it to every socket of ``/``; a broadcast counts once all clients
have it. Server and load generator share the machine unpinned (2 workers need both cores), so read the
figures as a comparison within one run; ``server_cpu_s`` is the CPU time of the whole server process tree
over the load generator's run (connects included). Prints one JSON line per run and the medians.

Not part of the test command; figures go to bench/RESULTS.md by hand, with the date and the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from serverctl import free_port, process  # noqa: E402

SERVERS = ("sioactor-asyncio", "sioactor-trio", "node-cluster")
_TICKS = os.sysconf("SC_CLK_TCK")


def _argv(server: str, port: int, workers: int) -> list[str]:
    if server == "node-cluster":
        script = str(ROOT / "bench/servers/node_cluster_server.js")
        return ["node", script, "--port", str(port), "--workers", str(workers)]
    backend = server.removeprefix("sioactor-")
    return [sys.executable, str(ROOT / "examples/reference_server.py"), "--port", str(port),
            "--backend", backend, "--workers", str(workers), "--ping-interval", "25000",
            "--ping-timeout", "20000", "--connect-timeout", "45000"]  # fmt: skip


@contextmanager
def _serving(server: str, workers: int) -> Iterator[tuple[subprocess.Popen[str], str]]:
    with process(_argv(server, free_port(), workers), ready="listening on ") as (proc, line):
        time.sleep(0.5)  # "listening on URL" once every worker is ready; a moment for them to settle
        yield proc, line.split()[-1]


def _tree_cpu(pid: int) -> float:
    """CPU seconds of *pid* and its live descendants (children are listed per thread: the supervisor's
    thread forks sioactor's workers)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / _TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
    return total


def run_once(server: str, args: argparse.Namespace) -> dict[str, object]:
    with _serving(server, args.workers) as (proc, url):
        loadgen = ["node", str(ROOT / "bench/loadgen/main.js"), "--url", url, "--scenario", "bcast",
                   "--clients", str(args.clients), "--inflight", str(args.inflight), "--warmup", "1",
                   "--duration", str(args.duration), "--label", f"{server} x{args.workers}"]  # fmt: skip
        before = _tree_cpu(proc.pid)
        done = subprocess.run(loadgen, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
        cpu = _tree_cpu(proc.pid) - before
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"server": server, "errors": 1, "error_detail": done.stderr[-500:]}
    result: dict[str, object] = {**lines[-1], "server_cpu_s": round(cpu, 2)}
    return result


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    options.add_argument("--reps", type=int, default=3)
    options.add_argument("--clients", type=int, default=1000)
    options.add_argument("--inflight", type=int, default=10)
    options.add_argument("--duration", type=float, default=5.0)
    options.add_argument("--workers", type=int, default=2)
    options.add_argument("--servers", default=",".join(SERVERS), help=f"comma-separated, of {SERVERS}")
    args = options.parse_args()
    servers = args.servers.split(",")
    results: dict[str, list[dict[str, object]]] = {}
    for rep in range(args.reps):
        for server in servers if rep % 2 == 0 else servers[::-1]:
            line = run_once(server, args)
            print(json.dumps(line), flush=True)
            results.setdefault(server, []).append(line)
    for server, lines in results.items():
        rate = statistics.median(float(str(line.get("deliveries_per_s", 0))) for line in lines)
        p50 = statistics.median(float(str(line.get("p50_ms", 0))) for line in lines)
        p99 = statistics.median(float(str(line.get("p99_ms", 0))) for line in lines)
        errors = sum(int(str(line.get("errors", 0))) for line in lines)
        print(f"{server:17} workers={args.workers} median {rate:9.1f} deliveries/s  p50 {p50:7.2f} ms  "
              f"p99 {p99:7.2f} ms  errors {errors}")  # fmt: skip


if __name__ == "__main__":
    main()
