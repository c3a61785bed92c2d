"""Bursts from real socket.io-client 4.8.1 clients are answered completely and in order (issue 18).

A client that emits faster than the server answers is slowed down (its connection stops being read), never
answered with loss: every event of a burst reaches its handler and every reply reaches the client, on both
backends, both transports, both parsers, the embedded server and uvicorn. ``InternalChannelFull`` and the
slow-consumer policies remain for a receiver that cannot keep up with what *others* send it.

The server is ``burst_server.py`` in a subprocess, and ``examples/reference_server.py`` (the acceptance
contract: its ``/`` also runs a catch-all listener, a per-packet middleware and an error handler for every
event); the client scenarios are in ``tests/node/burst_client.js``. The server's log must stay quiet: a lost
reply would log an ``InternalChannelFull`` traceback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_socketio_clients import free_port, wait_for_listening

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "node" / "burst_client.js"
SERVER = Path(__file__).with_name("burst_server.py")
REFERENCE = ROOT / "examples" / "reference_server.py"

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]

WS = ["websocket"]
POLLING = ["polling"]


@dataclass(frozen=True)
class Server:
    url: str
    parser: str
    pid: int
    log: Path

    def assert_quiet(self) -> None:
        """Nothing was logged: no handler failed, no reply was refused by a full outbox."""
        logged = self.log.read_text()
        assert logged == "", logged[-2000:]


@contextmanager
def serving(argv: Sequence[str], parser: str) -> Iterator[Server]:
    """Run a server from *argv* (its log in a file: a pipe nobody reads would block a server that logs a line
    per lost reply); stop it (by its PID) afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with log.open("w") as stderr:
            proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
            try:
                yield Server(url=wait_for_listening(proc, timeout=15), parser=parser, pid=proc.pid, log=log)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()


def burst_server(
    backend: str, parser: str, server: str = "embedded", policy: str = "error"
) -> AbstractContextManager[Server]:
    """Run ``burst_server.py``."""
    argv = [sys.executable, str(SERVER), "--port", str(free_port()), "--backend", backend, "--parser", parser]
    return serving([*argv, "--server", server, "--slow-consumer", policy], parser)


def reference_server(backend: str, parser: str, server: str = "embedded") -> AbstractContextManager[Server]:
    """Run ``examples/reference_server.py``. Its heartbeat (300 ms, 200 ms) is the protocol suites'; a burst
    on a busy machine can outlast it, for Node's server as well, and the client is then closed for a late
    pong: the bursts here run with a 5 s heartbeat, so they test loss, not the machine's load."""
    argv = [sys.executable, str(REFERENCE), "--port", str(free_port()), "--backend", backend]
    argv += ["--parser", parser, "--server", server, "--ping-interval", "5000", "--ping-timeout", "5000"]
    return serving(argv, parser)


def run_burst(server: Server, scenario: str, n: int, transports: list[str], **extra: Any) -> dict[str, Any]:
    """Run one scenario of the burst driver; return its result line."""
    config = {
        "scenario": scenario,
        "url": server.url,
        "parser": server.parser,
        "n": n,
        "transports": transports,
    }
    config.update(extra)
    done = subprocess.run(
        ["node", str(DRIVER), json.dumps(config)], cwd=ROOT, capture_output=True, text=True, timeout=40
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert lines, done.stderr
    result: dict[str, Any] = lines[-1]
    assert "error" not in result, (result, done.stderr)
    return result


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident memory (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


STACKS = [
    pytest.param(("asyncio", "json", "embedded"), id="asyncio-json"),
    pytest.param(("asyncio", "msgpack", "embedded"), id="asyncio-msgpack"),
    pytest.param(("trio", "json", "embedded"), id="trio-json"),
    pytest.param(("trio", "msgpack", "embedded"), id="trio-msgpack"),
    pytest.param(("asyncio", "json", "uvicorn"), id="uvicorn-json"),
]


@pytest.fixture(scope="module", params=STACKS)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    backend, parser, kind = request.param
    with burst_server(backend, parser, kind) as running:
        yield running


@pytest.fixture(scope="module", params=STACKS)
def reference(request: pytest.FixtureRequest) -> Iterator[Server]:
    backend, parser, kind = request.param
    with reference_server(backend, parser, kind) as running:
        yield running


# (scenario, burst size, transports): the bursts of issue 18's table, plus one to an ``async def`` handler
# larger than the socket's inbox (128) on each transport.
BURSTS = [
    pytest.param("echo", 1000, WS, id="echo-1000-websocket"),
    pytest.param("echo", 500, POLLING, id="echo-500-polling"),
    pytest.param("offline", 300, WS, id="offline-300"),
    pytest.param("acks", 1000, WS, id="acks-1000"),
    pytest.param("echo_async", 1000, WS, id="async-1000-websocket"),
    pytest.param("echo_async", 500, POLLING, id="async-500-polling"),
]


@pytest.mark.parametrize(("scenario", "n", "transports"), BURSTS)
def test_a_burst_is_answered_completely_and_in_order(
    server: Server, scenario: str, n: int, transports: list[str]
) -> None:
    result = run_burst(server, scenario, n, transports)
    assert result["received"] == n, result
    assert result["in_order"], result
    server.assert_quiet()


@pytest.mark.parametrize(
    "transports", [pytest.param(WS, id="websocket"), pytest.param(POLLING, id="polling")]
)
def test_twenty_clients_bursting_at_once_get_every_reply(server: Server, transports: list[str]) -> None:
    result = run_burst(server, "clients", 300, transports, k=20)
    assert result["received"] == [300] * 20, result
    assert result["in_order"], result
    server.assert_quiet()


def test_a_broadcast_burst_reaches_every_listener(server: Server) -> None:
    result = run_burst(server, "bcast", 300, WS, k=20)
    assert result["received"] == [300] * 20, result
    assert result["in_order"], result
    server.assert_quiet()


@pytest.mark.parametrize(("scenario", "n", "transports"), BURSTS)
def test_the_reference_server_answers_a_burst_completely_and_in_order(
    reference: Server, scenario: str, n: int, transports: list[str]
) -> None:
    result = run_burst(reference, scenario, n, transports)
    assert result["received"] == n, result
    assert result["in_order"], result
    reference.assert_quiet()


def test_the_reference_server_answers_twenty_bursting_clients_and_a_broadcast_burst(
    reference: Server,
) -> None:
    clients = run_burst(reference, "clients", 300, WS, k=20)
    assert clients["received"] == [300] * 20, clients
    assert clients["in_order"], clients
    bcast = run_burst(reference, "bcast", 300, WS, k=20)
    assert bcast["received"] == [300] * 20, bcast
    assert bcast["in_order"], bcast
    reference.assert_quiet()


@pytest.mark.parametrize("stack", STACKS)
def test_a_client_that_stops_reading_is_throttled_with_memory_bounded(stack: tuple[str, str, str]) -> None:
    # 3,000 echoes of 4 KiB (12 MB of replies) into a client that reads nothing for 2 s: the server stops
    # reading it (what the client sends waits in the kernel's buffers, then in its own), a second client's
    # round trips go on, the server's memory stays bounded, and once the client reads again every reply
    # arrives, in order. Without back-pressure the replies beyond the bounds would be lost.
    with burst_server(*stack) as running:
        before = peak_rss_kib(running.pid)
        result = run_burst(running, "stop_reading", 3000, WS, size=4096, pause_ms=2000)
        grown = peak_rss_kib(running.pid) - before
        running.assert_quiet()
    assert result["received"] == 3000, result
    assert result["in_order"], result
    assert result["during"] == 0, result
    assert result["round_trips"] > 10, result
    assert result["median_rtt_ms"] < 200, result
    assert grown < 40_000, f"the server grew by {grown} KiB"


# Every policy on the embedded asyncio server; the transports' blocking, which decides when a policy applies,
# also on trio (msgpack) and uvicorn.
POLICY_CASES = [
    pytest.param("error", ("asyncio", "json", "embedded"), id="error-asyncio-json"),
    pytest.param("drop_oldest", ("asyncio", "json", "embedded"), id="drop_oldest-asyncio-json"),
    pytest.param("disconnect", ("asyncio", "json", "embedded"), id="disconnect-asyncio-json"),
    pytest.param("drop_oldest", ("trio", "msgpack", "embedded"), id="drop_oldest-trio-msgpack"),
    pytest.param("error", ("asyncio", "json", "uvicorn"), id="error-uvicorn-json"),
    pytest.param("disconnect", ("asyncio", "json", "uvicorn"), id="disconnect-uvicorn-json"),
]


@pytest.mark.parametrize(("policy", "stack"), POLICY_CASES)
def test_slow_consumer_policies_still_apply_to_broadcasts_into_a_client_that_stops_reading(
    policy: str, stack: tuple[str, str, str]
) -> None:
    # 2,500 broadcasts of 4 KiB (10 MB) while one listener reads nothing: the healthy listener gets them all;
    # the slow one loses some (error, drop_oldest: the latest survive, in order) or is disconnected.
    with burst_server(*stack, policy=policy) as running:
        result = run_burst(running, "slow_listener", 2500, WS, size=4096)
    assert result["healthy"] == {"received": 2500, "in_order": True}, result
    slow = result["slow"]
    if policy == "disconnect":
        assert result["disconnected"] is not None, result
        assert slow["received"] < 2500, result
    else:
        assert result["disconnected"] is None, result
        assert 0 < slow["received"] < 2500, result
        assert slow["increasing"], result
