"""Driving a mixed cluster from pytest: sioactor nodes (``examples/reference_server.py --redis``), Node nodes
(``tests/node/cluster_node.js``) and socket.io-client clients (``tests/node/cluster_clients.js``), each a
subprocess stopped by its PID; every wait is bounded."""

from __future__ import annotations

import base64
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from node_cluster import NODE, ROOT, from_printable
from redis_server import free_port

Line = dict[str, Any]


def to_printable(value: Any) -> Any:
    """The ``{"$bin": base64}`` spelling of binary values the Node scripts read."""
    if isinstance(value, bytes):
        return {"$bin": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: to_printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_printable(v) for v in value]
    return value


class Server:
    """One node of the cluster: ``url`` is where clients connect."""

    def __init__(self, args: list[str], name: str) -> None:
        self.name = name
        self._proc = subprocess.Popen(
            args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.startswith("listening on "):
            self.stop()
            raise AssertionError(f"{name} did not start: {line!r} {self.stderr()}")
        self.url = line.split()[-1]

    @classmethod
    def python(
        cls, redis_url: str, key: str, server_id: str, backend: str, *extra: str, adapter: str = "classic"
    ) -> Server:
        script = str(ROOT / "examples/reference_server.py")
        args = [sys.executable, script, "--port", str(free_port()), "--backend", backend]
        args += ["--redis", redis_url, "--redis-key", key, "--server-id", server_id]
        args += ["--redis-adapter", adapter, *extra]
        return cls(args, server_id)

    @classmethod
    def node(
        cls, redis_url: str, key: str, server_id: str, *, adapter: str = "classic", mode: str = "dynamic"
    ) -> Server:
        """A Node node (``cluster_node.js``) with the classic or the sharded adapter (in *mode*)."""
        assert NODE is not None
        config = {
            "redis": redis_url,
            "key": key,
            "server_id": server_id,
            "adapter": adapter,
            "subscription_mode": mode,
        }
        return cls([NODE, str(ROOT / "tests/node/cluster_node.js"), json.dumps(config)], server_id)

    def stderr(self) -> str:
        if self._proc.poll() is None or self._proc.stderr is None:
            return ""
        return self._proc.stderr.read()[-3000:]

    def stop(self) -> str:
        """Stop it (stdin closed, then SIGTERM, then SIGKILL); returns what it wrote on stderr."""
        proc = self._proc
        if proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        err = proc.stderr.read() if proc.stderr is not None else ""
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        return err


class Clients:
    """The ``cluster_clients.js`` process: named socket.io-client clients."""

    def __init__(self) -> None:
        assert NODE is not None
        self._proc = subprocess.Popen(
            [NODE, str(ROOT / "tests/node/cluster_clients.js")],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[Line | None] = queue.Queue()
        self.seen: list[Line] = []
        self._next_id = 0
        self.sids: dict[str, str] = {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            self._lines.put(from_printable(json.loads(raw)))
        self._lines.put(None)

    def _command(self, command: Line, timeout: float = 10) -> Line:
        self._next_id += 1
        command["id"] = self._next_id
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(to_printable(command)) + "\n")
        self._proc.stdin.flush()
        return self.wait_for(lambda line: line.get("id") == command["id"], timeout=timeout)

    def wait_for(self, predicate: Callable[[Line], bool], *, count: int = 1, timeout: float = 10) -> Line:
        """The *count*-th line so far or to come that satisfies *predicate*."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [line for line in self.seen if predicate(line)]
            if len(matching) >= count:
                return matching[count - 1]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no such line from the clients within {timeout} s; seen: {self.seen[-20:]}"
                )
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the clients process exited; seen: {self.seen[-20:]}")
            self.seen.append(line)

    def connect(self, name: str, server: Server) -> str:
        answer = self._command({"connect": name, "url": server.url})
        assert "sid" in answer, answer
        self.sids[name] = answer["sid"]
        return str(answer["sid"])

    def ask(self, client: str, event: str, *args: Any, timeout: float = 10) -> Any:
        """*client* emits *event* with *args* and an ack; the ack's value (or an AssertionError)."""
        answer = self._command({"client": client, "emit": event, "args": list(args)}, timeout=timeout)
        assert "ack" in answer, answer
        return answer["ack"]

    def send(self, client: str, event: str, *args: Any) -> None:
        """*client* emits *event* without an ack."""
        self._command({"client": client, "send": event, "args": list(args)})

    def events(self, client: str, event: str) -> list[list[Any]]:
        """The arguments of each *event* *client* received so far."""
        return [
            line["args"] for line in self.seen if line.get("client") == client and line.get("event") == event
        ]

    def wait_event(self, client: str, event: str, *, count: int = 1, timeout: float = 10) -> list[Any]:
        line = self.wait_for(
            lambda ln: ln.get("client") == client and ln.get("event") == event, count=count, timeout=timeout
        )
        return list(line["args"])

    def wait_disconnect(self, client: str, timeout: float = 10) -> str:
        line = self.wait_for(lambda ln: ln.get("client") == client and "disconnect" in ln, timeout=timeout)
        return str(line["disconnect"])

    def stop(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._reader.join(timeout=5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
