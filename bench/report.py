"""Turns the bench's JSON lines into bench/RESULTS.md: medians, ratios to the reference servers, flags.

Flags on a median: `*` the repetitions spread more than 15 % around it; `!` other work on the machine used
more than a quarter of a core during a measured window; `L` the load generator used ≥ 90 % of its core (it
may have been the bottleneck); `E` a repetition reported errors (lost replies, closed sockets, bad echoes);
`R` idle connects failed (closed by the server before CONNECT completed) and were retried: see `retries`.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from scenarios import Timing
from serverctl import BASELINE_NAMES, BASELINE_SUFFIX, BENCH, ROOT, SERVER_NAMES

SPREAD_LIMIT = 0.15
OTHER_CPU_LIMIT = 0.25
LOADGEN_LIMIT = 0.9
# The headline metric of each scenario family, and whether lower is better.
HEADLINE = {
    "echo": "msgs_per_s",
    "polling": "msgs_per_s",
    "bcast": "deliveries_per_s",
    "idle": "kib_per_conn",
    "burst": "msgs_per_s",
    "echo10k": "msgs_per_s",
}
SIOACTOR = ("sioactor-asyncio", "sioactor-trio")
RATIO_BASES = ("node", "python-socketio")

Rows = dict[tuple[str, str], list[dict[str, Any]]]


def load(path: Path) -> Rows:
    """Result lines grouped by (scenario, server)."""
    rows: Rows = defaultdict(list)
    for line in path.read_text().splitlines():
        result = json.loads(line)
        rows[(result["scenario"], result["server"])].append(result)
    return rows


def median(results: list[dict[str, Any]], key: str) -> float | None:
    """Median of *key* over the repetitions that reported it without errors."""
    values = [r[key] for r in results if r.get(key) is not None and not r.get("errors")]
    return statistics.median(values) if values else None


def flags(results: list[dict[str, Any]], key: str) -> str:
    """The flag letters (see the module docstring) for one cell."""
    marks = ""
    values = [r[key] for r in results if r.get(key) is not None and not r.get("errors")]
    if (
        len(values) > 1
        and statistics.median(values)
        and (max(values) - min(values)) / 2 > SPREAD_LIMIT * abs(statistics.median(values))
    ):
        marks += "*"
    if any((r.get("other_cpu") or 0) > OTHER_CPU_LIMIT for r in results):
        marks += "!"
    if any((r.get("loadgen_cpu") or 0) >= LOADGEN_LIMIT for r in results):
        marks += "L"
    if any(r.get("errors") for r in results):
        marks += "E"
    if any(r.get("connect_retries") for r in results):
        marks += "R"
    return marks


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def _ratio(top: float | None, bottom: float | None) -> str:
    return f"{top / bottom:.2f}x" if top is not None and bottom else "—"


def _scenarios(rows: Rows) -> list[str]:
    """Scenario names in the bench's order: family, then variant, then size (numerically)."""
    order = ("echo", "bcast", "idle", "polling", "burst", "echo10k")

    def key(name: str) -> tuple[int, str, int]:
        family, _, rest = name.partition("_")
        stem, _, size = rest.rpartition("_")
        rank = order.index(family) if family in order else len(order)
        return (rank, stem, int(size) if size.isdigit() else 0)

    return sorted({scenario for scenario, _ in rows}, key=key)


# (scenario, metric, bound): sioactor's targets, from the benchmark issue. The metric is the scenario's
# headline compared with Node's (at least *bound* times), p99 latency compared with Node's (at most *bound*
# times), the idle connects/s compared with Node's (at least), or the idle KiB per connection (at most).
TARGETS = (
    ("echo_emit_1", "headline", 0.75),
    ("echo_ack_1", "headline", 0.75),
    ("echo_emit_10", "headline", 0.75),
    ("echo_ack_10", "headline", 0.75),
    ("echo_emit_1", "p99", 1.5),
    ("echo_ack_1", "p99", 1.5),
    ("echo_emit_10", "p99", 1.5),
    ("echo_ack_10", "p99", 1.5),
    ("bcast_1000", "headline", 1.0),
    ("idle_10000", "KiB", 16.0),
    ("idle_10000", "connects", 0.7),
    ("polling_echo_50", "headline", 0.8),
    ("polling_echo_client_heads_50", "headline", 1.0),  # the hardening issue's bar, on real clients' heads
)


def targets_section(rows: Rows, servers: list[str]) -> Iterable[str]:
    """Each target with sioactor's measured value per backend, and trio's gap to asyncio."""
    backends = [s for s in SIOACTOR if s in servers]
    if not backends:
        return
    yield "| target | " + " | ".join(backends) + " |"
    yield "|---|" + "---|" * len(backends)
    for scenario, metric, bound in TARGETS:
        if not any((scenario, backend) in rows for backend in backends):
            continue
        cells = [_target_cell(rows, scenario, metric, bound, backend) for backend in backends]
        yield f"| {_target_label(scenario, metric, bound)} | " + " | ".join(cells) + " |"
    if len(backends) == 2:
        yield from _trio_gap(rows)


def _target_label(scenario: str, metric: str, bound: float) -> str:
    if metric == "KiB":
        return f"{scenario} <= {bound:g} KiB/conn"
    if metric == "p99":
        return f"{scenario} p99 <= {bound:g}x node"
    if metric == "connects":
        return f"{scenario} connects/s >= {bound:g}x node"
    return f"{scenario} >= {bound:g}x node"


def _target_cell(rows: Rows, scenario: str, metric: str, bound: float, backend: str) -> str:
    key = {"KiB": "kib_per_conn", "p99": "p99_ms", "connects": "connects_per_s"}.get(
        metric, HEADLINE[scenario.split("_")[0]]
    )
    value = median(rows.get((scenario, backend), []), key)
    if metric == "KiB":
        return "—" if value is None else f"{value:.1f} KiB {'met' if value <= bound else 'missed'}"
    ref = median(rows.get((scenario, "node"), []), key)
    ratio = value / ref if value is not None and ref else None
    if ratio is None:
        return "—"
    met = ratio <= bound if metric == "p99" else ratio >= bound
    return f"{ratio:.2f}x {'met' if met else 'missed'}"


def _trio_gap(rows: Rows) -> Iterable[str]:
    gaps = []
    for scenario in _scenarios(rows):
        key = HEADLINE.get(scenario.split("_")[0])
        if key is None or key == "kib_per_conn":
            continue
        trio = median(rows.get((scenario, "sioactor-trio"), []), key)
        aio = median(rows.get((scenario, "sioactor-asyncio"), []), key)
        if trio is not None and aio:
            gaps.append(trio / aio - 1)
    if gaps:
        worst = min(gaps)
        verdict = "met" if worst >= -0.15 else "missed"
        yield f"| trio within 15 % of asyncio (worst scenario) | {worst:+.0%} {verdict} | |"


def headline_table(rows: Rows, servers: list[str]) -> Iterable[str]:
    """Medians of each scenario's headline metric per server, and sioactor's ratios."""
    ratio_cols = [(s, b) for s in SIOACTOR if s in servers for b in RATIO_BASES if b in servers]
    trio_vs_asyncio = all(s in servers for s in SIOACTOR)
    head = ["scenario", "metric", *servers, *(f"{s.removeprefix('sioactor-')}/{b}" for s, b in ratio_cols)]
    head += ["trio/asyncio"] if trio_vs_asyncio else []
    yield "| " + " | ".join(head) + " |"
    yield "|" + "---|" * len(head)
    for scenario in _scenarios(rows):
        key = HEADLINE.get(scenario.split("_")[0])
        if key is None:
            continue
        med = {s: median(rows.get((scenario, s), []), key) for s in servers}
        cells = [scenario, key]
        cells += [_fmt(med[s]) + flags(rows.get((scenario, s), []), key) for s in servers]
        cells += [_ratio(med[s], med[b]) for s, b in ratio_cols]
        cells += [_ratio(med["sioactor-trio"], med["sioactor-asyncio"])] if trio_vs_asyncio else []
        yield "| " + " | ".join(cells) + " |"


def detail_table(rows: Rows, servers: list[str]) -> Iterable[str]:
    """Latency, connects/s and CPU medians: what the headline numbers rest on."""
    yield (
        "| scenario | server | p50 ms | p99 ms | connects/s | retries "
        "| server CPU | loadgen CPU | other CPU | reps |"
    )
    yield "|---|---|---|---|---|---|---|---|---|---|"
    for scenario in _scenarios(rows):
        for server in servers:
            results = rows.get((scenario, server), [])
            if not results:
                continue
            cells = [median(results, k) for k in ("p50_ms", "p99_ms", "connects_per_s", "connect_retries")]
            cpus = [median(results, k) for k in ("server_cpu", "loadgen_cpu", "other_cpu")]
            good = sum(1 for r in results if not r.get("errors"))
            yield (
                f"| {scenario} | {server} | "
                + " | ".join(_fmt(v) for v in cells + cpus)
                + f" | {good}/{len(results)} |"
            )


def baseline_section(rows: Rows) -> Iterable[str]:
    """Each sioactor server's headline medians over its baseline's (``--baseline-tree``), scenario by
    scenario: a change is within its budget when no ratio falls more than 5 % (for memory: rises)."""
    present = {server for _, server in rows}
    pairs = [(s, s + BASELINE_SUFFIX) for s in SIOACTOR if s in present and s + BASELINE_SUFFIX in present]
    if not pairs:
        return
    yield (
        "| scenario | metric | "
        + " | ".join(f"{s.removeprefix('sioactor-')} / base" for s, _ in pairs)
        + " |"
    )
    yield "|---|---|" + "---|" * len(pairs)
    for scenario in _scenarios(rows):
        key = HEADLINE.get(scenario.split("_")[0])
        if key is None:
            continue
        cells = []
        for now, base in pairs:
            a, b = median(rows.get((scenario, now), []), key), median(rows.get((scenario, base), []), key)
            if a is None or not b:
                cells.append("—")
                continue
            ratio = a / b
            within = ratio <= 1.05 if key == "kib_per_conn" else ratio >= 0.95
            cells.append(f"{ratio:.2f}x{'' if within else ' (over 5 %)'}")
        yield f"| {scenario} | {key} | " + " | ".join(cells) + " |"


def errors_section(rows: Rows) -> Iterable[str]:
    """One line per failed repetition, with the load generator's explanation."""
    for (scenario, server), results in sorted(rows.items()):
        for r in results:
            if r.get("errors"):
                yield f"- {server} {scenario} rep {r.get('rep')}: {r.get('error_detail')}"


def _npm_version(name: str) -> str:
    try:
        return str(json.loads((BENCH / "node_modules" / name / "package.json").read_text())["version"])
    except (OSError, KeyError, ValueError):
        return "?"


def _py_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def _command(*argv: str) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10, cwd=ROOT).stdout.strip()
    except OSError:
        return "?"


def machine_section(source: str) -> Iterable[str]:
    """CPU, memory, kernel, runtimes and the versions of every server stack measured."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _command("lscpu").splitlines()
            if line.startswith("Model name")
        ),
        "?",
    )
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    yield f"- CPU: {cpu}, {os.cpu_count()} cores; memory {mem_kib / 2**20:.1f} GiB"
    yield f"- Linux {platform.release()}"
    yield (
        f"- Node {_command('node', '--version')}: socket.io {_npm_version('socket.io')}, engine.io "
        f"{_npm_version('engine.io')}, ws {_npm_version('ws')} (load generator and Node server)"
    )
    py = ", ".join(
        f"{n} {_py_version(n)}"
        for n in (
            "python-socketio",
            "python-engineio",
            "uvicorn",
            "uvloop",
            "httptools",
            "websockets",
            "anyio",
            "trio",
            "orjson",
        )
    )
    yield f"- Python {platform.python_version()}: {py}"
    yield (
        f"- sioactor: {source}, HEAD {_command('git', 'rev-parse', '--short', 'HEAD')} "
        f"({_command('git', 'log', '-1', '--format=%cs')})"
    )


KEPT_HEADING = "## Design measurements"


def kept_section(table: Path) -> list[str]:
    """The hand-written part of *table* (from KEPT_HEADING on), which a regenerated report keeps.

    The design's own figures (what a technique saves, measured once with its method) live there, so that
    module docstrings and ARCHITECTURE.md can point at them instead of quoting numbers that drift.
    """
    if not table.exists():
        return []
    text = table.read_text()
    start = text.find("\n" + KEPT_HEADING + "\n")
    return [] if start < 0 else ["", *text[start + 1 :].rstrip("\n").splitlines()]


def write_report(jsonl: Path, table: Path, timing: Timing, skipped: dict[str, str], *, source: str) -> None:
    """Write the markdown results for *jsonl* to *table*, keeping its hand-written design measurements."""
    rows = load(jsonl)
    present = {server for _, server in rows}
    servers = [name for name in (*SERVER_NAMES, *BASELINE_NAMES) if name in present]
    lines = [
        "# Benchmark results",
        "",
        "Generated by `bash bench/run.sh` (bench/report.py); raw lines in "
        f"`bench/results/{jsonl.name}`. Medians of {timing.reps} repetition(s); server pinned to CPU 0, "
        "load generator (Node + ws, raw Engine.IO/Socket.IO frames) to CPU 1; servers interleaved.",
        f"Windows: {timing.warmup} s warm-up + {timing.duration} s measured; "
        "echo ~100-byte JSON, 50 clients; broadcast 1,000 clients, one sender, 10 broadcasts in flight;",
        "idle RSS = (RSS - RSS before) / connections.",
        "Ratios divide medians; for `kib_per_conn` lower is better, for every other metric higher is better.",
        "",
        *__doc__.split("\n\n", 1)[1].strip().splitlines(),
        "",
        *headline_table(rows, servers),
        "",
        "## Targets",
        "",
        *(list(targets_section(rows, servers)) or ["(no sioactor results)"]),
        "",
        "## Latency, connects and CPU (medians)",
        "",
        *detail_table(rows, servers),
        "",
        "## Machine and versions",
        "",
        *machine_section(source),
    ]
    against_baseline = list(baseline_section(rows))
    lines += (
        ["", "## Against the baseline tree (same run, interleaved)", "", *against_baseline]
        if against_baseline
        else []
    )
    lines += ["", "## Not measured", "", *(f"- {n}: {why}" for n, why in skipped.items())] if skipped else []
    failures = list(errors_section(rows))
    lines += ["", "## Failed repetitions", "", *failures] if failures else []
    lines += kept_section(table)
    table.write_text("\n".join(lines) + "\n")
