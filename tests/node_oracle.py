"""Ask a Node script under tests/node/ a question: the JSON question on its stdin, the JSON answer on its
stdout. The protocol tests cross-check our codecs against the real npm packages this way."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def ask_node(script: str, question: dict[str, Any]) -> dict[str, Any]:
    """Run ``node tests/node/<script>`` with *question*; its answer (a non-zero exit raises)."""
    done = subprocess.run(
        ["node", str(ROOT / "tests" / "node" / script)],
        input=json.dumps(question),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=True,
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer
