"""Driving ``tests/node/cluster_server.js`` (a Node socket.io server in a Redis cluster, with clients) from
pytest: start it, read its JSON lines on a thread, wait (bounded) for the lines a test expects, stop it."""

from __future__ import annotations

import base64
import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
NODE_MISSING = "node is not installed"
Line = dict[str, Any]
ADAPTER_KINDS = ("classic", "sharded")
"""The two adapters of @socket.io/redis-adapter 8.3 (``createAdapter``, ``createShardedAdapter``): a test runs
on both with ``@pytest.mark.parametrize("adapter_kind", ADAPTER_KINDS)`` (the ``adapter_kind`` fixture)."""


def from_printable(value: Any) -> Any:
    """Undo the Node side's ``{"$bin": base64}`` spelling of binary values."""
    if isinstance(value, dict):
        if set(value) == {"$bin"}:
            return base64.b64decode(value["$bin"])
        return {k: from_printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_printable(v) for v in value]
    return value


class NodeLines:
    """A Node script speaking JSON lines on stdout (and reading commands on stdin): its lines are read on a
    thread and kept in ``seen``; ``wait_for`` waits, bounded, for the ones a test expects."""

    def __init__(self, args: list[str], what: str, *, fail_on_error: bool) -> None:
        assert NODE is not None
        self._what = what
        self._fail_on_error = fail_on_error
        self._proc = subprocess.Popen(
            [NODE, *args], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._lines: queue.Queue[Line | None] = queue.Queue()
        self.seen: list[Line] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            self._lines.put(from_printable(json.loads(raw)))
        self._lines.put(None)

    def wait_for(self, predicate: Callable[[Line], bool], *, count: int = 1, timeout: float = 10) -> Line:
        """The last of the first *count* lines (among those read so far, or still to come) that satisfy
        *predicate*; every line read is kept in ``seen``."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [line for line in self.seen if predicate(line)]
            if len(matching) >= count:
                return matching[count - 1]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no such line from {self._what} within {timeout} s; seen: {self.seen[-20:]}"
                )
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(
                    f"{self._what} exited (code {self._proc.poll()}); seen: {self.seen[-20:]}"
                )
            if self._fail_on_error and "error" in line:
                raise AssertionError(f"{self._what} failed: {line['error']}")
            self.seen.append(line)

    def stop(self) -> None:
        """Close its stdin (it closes its clients and connections), then make sure it is gone."""
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._reader.join(timeout=5)  # it ends at the end of stdout, which the exit brought
        if self._proc.stdout is not None:
            self._proc.stdout.close()


class NodeCluster(NodeLines):
    """One ``cluster_server.js`` process; ``ids`` maps client names (c1, c2, c3) to their socket ids."""

    def __init__(self, redis_url: str, key: str, adapter: str = "classic") -> None:
        config = json.dumps({"redis": redis_url, "key": key, "adapter": adapter})
        super().__init__(
            [str(ROOT / "tests/node/cluster_server.js"), config], "the Node server", fail_on_error=True
        )
        ready = self.wait_for(lambda line: bool(line.get("ready")), timeout=20)
        self.ids: dict[str, str] = ready["ids"]

    def events(self, client: str) -> list[tuple[str, list[Any]]]:
        """The events *client* received so far, in order, as ``(event, args)``."""
        return [
            (line["event"], line["args"])
            for line in self.seen
            if line.get("client") == client and "event" in line
        ]
