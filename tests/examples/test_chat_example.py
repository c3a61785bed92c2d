"""The chat demo end to end: the real server script, two python-socketio clients over loopback."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "chat" / "server.py"

pytestmark = [pytest.mark.interop, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # python-socketio's client runs on asyncio only


@pytest.fixture(scope="module")
def chat_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"http://[\d.]+:\d+", line)
        assert found, f"chat server did not start: {line!r}"
        yield found.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


class Client:
    """A python-socketio client that records what the chat sends it."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        for name in ("welcome", "message", "notice", "people", "typing", "rooms"):
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Any:
        async def record(data: Any) -> None:
            await self.events.put((name, data))

        return record

    async def next(self, name: str) -> Any:
        async with asyncio.timeout(5):
            while True:
                got, data = await self.events.get()
                if got == name:
                    return data


async def test_two_people_chat_in_a_room(chat_url: str) -> None:
    alice, bob = Client(), Client()
    await alice.sio.connect(chat_url, transports=["websocket"])
    await bob.sio.connect(chat_url, transports=["polling"])
    try:
        assert (await alice.next("welcome"))["nickname"].startswith("guest-")
        assert (await alice.sio.call("nickname", "alice", timeout=5)) == {"ok": True, "nickname": "alice"}
        assert (await bob.sio.call("nickname", "alice", timeout=5)) == {
            "ok": False,
            "error": "alice is taken",
        }
        assert (await bob.sio.call("nickname", "bob", timeout=5))["ok"] is True

        joined = await alice.sio.call("join", "lobby", timeout=5)
        assert joined == {"ok": True, "room": "lobby", "history": [], "people": ["alice"]}
        joined = await bob.sio.call("join", "lobby", timeout=5)
        assert joined["people"] == ["alice", "bob"]
        assert await alice.next("notice") == "bob joined"

        await bob.sio.emit("typing", True)
        assert await alice.next("typing") == {"nickname": "bob", "typing": True}
        assert (await bob.sio.call("message", "hello alice", timeout=5)) == {"ok": True}
        message = await alice.next("message")
        assert (message["nickname"], message["text"]) == ("bob", "hello alice")

        late = Client()
        await late.sio.connect(chat_url)
        late_sid = late.sio.get_sid("/")
        history = (await late.sio.call("join", "lobby", timeout=5))["history"]
        assert [m["text"] for m in history] == ["hello alice"]
        assert await alice.next("notice") == f"guest-{late_sid[:4]} joined"
        await late.sio.disconnect()
        assert await alice.next("notice") == f"guest-{late_sid[:4]} left"
    finally:
        await alice.sio.disconnect()
        await bob.sio.disconnect()


async def test_bad_input_gets_an_answer_not_a_crash(chat_url: str) -> None:
    client = Client()
    await client.sio.connect(chat_url)
    try:
        assert (await client.sio.call("message", "too early", timeout=5)) == {
            "ok": False,
            "error": "join a room first",
        }
        assert (await client.sio.call("join", "no/slashes", timeout=5))["ok"] is False
        assert (await client.sio.call("nickname", "x" * 40, timeout=5))["ok"] is False
    finally:
        await client.sio.disconnect()
