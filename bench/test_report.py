"""Checks of the results table's arithmetic (medians, flags, ratios, targets) on hand-made result lines.

Run with ``.venv/bin/pytest bench/test_report.py`` (the bench is not part of the project's test command).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import KEPT_HEADING, Rows, flags, headline_table, kept_section, load, median, targets_section


def _line(server: str, scenario: str, **metrics: Any) -> dict[str, Any]:
    return {"server": server, "scenario": scenario, "errors": 0, **metrics}


def _rows(tmp_path: Path, lines: list[dict[str, Any]]) -> Rows:
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return load(path)


def test_median_skips_repetitions_with_errors() -> None:
    results = [
        _line("node", "echo_emit_1", msgs_per_s=100.0),
        _line("node", "echo_emit_1", msgs_per_s=300.0),
        {**_line("node", "echo_emit_1", msgs_per_s=1_000_000.0), "errors": 2},
    ]
    assert median(results, "msgs_per_s") == 200.0
    assert "E" in flags(results, "msgs_per_s")


@pytest.mark.parametrize(
    ("values", "other_cpu", "loadgen_cpu", "expected"),
    [
        ((100.0, 101.0, 99.0), 0.0, 0.5, ""),
        ((100.0, 140.0, 99.0), 0.0, 0.5, "*"),
        ((100.0, 101.0, 99.0), 0.5, 0.5, "!"),
        ((100.0, 101.0, 99.0), 0.0, 0.95, "L"),
    ],
)
def test_flags(values: tuple[float, ...], other_cpu: float, loadgen_cpu: float, expected: str) -> None:
    results = [
        _line("node", "bcast_1000", deliveries_per_s=v, other_cpu=other_cpu, loadgen_cpu=loadgen_cpu)
        for v in values
    ]
    assert flags(results, "deliveries_per_s") == expected


def test_headline_ratios_and_targets(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        [
            _line("node", "echo_emit_10", msgs_per_s=80_000.0, p99_ms=10.0),
            _line("python-socketio", "echo_emit_10", msgs_per_s=10_000.0),
            _line("sioactor-asyncio", "echo_emit_10", msgs_per_s=60_000.0, p99_ms=12.0),
            _line("sioactor-trio", "echo_emit_10", msgs_per_s=48_000.0, p99_ms=16.0),
            _line("node", "idle_10000", kib_per_conn=14.0, connects_per_s=3_000.0),
            _line("sioactor-asyncio", "idle_10000", kib_per_conn=15.0, connects_per_s=2_400.0),
            _line("sioactor-trio", "idle_10000", kib_per_conn=17.0, connects_per_s=2_000.0),
        ],
    )
    servers = ["node", "python-socketio", "sioactor-asyncio", "sioactor-trio"]
    table = list(headline_table(rows, servers))
    echo_row = next(line for line in table if line.startswith("| echo_emit_10 "))
    # asyncio/node, asyncio/python-socketio, trio/node, trio/python-socketio, trio/asyncio
    assert echo_row.endswith("| 0.75x | 6.00x | 0.60x | 4.80x | 0.80x |")
    targets = "\n".join(targets_section(rows, servers))
    assert "| echo_emit_10 >= 0.75x node | 0.75x met | 0.60x missed |" in targets
    assert "| idle_10000 <= 16 KiB/conn | 15.0 KiB met | 17.0 KiB missed |" in targets
    assert "| echo_emit_10 p99 <= 1.5x node | 1.20x met | 1.60x missed |" in targets
    assert "| idle_10000 connects/s >= 0.7x node | 0.80x met | 0.67x missed |" in targets
    assert "echo_ack_1" not in targets  # a scenario not measured has no target line
    assert "-20% missed" in targets


def test_a_regenerated_report_keeps_the_hand_written_design_measurements(tmp_path: Path) -> None:
    table = tmp_path / "RESULTS.md"
    hand_written = f"{KEPT_HEADING}\n\n- a figure, measured by hand\n"
    table.write_text(f"# Benchmark results\n\n| old | table |\n\n{hand_written}")
    assert kept_section(table) == ["", KEPT_HEADING, "", "- a figure, measured by hand"]
    table.write_text("# Benchmark results\n\nno hand-written part\n")
    assert kept_section(table) == []
    assert kept_section(tmp_path / "missing.md") == []
