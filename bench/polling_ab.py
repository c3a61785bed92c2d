"""Interleaved A/B of the bench's polling group (each scenario apart) between two sioactor trees, with Node.

    .venv/bin/python bench/polling_ab.py TREE_A TREE_B [--reps 4]

A tree is a checkout of sioactor (``git archive REV | tar -x -C DIR``). Each repetition runs the polling
group against a fresh server from A and from B on both backends (A first on even repetitions, B first on odd
ones), then Node, with the bench's pinning and timing (bench/run.py, bench/scenarios.py FULL). Prints each
run and the medians: msgs/s and server CPU per message.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import run  # the bench's own modules, beside this script
import scenarios
import serverctl


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("tree_a", type=Path)
    options.add_argument("tree_b", type=Path)
    options.add_argument("--reps", type=int, default=4)
    args = options.parse_args()
    trees = {"A": args.tree_a.resolve(), "B": args.tree_b.resolve()}
    group = next(g for g in scenarios.groups(scenarios.FULL) if g.name == "polling")
    node = next(spec for spec in serverctl.REFERENCE_SERVERS if spec.name == "node")
    log_dir = Path(__file__).parent / "results" / "logs"
    results: dict[str, list[dict[str, Any]]] = {}
    for rep in range(args.reps):
        runs = [
            (f"{label}-{backend}", serverctl.sioactor_server(backend, trees[label]))
            for backend in ("asyncio", "trio")
            for label in (("A", "B") if rep % 2 == 0 else ("B", "A"))
        ]
        for key, spec in [*runs, ("node", node)]:
            for line in run.run_group(spec, group, log_dir):
                scenario = line.get("scenario", "?")
                results.setdefault(f"{key} {scenario}", []).append(line)
                print(
                    rep,
                    key,
                    scenario,
                    line.get("msgs_per_s"),
                    "server cpu",
                    line.get("server_cpu"),
                    flush=True,
                )
    for key, lines in sorted(results.items()):
        rates = [line["msgs_per_s"] for line in lines if line.get("msgs_per_s")]
        per = [line["server_cpu"] / line["msgs_per_s"] * 1e6 for line in lines if line.get("server_cpu")]
        cpu = f"{statistics.median(per):.1f} µs" if per else "-"
        print(f"{key:44} median {statistics.median(rates):8.1f} msgs/s, server CPU per message {cpu}")


if __name__ == "__main__":
    main()
