"""A chat app on sioactor: nicknames, rooms, a typing indicator and acknowledged messages.

    python examples/chat/server.py [--host 127.0.0.1] [--port 3000] [--backend asyncio|trio]

then open http://127.0.0.1:3000 in two browser windows. The page is served by a tiny static-file ASGI app
that sioactor wraps (``io.asgi(static_app)``); the browser client is socket.io-client's bundle from
node_modules.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from sioactor import AckSender, Data, ServerConfig, Socket, SocketIo, State, serve_asgi

HERE = Path(__file__).resolve().parent
CLIENT_BUNDLE = HERE.parents[1] / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
STATIC = {
    "/": (HERE / "index.html", b"text/html; charset=utf-8"),
    "/chat.js": (HERE / "chat.js", b"text/javascript; charset=utf-8"),
    "/chat.css": (HERE / "chat.css", b"text/css; charset=utf-8"),
    "/socket.io.min.js": (CLIENT_BUNDLE, b"text/javascript; charset=utf-8"),
}
NAME = re.compile(r"^[\w .-]{1,32}$")
HISTORY = 50  # messages a room remembers for newcomers


@dataclass
class ChatState:
    """What the chat remembers: each socket's nickname and room, and each room's recent messages."""

    nicknames: dict[str, str] = field(default_factory=dict)
    room_of: dict[str, str] = field(default_factory=dict)
    history: dict[str, deque[dict[str, Any]]] = field(default_factory=dict)

    def people(self, room: str) -> list[str]:
        return sorted(self.nicknames[sid] for sid, r in self.room_of.items() if r == room)

    def rooms(self) -> list[str]:
        return sorted(set(self.room_of.values()) | set(self.history))


def build_chat(state: ChatState | None = None) -> SocketIo:
    """The chat's Socket.IO server; its handlers are below."""
    io = SocketIo(state=state or ChatState())
    io.ns("/", on_connect)
    io.on("nickname", set_nickname)
    io.on("join", join_room)
    io.on("message", send_message)
    io.on("typing", typing)
    return io


def on_connect(socket: Socket, chat: State[ChatState]) -> None:
    chat.nicknames[socket.id] = f"guest-{socket.id[:4]}"
    socket.on_disconnect(on_disconnect)
    socket.emit("welcome", {"nickname": chat.nicknames[socket.id], "rooms": chat.rooms()})


async def set_nickname(socket: Socket, name: Data[str], ack: AckSender, chat: State[ChatState]) -> None:
    name = name.strip()
    if not NAME.match(name):
        ack.send({"ok": False, "error": "1-32 letters, digits, spaces, '.', '-' or '_'"})
        return
    if name in chat.nicknames.values() and chat.nicknames.get(socket.id) != name:
        ack.send({"ok": False, "error": f"{name} is taken"})
        return
    old = chat.nicknames[socket.id]
    chat.nicknames[socket.id] = name
    ack.send({"ok": True, "nickname": name})
    room = chat.room_of.get(socket.id)
    if room is not None:
        await socket.to(room).emit("notice", f"{old} is now {name}")
        await socket.within(room).emit("people", {"room": room, "people": chat.people(room)})


async def join_room(
    socket: Socket, room: Data[str], ack: AckSender, chat: State[ChatState], io: SocketIo
) -> None:
    room = room.strip()
    if not NAME.match(room):
        ack.send({"ok": False, "error": "room names are 1-32 letters, digits, spaces, '.', '-' or '_'"})
        return
    await _leave_current(socket, chat)
    socket.join(room)
    chat.room_of[socket.id] = room
    history = chat.history.setdefault(room, deque(maxlen=HISTORY))
    ack.send({"ok": True, "room": room, "history": list(history), "people": chat.people(room)})
    await socket.to(room).emit("notice", f"{chat.nicknames[socket.id]} joined")
    await socket.to(room).emit("people", {"room": room, "people": chat.people(room)})
    await io.emit("rooms", chat.rooms())


async def send_message(socket: Socket, text: Data[str], ack: AckSender, chat: State[ChatState]) -> None:
    room = chat.room_of.get(socket.id)
    text = text.strip()[:500]
    if room is None or not text:
        ack.send({"ok": False, "error": "join a room first" if room is None else "empty message"})
        return
    entry = {"nickname": chat.nicknames[socket.id], "text": text, "at": int(time.time() * 1000)}
    chat.history[room].append(entry)
    await socket.to(room).emit("message", entry)
    ack.send({"ok": True})


async def typing(socket: Socket, active: Data[bool], chat: State[ChatState]) -> None:
    room = chat.room_of.get(socket.id)
    if room is not None:
        await (
            socket.to(room)
            .volatile()
            .emit("typing", {"nickname": chat.nicknames[socket.id], "typing": active})
        )


async def on_disconnect(socket: Socket, chat: State[ChatState]) -> None:
    await _leave_current(socket, chat)
    chat.nicknames.pop(socket.id, None)


async def _leave_current(socket: Socket, chat: State[ChatState]) -> None:
    room = chat.room_of.pop(socket.id, None)
    if room is None:
        return
    socket.leave(room)
    await socket.to(room).emit("notice", f"{chat.nicknames[socket.id]} left")
    await socket.to(room).emit("people", {"room": room, "people": chat.people(room)})


async def static_app(scope: Any, receive: Any, send: Any) -> None:
    """Serves the page, its script and style, and the socket.io-client bundle; 404 for anything else."""
    if scope["type"] != "http":
        return
    path, content_type = STATIC.get(scope["path"], (None, b"text/plain"))
    if path is None or not path.exists():
        body, status = b"Not Found", 404
    else:
        body, status = path.read_bytes(), 200
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def serve(host: str, port: int) -> None:
    """Serve the chat on the embedded server until interrupted."""
    app = build_chat().asgi(static_app)
    async with anyio.create_task_group() as tg:
        bound = await tg.start(serve_asgi, app, ServerConfig(host=host, port=port))
        print(f"sioactor chat: open http://{host}:{bound} in two browser windows (Ctrl-C stops)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="sioactor chat demo")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not CLIENT_BUNDLE.exists():
        raise SystemExit(f"{CLIENT_BUNDLE} is missing: run `npm ci` (or bash scripts/setup.sh) first")
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(serve, args.host, args.port, backend=args.backend)


if __name__ == "__main__":
    main()
