"""The embedded server with ``--workers N`` (the reference server, a real process tree) driven by real
clients, every HTTP request on a fresh TCP connection, so that the kernel (``SO_REUSEPORT``) spreads a
session's requests over the workers and each must reach the session's owner.

What proves the routing: a session lives through many requests on fresh connections (its id unchanged, no
disconnect), which with N workers would otherwise fail (N-1)/N of the time; the ``worker`` ack (the pid of
the socket's owner) shows the sessions spread over the workers; ``bcast`` reaches every client, whichever
worker holds it; ``server_count`` counts the workers, as Redis nodes are counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

ROOT = Path(__file__).resolve().parents[3]
DRIVER = Path(__file__).resolve().parent / "workers_client.js"
sys.path.insert(0, str(ROOT / "tests" / "interop"))
from reference_process import free_port  # noqa: E402

pytestmark = pytest.mark.interop

# The reference server's 300/200 ms heartbeat is tight for a loaded 2-core machine; routing is under test.
SLOW_PINGS = ("--ping-interval", "2000", "--ping-timeout", "5000")


@dataclass
class Workers:
    proc: subprocess.Popen[str]
    port: int
    count: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> set[int]:
        # The supervisor's thread forks them: its task lists them as its children.
        pids: set[int] = set()
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                pids.update(int(pid) for pid in (task / "children").read_text().split())
            except FileNotFoundError:
                continue  # a thread that ended meanwhile
        return pids


@pytest.fixture(
    scope="module",
    params=[("asyncio", 2), ("trio", 2), ("asyncio", 3), ("trio", 3)],
    ids=["asyncio-2", "trio-2", "asyncio-3", "trio-3"],
)
def workers(request: pytest.FixtureRequest) -> Iterator[Workers]:
    backend, count = request.param
    with serve_workers(backend, count) as served:
        yield served


class serve_workers:
    """The reference server with ``--workers count``; on exit SIGTERM, and the whole tree must be gone with
    status 0 within the grace period."""

    def __init__(self, backend: str, count: int, *extra: str) -> None:
        self.backend = backend
        self.count = count
        self.extra = extra

    def __enter__(self) -> Workers:
        port = free_port()
        script = str(ROOT / "examples/reference_server.py")
        args = ["--port", str(port), "--backend", self.backend, "--workers", str(self.count), *SLOW_PINGS]
        args += self.extra
        proc = subprocess.Popen(
            [sys.executable, script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.served = Workers(proc, port, self.count)
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == f"listening on http://127.0.0.1:{port}"
            deadline = time.monotonic() + 10
            while len(self.served.worker_pids()) < self.count:
                assert time.monotonic() < deadline, "the workers did not start"
                time.sleep(0.05)
        except BaseException:
            self.__exit__()
            raise
        return self.served

    def __exit__(self, *exc: object) -> None:
        proc = self.served.proc
        pids = self.served.worker_pids()
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        assert status == 0
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or _is_zombie_of_other(pid)


def _is_zombie_of_other(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def run_node(
    url: str, transports: list[str], clients: int, rounds: int, *, keep_alive: bool = False
) -> dict[str, Any]:
    config = {"url": url, "transports": transports, "clients": clients, "rounds": rounds}
    config["keep_alive"] = keep_alive
    done = subprocess.run(
        ["node", str(DRIVER), json.dumps(config)], capture_output=True, text=True, timeout=30, check=False
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert lines, done.stderr
    assert "error" not in lines[-1], (done.stdout, done.stderr)
    return lines[-1]


@pytest.mark.parametrize(
    "transports",
    [["polling"], ["websocket"], ["polling", "websocket"]],
    ids=["polling", "websocket", "upgrade"],
)
def test_node_client_sessions_spread_over_workers(workers: Workers, transports: list[str]) -> None:
    clients = 10 * workers.count
    result = run_node(workers.url, transports, clients=clients, rounds=4)
    assert result["ids_kept"], "a session was lost: a request did not reach its owner"
    assert result["bcast"] == clients  # the broadcast reached the clients of every worker
    per_client = [set(pids) for pids in result["pids"]]
    assert all(len(pids) == 1 for pids in per_client)  # one owner per socket
    owners = set().union(*per_client)
    assert owners <= workers.worker_pids()
    assert len(owners) >= 2  # spread by the kernel: all on one worker has odds below 1e-5
    expected = "polling" if transports == ["polling"] else "websocket"
    assert result["transports"] == [expected] * clients


def test_node_clients_on_kept_alive_connections(workers: Workers) -> None:
    # A connection kept alive carries requests of sessions owned by different workers, each routed in turn.
    clients = 4 * workers.count
    result = run_node(workers.url, ["polling", "websocket"], clients=clients, rounds=3, keep_alive=True)
    assert result["ids_kept"]
    assert result["bcast"] == clients


def test_an_unknown_session_of_another_worker_is_refused_as_unknown(workers: Workers) -> None:
    import urllib.error
    import urllib.request

    for tag in ("B", "_"):  # worker 1's (handed over, unknown there) and a worker that does not exist
        url = f"{workers.url}/socket.io/?EIO=4&transport=polling&sid={tag}{'x' * 19}"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)
        with refused.value as answer:
            assert answer.code == 400
            assert json.loads(answer.read()) == {"code": 1, "message": "Session ID unknown"}


def _fresh_connections() -> Any:
    import aiohttp

    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]], ids=["polling", "upgrade"])
def test_python_client_acks_and_cluster_across_workers(workers: Workers, transports: list[str]) -> None:
    import socketio

    async def main() -> None:
        async with asyncio.timeout(20), _fresh_connections() as http:
            clients = [socketio.AsyncClient(http_session=http) for _ in range(10 * workers.count)]
            for client in clients:
                await client.connect(workers.url, transports=transports)
            first = [client.get_sid() for client in clients]
            owners = [{await client.call("worker", timeout=5) for _ in range(3)} for client in clients]
            assert all(len(pids) == 1 for pids in owners)
            assert len(set().union(*owners)) >= 2  # all on one worker: odds below 1e-5
            assert await clients[0].call("server_count", timeout=5) == workers.count
            found = await clients[0].call("cluster_fetch", None, timeout=5)
            assert set(first) <= {socket["id"] for socket in found}  # and those of earlier tests, leaving
            assert [client.get_sid() for client in clients] == first
            for client in clients:
                await client.disconnect()

    asyncio.run(main())


@pytest.mark.anyio
async def test_the_console_follows_every_worker(backend_name: str, tmp_path: Path) -> None:
    # One --connect (worker 0's endpoint) finds the other worker; the console's model holds the sockets of
    # both, each marked with its worker, and the hellos' pids are the workers'.
    import io
    import re

    from rich.console import Console

    from sioactor.runtime.console import ConsoleApp, live_source

    address = f"unix:{tmp_path}/trace.sock"
    with serve_workers(backend_name, 2, "--trace-endpoint", address) as served:
        assert served.proc.stderr is not None
        token = ""
        while not token:  # each worker logs the command that attaches a console, token included
            line = served.proc.stderr.readline()
            assert line, "the workers logged no console command"
            found = re.search(r"--token (\S+)", line)
            token = found[1] if found else ""
        app = ConsoleApp(Console(file=io.StringIO(), width=160))
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(live_source(address, token), app)
                while "attached to 2 of 2 workers" not in app.state.status:  # noqa: ASYNC110
                    await anyio.sleep(0.02)
                result = await anyio.to_thread.run_sync(run_node, served.url, ["websocket"], 20, 1)
                owners = {pids[0] for pids in result["pids"]}
                assert len(owners) == 2  # all on one worker: odds 2e-6
                while len(app.model.sockets) < 20:  # noqa: ASYNC110 (each worker's stream in its own time)
                    await anyio.sleep(0.02)
                tg.cancel_scope.cancel()
        marks = {"@w0", "@w1"}
        assert {name[-3:] for name in app.model.sockets} == marks
        for pid in served.worker_pids():
            assert f"pid {pid}" in app.state.status
        assert {name[-3:] for name in app.model.engine_sockets} == marks  # sessions linked to their sockets


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_killed_worker_is_replaced_and_its_clients_reconnect(backend: str) -> None:
    import socketio

    with serve_workers(backend, 2) as served:

        async def main() -> None:
            async with asyncio.timeout(25), _fresh_connections() as http:
                client = socketio.AsyncClient(http_session=http, reconnection_delay=0.1)
                reconnected = asyncio.Event()
                client.on("connect", reconnected.set)
                await client.connect(served.url, transports=["polling"])
                owner = await client.call("worker", timeout=5)
                before = served.worker_pids()
                reconnected.clear()
                os.kill(owner, signal.SIGKILL)
                await reconnected.wait()
                now = await client.call("worker", timeout=5)
                assert now != owner
                while len(served.worker_pids()) < 2 or owner in served.worker_pids():  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                assert served.worker_pids() - before  # a new worker took the dead one's place
                await client.disconnect()

        asyncio.run(main())


@pytest.mark.parametrize(
    ("command", "backend"),
    [("cli", "asyncio"), ("io.serve", "trio")],
    ids=["sioactor-serve-asyncio", "io.serve-trio"],
)
def test_a_users_app_served_by_workers(command: str, backend: str) -> None:
    import socketio

    port = free_port()
    here = Path(__file__).resolve().parent
    if command == "cli":
        args = ["-m", "sioactor", "serve", "workers_app:io", "--port", str(port), "--workers", "2"]
        args += ["--backend", backend]
    else:
        args = [str(here / "workers_app.py"), str(port), "2", backend]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(here)])}
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=here,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    async def main() -> None:
        async with asyncio.timeout(20), _fresh_connections() as http:
            while True:  # the command prints nothing: its port answers once the workers listen
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.05)
                else:
                    writer.close()
                    await writer.wait_closed()
                    break
            clients = [socketio.AsyncClient(http_session=http) for _ in range(20)]
            heard: list[int] = []
            for client in clients:
                client.on("everyone", heard.append)
                await client.connect(f"http://127.0.0.1:{port}", transports=["polling"])
            owners = {await client.call("worker", timeout=5) for client in clients}
            assert len(owners) == 2  # all on one worker: odds 2e-6
            await clients[0].emit("everyone")
            while len(heard) < len(clients):  # noqa: ASYNC110 (the client library's callbacks)
                await asyncio.sleep(0.02)
            for client in clients:
                await client.disconnect()

    try:
        asyncio.run(main())
    finally:
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=20)
        assert proc.stderr is not None
        errors = proc.stderr.read()
        proc.stderr.close()
    assert status == 0, errors
