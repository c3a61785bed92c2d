"""Many polling clients at once, on every stack: 100 npm socket.io-client 4.8 clients connect together with
``transports: ["polling"]`` and each gets an acknowledged echo.

Under hypercorn they once never finished connecting (20 did, 50 hung) while the embedded server and uvicorn
took a fraction of a second. The cause was not in the ASGI path: Node's polling client opens a connection
per request (``xmlhttprequest-ssl``, no keep-alive agent), so 100 clients open 200 at once, and hypercorn
listens with a backlog of 100: the kernel dropped the overflow (``ListenOverflows``), those clients retried
a second later, and past the suite's 1 s connect timeout the server closed their sessions before their
CONNECT arrived, which a socket.io client without reconnection waits on forever. The reference server now
listens with a backlog of 2048 on every server (as uvicorn and the embedded server do by default); README
tells hypercorn users to pass ``--backlog``.

The server is ``examples/reference_server.py`` in a subprocess (``reference_process.py``); the clients are one
node process (``tests/node/sio_client.js``, scenario ``crowd``). The heartbeat and the connect timeout are
generous here, so that a busy machine makes the test slow, not failed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from reference_process import reference_server

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "node" / "sio_client.js"
CLIENTS = 100
PATIENT = ("--ping-interval", "25000", "--ping-timeout", "20000", "--connect-timeout", "20000")

pytestmark = pytest.mark.interop

STACKS = [
    ("embedded", "asyncio"),
    ("embedded", "trio"),
    ("uvicorn", "asyncio"),
    ("hypercorn", "asyncio"),
    ("hypercorn", "trio"),
]
STACK_IDS = [f"{server}-{backend}" for server, backend in STACKS]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize(("server", "backend"), STACKS, ids=STACK_IDS)
def test_a_crowd_of_polling_clients_connects_at_once(server: str, backend: str) -> None:
    with reference_server(server, backend, PATIENT) as port:
        config = {
            "scenario": "crowd",
            "url": f"http://127.0.0.1:{port}",
            "transports": ["polling"],
            "count": CLIENTS,
            "timeout_ms": 40000,
        }
        done = subprocess.run(
            ["node", str(DRIVER), json.dumps(config)], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert lines, done.stderr
    assert lines[-1] == {"done": True}, (lines, done.stderr)
    steps = {line["step"]: line for line in lines if "step" in line}
    assert steps["connected"]["count"] == CLIENTS
    assert steps["echoed"]["count"] == CLIENTS


@pytest.mark.skipif(shutil.which("ss") is None, reason="ss (iproute2) is not installed")
@pytest.mark.parametrize(("server", "backend"), STACKS, ids=STACK_IDS)
def test_the_reference_server_listens_with_room_for_a_burst(server: str, backend: str) -> None:
    # A listening socket's Send-Q in ``ss`` is its backlog: 100 (hypercorn's default) drops a crowd.
    with reference_server(server, backend) as port:
        listed = subprocess.run(
            ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
        ).stdout.split()
    assert listed, f"nothing listens on {port}"
    assert int(listed[2]) >= 1024
