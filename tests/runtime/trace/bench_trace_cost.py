"""The cost of tracing on the echo benchmark (not collected by pytest; run by hand):

    .venv/bin/python tests/runtime/trace/bench_trace_cost.py --reps 3 [--tree DIR]

Three modes of ``examples/reference_server.py`` (asyncio, embedded server, pinned to CPU 0), interleaved per
repetition: ``off`` (no tracer), ``hub`` (``--trace-endpoint``: a TraceHub, nobody attached) and ``console``
(a reader attached to the endpoint with the token, reading every line, on the load generator's CPU 1).
The load is the bench suite's Node load generator (``echo`` emit, 50 clients, 10 in flight, pinned to
CPU 1). Prints one line per run and the medians. *--tree* runs the server from another checkout (a
snapshot of HEAD).

Throughput on a shared, noisy box swings by 2x between runs; the server's CPU time per echoed message (its
utime + stime over the measured window, from /proc, divided by the messages in that window) is the steadier
figure, and the one the medians compare as well.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PYTHON = ROOT / ".venv" / "bin" / "python"

READER = """
import socket, sys, time
host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
s.sendall(token.encode() + b"\\n")
lines = 0
while True:
    data = s.recv(1 << 16)
    if not data:
        break
    lines += data.count(b"\\n")
print(lines, flush=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(tree: Path, port: int, traced: bool) -> tuple[subprocess.Popen[str], str | None]:
    argv = ["taskset", "-c", "0", str(PYTHON), str(tree / "examples" / "reference_server.py")]
    argv += ["--port", str(port), "--ping-interval", "25000", "--ping-timeout", "20000"]
    if traced:
        argv += ["--trace-endpoint", "127.0.0.1:0"]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    command = None
    if traced:
        assert proc.stderr is not None
        command = proc.stderr.readline()
    assert proc.stdout is not None
    proc.stdout.readline()  # "listening on ..."
    return proc, command


WARMUP = 1.0


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(port: int, duration: float, server: int) -> tuple[dict[str, float], float]:
    """The load generator's result and the server's CPU seconds over (about) the measured window."""
    argv = ["taskset", "-c", "1", "node", str(ROOT / "bench" / "loadgen" / "main.js")]
    argv += ["--url", f"http://127.0.0.1:{port}", "--scenario", "echo", "--mode", "emit"]
    argv += ["--clients", "50", "--inflight", "10", "--duration", str(duration), "--warmup", str(WARMUP)]
    load = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(WARMUP + 0.5)  # connected and warm
    before = cpu_seconds(server)
    time.sleep(duration - 1.0)  # inside the measured window
    cpu = (cpu_seconds(server) - before) / (duration - 1.0) * duration
    out, _ = load.communicate(timeout=duration + 60)
    assert load.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1]), cpu


def one(tree: Path, mode: str, duration: float) -> tuple[float, float, int | None]:
    port = free_port()
    proc, command = start_server(tree, port, traced=mode != "off")
    reader = None
    try:
        if mode == "console":
            assert command is not None
            found = re.search(r"--connect (\S+):(\d+) --token (\S+)", command)
            assert found, command
            argv = ["taskset", "-c", "1", str(PYTHON), "-c", READER, *found.groups()]
            reader = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
            time.sleep(0.3)
        result, cpu = run_load(port, duration, proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    lines = None
    if reader is not None:
        out, _ = reader.communicate(timeout=10)
        lines = int(out.strip() or 0)
    rate = float(result.get("msgs_per_s", result.get("rate", 0.0)))
    return rate, 1e6 * cpu / max(rate * duration, 1.0), lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=float, default=6.0)
    parser.add_argument("--tree", type=Path, default=ROOT)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"off": [], "hub": [], "console": []}
    costs: dict[str, list[float]] = {mode: [] for mode in rates}
    for rep in range(args.reps):
        for mode in rates if rep % 2 == 0 else reversed(rates):
            rate, cost, lines = one(args.tree, mode, args.duration)
            rates[mode].append(rate)
            costs[mode].append(cost)
            print(
                f"rep {rep} {mode:8} {rate:8.0f} msgs/s {cost:6.1f} us cpu/msg  console lines {lines}",
                flush=True,
            )
    base, base_cost = statistics.median(rates["off"]), statistics.median(costs["off"])
    for mode, values in rates.items():
        median, cost = statistics.median(values), statistics.median(costs[mode])
        print(
            f"{mode:8} median {median:8.0f} msgs/s {100 * (median / base - 1):+6.1f} %"
            f"  cpu {cost:6.1f} us/msg {100 * (cost / base_cost - 1):+6.1f} %"
        )


if __name__ == "__main__":
    sys.exit(main())
