"""Driving a mixed cluster from pytest: sioactor nodes (``examples/reference_server.py --redis``), Node nodes
(``tests/node/cluster_node.js``) and socket.io-client clients (``tests/node/cluster_clients.js``), each a
subprocess stopped by its PID; every wait is bounded."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any

from node_cluster import NODE, ROOT, NodeLines
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


class Clients(NodeLines):
    """The ``cluster_clients.js`` process: named socket.io-client clients."""

    def __init__(self) -> None:
        super().__init__([str(ROOT / "tests/node/cluster_clients.js")], "the clients", fail_on_error=False)
        self._next_id = 0
        self.sids: dict[str, str] = {}

    def _command(self, command: Line, timeout: float = 10) -> Line:
        self._next_id += 1
        command["id"] = self._next_id
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(to_printable(command)) + "\n")
        self._proc.stdin.flush()
        return self.wait_for(lambda line: line.get("id") == command["id"], timeout=timeout)

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
