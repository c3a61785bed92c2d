"""Runs the benchmark: every server and scenario group, interleaved, repeated; writes JSON lines and a table.

    .venv/bin/python bench/run.py [--quick] [--servers node,sioactor-trio] [--reps N]

Use ``bash bench/run.sh`` instead: it installs the bench's npm packages and raises the fd limit first.
The server runs pinned to CPU 0 and the load generator to CPU 1. Within a repetition the order of the
servers rotates from group to group, so that slow drift on the machine spreads across all of them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from report import write_report
from scenarios import FULL, QUICK, Group, Invocation, Timing, groups
from serverctl import (
    BASELINE_SUFFIX,
    BENCH,
    SERVER_NAMES,
    RunningServer,
    ServerSpec,
    all_servers,
    snapshot_head,
)

SERVER_CPU = 0
LOADGEN_CPU = 1
RESULTS = BENCH / "results"


def run_loadgen(server: RunningServer, invocation: Invocation) -> list[dict[str, Any]]:
    """One load-generator run against *server*; its JSON lines, or one error line if it failed."""
    argv = [
        "taskset",
        "-c",
        str(LOADGEN_CPU),
        "node",
        str(BENCH / "loadgen" / "main.js"),
        "--url",
        server.origin,
        "--label",
        server.spec.name,
        "--server-pid",
        str(server.pid),
        "--deadline",
        str(invocation.deadline_s),
        *invocation.args,
    ]
    scenario = invocation.args[invocation.args.index("--scenario") + 1]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=invocation.deadline_s + 10)
    except subprocess.TimeoutExpired:
        return [_failure(server.spec.name, scenario, "load generator timed out")]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return [
            _failure(
                server.spec.name, scenario, f"no result (rc {done.returncode}): {done.stderr[-300:]}".strip()
            )
        ]
    return lines


def _failure(server: str, scenario: str, detail: str) -> dict[str, Any]:
    return {"server": server, "scenario": scenario, "errors": 1, "error_detail": detail}


def run_group(spec: ServerSpec, group: Group, log_dir: Path) -> list[dict[str, Any]]:
    """Start a fresh server for *group*, run its invocations, stop the server."""
    with RunningServer(spec, SERVER_CPU, log_dir) as server:
        try:
            server.wait_ready()
        except RuntimeError as exc:
            return [_failure(spec.name, group.name, str(exc))]
        results: list[dict[str, Any]] = []
        for invocation in group.invocations:
            results.extend(run_loadgen(server, invocation))
        return results


def probe(spec: ServerSpec, log_dir: Path) -> str | None:
    """None if *spec* starts and serves Socket.IO at /socket.io/, else why not."""
    with RunningServer(spec, SERVER_CPU, log_dir) as server:
        try:
            server.wait_ready()
        except RuntimeError as exc:
            return str(exc)
        if not server.serves_socketio():
            return "does not answer an Engine.IO handshake at /socket.io/"
    return None


def run_all(specs: list[ServerSpec], timing: Timing, out: Path, log_dir: Path) -> None:
    """Every repetition, group and server (rotated), appending each result line to *out* as it arrives."""
    plan = groups(timing)
    with out.open("a") as sink:
        for rep in range(timing.reps):
            for index, group in enumerate(plan):
                shift = (rep + index) % len(specs)
                for spec in specs[shift:] + specs[:shift]:
                    started = time.monotonic()
                    for line in run_group(spec, group, log_dir):
                        line["rep"] = rep
                        sink.write(json.dumps(line) + "\n")
                        sink.flush()
                    print(
                        f"rep {rep + 1}/{timing.reps} {group.name:8} {spec.name:18} "
                        f"{time.monotonic() - started:5.1f} s",
                        flush=True,
                    )


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM would end Python without unwinding; as KeyboardInterrupt, every `with RunningServer`
    # and subprocess.run below stops its process by PID on the way out.
    raise KeyboardInterrupt


def main() -> int:
    """Parse flags, probe the servers, run the plan, write the results table."""
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one short repetition, 1,000 idle connections")
    parser.add_argument("--servers", default=",".join(SERVER_NAMES), help="comma-separated names")
    parser.add_argument(
        "--sioactor-tree",
        type=Path,
        default=None,
        help="run sioactor from this tree (e.g. `.` for the working tree); default: a snapshot of HEAD",
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        default=None,
        help="also run sioactor from this tree (e.g. a worktree of the commit before a change) as "
        "sioactor-<backend>-base, interleaved with the rest; the report compares the two",
    )
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 3, quick 1)")
    parser.add_argument("--report-only", type=Path, default=None, help="regenerate the table from a .jsonl")
    args = parser.parse_args()
    timing = QUICK if args.quick else FULL
    if args.reps is not None:
        timing = dataclasses.replace(timing, reps=args.reps)
    table = RESULTS / "quick.md" if args.quick else BENCH / "RESULTS.md"
    if args.report_only is not None:
        write_report(args.report_only, table, timing, skipped={}, source="see the raw lines' run")
        return 0
    wanted = args.servers.split(",")
    log_dir = RESULTS / "logs"
    if args.sioactor_tree is None:
        tree, source = snapshot_head(RESULTS / "sioactor-snapshot"), "a snapshot of HEAD"
    else:
        tree, source = args.sioactor_tree.resolve(), f"the tree at {args.sioactor_tree}"
    baseline = None if args.baseline_tree is None else args.baseline_tree.resolve()
    if baseline is not None:
        wanted += [f"{name}{BASELINE_SUFFIX}" for name in wanted if name.startswith("sioactor-")]
        source += f", against the baseline tree at {args.baseline_tree}"
    servers = [spec for spec in all_servers(tree, baseline) if spec.name in wanted]
    skipped = {spec.name: why for spec in servers if (why := probe(spec, log_dir))}
    specs = [spec for spec in servers if spec.name not in skipped]
    for name, why in skipped.items():
        print(f"skipping {name}: {why}", file=sys.stderr)
    out = RESULTS / ("quick.jsonl" if args.quick else "results.jsonl")
    # Lines accumulate in an untracked file and replace the committed one only at the end: git commands
    # that others run in the shared tree (stash, checkout) would otherwise swap a tracked file mid-run.
    partial = log_dir / f"{out.stem}-{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
    log_dir.mkdir(parents=True, exist_ok=True)
    run_all(specs, timing, partial, log_dir)
    os.replace(shutil.copy(partial, out.with_suffix(".tmp")), out)
    write_report(out, table, timing, skipped, source=source)
    print(f"results: {out}\ntable:   {table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
