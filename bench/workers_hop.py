"""The cost of a hop between workers: polling echo with a fresh TCP connection per request against the
reference server with ``--workers 1`` (every request reaches the owner) and ``--workers 2`` (about half are
handed to the owner by the worker that accepted them), interleaved, both backends.

    .venv/bin/python bench/workers_hop.py [--reps 3] [--clients 20] [--duration 5]

WebSocket echo has no per-message hop: an upgrade is handed to the owner once and the WebSocket lives there.
Server and load generator share the machine unpinned (2 workers need both cores); read the figures as a
comparison within one run. Prints one line per run and the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from serverctl import free_port, process  # noqa: E402


def run_once(backend: str, workers: int, clients: int, duration: int) -> dict[str, float]:
    port = free_port()
    argv = [sys.executable, str(ROOT / "examples/reference_server.py"), "--port", str(port),
            "--backend", backend, "--workers", str(workers),
            "--ping-interval", "25000", "--ping-timeout", "20000"]  # fmt: skip
    with process(argv, ready="listening on "):
        time.sleep(0.5)
        config = {"url": f"http://127.0.0.1:{port}", "clients": clients, "warmup": 1, "duration": duration}
        done = subprocess.run(
            ["node", str(ROOT / "bench/workers_hop.js"), json.dumps(config)],
            capture_output=True, text=True, timeout=duration + 30, check=True,
        )  # fmt: skip
        return dict(json.loads(done.stdout.splitlines()[-1]))


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    options.add_argument("--reps", type=int, default=3)
    options.add_argument("--clients", type=int, default=20)
    options.add_argument("--duration", type=int, default=5)
    args = options.parse_args()
    results: dict[str, list[dict[str, float]]] = {}
    for rep in range(args.reps):
        for backend in ("asyncio", "trio"):
            for workers in (1, 2) if rep % 2 == 0 else (2, 1):
                key = f"{backend} workers={workers}"
                line = run_once(backend, workers, args.clients, args.duration)
                print(rep, key, line, flush=True)
                results.setdefault(key, []).append(line)
    for key, lines in results.items():
        rate = statistics.median(line["msgs_per_s"] for line in lines)
        p50 = statistics.median(line["p50_ms"] for line in lines)
        p99 = statistics.median(line["p99_ms"] for line in lines)
        errors = sum(int(line["errors"]) for line in lines)
        print(f"{key:20} median {rate:8.1f} msgs/s  p50 {p50:6.2f} ms  p99 {p99:7.2f} ms  errors {errors}")


if __name__ == "__main__":
    main()
