"""Namespaces decided by a regex or a predicate, broadcasts from a parent to its children, room events and
class-based namespaces, checked with npm socket.io-client 4.8.1 (the scenarios of
``tests/node/sio_client.js``) against an in-process server, on asyncio and trio.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from sioactor import (
    AckSender,
    Args,
    Data,
    DisconnectReason,
    NamespaceHandlers,
    NsParams,
    Socket,
    SocketIo,
)

DRIVER = Path(__file__).resolve().parents[1] / "node" / "sio_client.js"
TENANT = re.compile(r"/tenant-(?P<id>\d+)")

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]


class Classy(NamespaceHandlers):
    """A class-based namespace: plain def and async def event handlers, connect and disconnect."""

    def __init__(self) -> None:
        super().__init__("/classy")
        self.disconnects: list[tuple[str, DisconnectReason]] = []
        self.gone = anyio.Event()

    def on_connect(self, socket: Socket) -> None:
        socket.emit("welcome", self.namespace)

    def on_hello(self, text: Data[str], ack: AckSender) -> None:
        ack.send(f"hello {text}")

    async def on_slow(self, socket: Socket, text: Data[str], ack: AckSender) -> None:
        await anyio.sleep(0.01)
        ack.send(f"slow {text} on {socket.ns} of {len(self.io.of('/classy').sockets())}")

    def on_bye(self, socket: Socket) -> None:
        socket.disconnect()

    def on_disconnect(self, socket: Socket, reason: DisconnectReason) -> None:
        self.disconnects.append((socket.id, reason))
        self.gone.set()


def make_server(room_log: RoomLog, classy: Classy) -> SocketIo:
    io = SocketIo()

    def join(socket: Socket, args: Args, ack: AckSender) -> None:
        socket.join(str(args[0]))
        ack.send(True)

    def leave(socket: Socket, args: Args, ack: AckSender) -> None:
        socket.leave(str(args[0]))
        ack.send(True)

    def echo_ack(args: Args, ack: AckSender) -> None:
        ack.send(args)

    def whoami(socket: Socket, params: NsParams, ack: AckSender) -> None:
        ack.send((socket.ns, dict(params)))

    async def parent_emit(ack: AckSender) -> None:
        await io.of(TENANT).emit("news", "all")
        await io.of(TENANT).to("vip").emit("news", "vip")
        ack.send(io.of(TENANT).children())

    async def org_exists(name: str, auth: Any) -> bool:
        await anyio.sleep(0.01)  # as a lookup would
        return name.startswith("/org-") and isinstance(auth, dict) and auth.get("token") == "ok"

    io.on("echo_ack", echo_ack)
    io.on("parent_emit", parent_emit)
    for pattern in (TENANT, org_exists):
        io.on("whoami", whoami, namespace=pattern)
        io.on("join", join, namespace=pattern)

    def bye(socket: Socket) -> None:
        socket.disconnect()

    def send_room_log(ack: AckSender) -> None:
        ack.send(room_log.entries)

    rooms = io.of("/rooms")
    rooms.on("join", join)
    rooms.on("leave", leave)
    rooms.on("room_log", send_room_log)
    rooms.on("bye", bye)
    rooms.on_room_event("create-room", lambda room: room_log.add("create-room", room))
    rooms.on_room_event("delete-room", lambda room: room_log.add("delete-room", room))
    rooms.on_room_event("join-room", lambda room, sid: room_log.add("join-room", room, sid))
    rooms.on_room_event("leave-room", lambda room, sid: room_log.add("leave-room", room, sid))

    io.register_namespace(classy)
    return io


@asynccontextmanager
async def scenario(io: SocketIo, name: str, transport: str) -> AsyncIterator[dict[str, Any]]:
    """Serve *io* and run scenario *name* of the Node driver; yields its lines keyed by ``step`` (failing with
    its output if it failed) while the server still runs."""
    async with anyio.create_task_group() as tg:
        port = await tg.start(io.serve, "127.0.0.1", 0)
        config = {
            "scenario": name,
            "url": f"http://127.0.0.1:{port}",
            "parser": "json",
            "client": "v4",
            "timeout_ms": 5000,
            "transports": [transport],
        }
        with anyio.fail_after(20):
            done = await anyio.run_process(["node", str(DRIVER), json.dumps(config)], check=False)
        lines = [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]
        assert lines, done.stderr.decode()
        assert lines[-1] == {"done": True}, (lines, done.stderr.decode())
        yield {line["step"]: line for line in lines if "step" in line}
        tg.cancel_scope.cancel()


class RoomLog:
    """The room events a namespace reported, and a way to wait for more."""

    def __init__(self) -> None:
        self.entries: list[list[str]] = []
        self._grew = anyio.Event()

    def add(self, *entry: str) -> None:
        self.entries.append(list(entry))
        self._grew.set()
        self._grew = anyio.Event()

    async def wait_for(self, count: int) -> None:
        """Until *count* entries arrived (the client's disconnect is handled after the driver returned)."""
        with anyio.fail_after(5):
            while len(self.entries) < count:
                await self._grew.wait()


@pytest.fixture(params=["websocket", "polling"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_regex_and_predicate_namespaces(transport: str) -> None:
    async with scenario(make_server(RoomLog(), Classy()), "dynamic_namespaces", transport) as steps:
        assert steps["regex"]["args"] == ["/tenant-7", {"id": "7"}]
        assert steps["predicate"]["args"] == ["/org-acme", {}]
        # The predicate admitted the name once; the namespace exists now, as in Node.
        assert steps["existing"]["args"] == ["/org-acme", {}]
        assert steps["refused"]["errors"] == {
            "/org-evil": "Invalid namespace",
            "/tenant-x": "Invalid namespace",
            "/tenant-7/x": "Invalid namespace",  # the regex must match the whole name
        }


async def test_a_parent_emit_reaches_every_child(transport: str) -> None:
    async with scenario(make_server(RoomLog(), Classy()), "parent_broadcast", transport) as steps:
        assert steps["parent_emit"]["args"] == [["/tenant-1", "/tenant-2"]]
        got = sorted((entry["who"], entry["args"][0]) for entry in steps["received"]["got"])
        assert got == [("t1", "all"), ("t2", "all"), ("t2", "vip")]


async def test_room_events_reach_their_listeners(transport: str) -> None:
    room_log = RoomLog()
    async with scenario(make_server(room_log, Classy()), "room_events", transport) as steps:
        sid = steps["log"]["id"]
        assert steps["log"]["args"] == [
            [
                ["create-room", sid],  # a socket's own room counts, as in Node
                ["join-room", sid, sid],
                ["create-room", "r1"],
                ["join-room", "r1", sid],  # once: the second join changed nothing
                ["leave-room", "r1", sid],
                ["delete-room", "r1"],
            ]
        ]
        assert steps["bye"]["reason"] == "io server disconnect"
        await room_log.wait_for(8)
        assert room_log.entries[6:] == [["leave-room", sid, sid], ["delete-room", sid]]


async def test_a_class_based_namespace(transport: str) -> None:
    classy = Classy()
    async with scenario(make_server(RoomLog(), classy), "namespace_class", transport) as steps:
        assert steps["welcome"]["args"] == ["/classy"]
        assert steps["hello"]["args"] == ["hello sync"]
        assert steps["slow"]["args"] == ["slow async on /classy of 1"]
        with anyio.fail_after(5):
            await classy.gone.wait()
        assert steps["bye"]["reason"] == "io server disconnect"
        assert classy.disconnects == [(steps["welcome"]["id"], DisconnectReason.SERVER_NS_DISCONNECT)]
