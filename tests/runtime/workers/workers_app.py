"""A user's app for the multi-worker tests: ``sioactor serve workers_app:io`` serves it, and run as a script
it serves itself with ``io.serve(..., workers=N)`` (``python workers_app.py PORT WORKERS BACKEND``)."""

from __future__ import annotations

import os
import sys

import anyio

from sioactor import AckSender, Socket, SocketIo

io = SocketIo()


def worker(ack: AckSender) -> None:
    ack.send(os.getpid())


async def everyone(socket: Socket) -> None:
    await io.emit("everyone", os.getpid())


io.on("worker", worker)
io.on("everyone", everyone)


async def main(port: int, workers: int) -> None:
    async with anyio.create_task_group() as tg:
        await tg.start(
            lambda task_status: io.serve("127.0.0.1", port, workers=workers, task_status=task_status)
        )
        print(f"listening on http://127.0.0.1:{port}", flush=True)


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]), int(sys.argv[2]), backend=sys.argv[3])
