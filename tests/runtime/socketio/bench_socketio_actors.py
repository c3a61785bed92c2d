"""Socket.IO layer costs with fake connections (no network): memory per idle connected socket, broadcast
deliveries/s, ``socket.emit``/s and inbound event dispatch/s. Not collected by pytest; run it directly:

    .venv/bin/python tests/runtime/socketio/bench_socketio_actors.py [asyncio|trio]

The same script runs against older trees (it avoids APIs that changed, e.g. ``rooms()``).
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel

sys.path.insert(0, str(Path(__file__).parents[2]))  # tests/, where socketio_fakes.py lives
from socketio_fakes import FakeConn

from sioactor.runtime.socketio import SocketIo

try:
    from sioactor.actors._actor import Actor

    LINGER = getattr(Actor, "linger", 0.0)
except ImportError:  # an older tree
    LINGER = 0.0


class Sink(FakeConn):
    """A fake connection that counts what it is sent and keeps nothing (an outbox that never fills)."""

    def __init__(self, sid: str) -> None:
        super().__init__(sid, capacity=1 << 30)
        self.count = 0

    def send(self, message: Any) -> None:
        self.count += 1


async def settle() -> None:
    await anyio.wait_all_tasks_blocked()


async def connect(io: SocketIo, n: int) -> list[Sink]:
    conns = []
    for i in range(n):
        conn = Sink(f"{i:020d}")
        io._listener.on_open(conn)
        io._listener.on_message(conn, "0")
        conns.append(conn)
        if i % 500 == 499:
            await settle()  # clients arrive over time, not all in one loop turn
    await settle()
    return conns


async def noop() -> None:
    pass


async def memory_per_socket(n: int) -> float:
    io = SocketIo()
    io.ns("/", noop)
    async with anyio.create_task_group() as tg:
        await tg.start(io.run)
        await settle()
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        conns = await connect(io, n)
        await anyio.sleep(2 * LINGER + 0.05)  # idle: lingering drain tasks have ended
        await settle()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert len(io.sockets()) == n
        per = (after - before) / n
        del conns
        await io.close()
    return per


async def rates(n: int, rounds: int) -> dict[str, float]:
    io = SocketIo()
    received = [0]

    @io.on("ping")
    def ping() -> None:
        received[0] += 1

    out: dict[str, float] = {}
    async with anyio.create_task_group() as tg:
        await tg.start(io.run)
        conns = await connect(io, n)
        started = time.perf_counter()
        for _ in range(rounds):
            await io.emit("tick", 1)
        out[f"broadcast to {n}: deliveries/s"] = n * rounds / (time.perf_counter() - started)
        sockets = io.sockets()
        total = min(n, 1000) * 50
        started = time.perf_counter()
        for i in range(total):
            sockets[i % len(sockets)].emit("e", 1)
        out["socket.emit/s"] = total / (time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(total):
            io._listener.on_message(conns[i % len(conns)], '2["ping"]')
            if i % 10_000 == 9_999:
                await settle()  # round robin over >= 1000 sockets: each inbox stays far under its bound
        await settle()
        out["inbound events/s"] = total / (time.perf_counter() - started)
        assert received[0] == total
        out["inbound events/s, one in flight"] = await one_in_flight(io, conns[:100], received)
        await io.close()
    return out


async def one_in_flight(io: SocketIo, conns: list[Sink], received: list[int]) -> float:
    """An echo's pattern: each event is handled before the next arrives (round robin over *conns*)."""
    total, before = 20_000, received[0]
    started = time.perf_counter()
    for i in range(total):
        io._listener.on_message(conns[i % len(conns)], '2["ping"]')
        while received[0] == before + i:
            await anyio.lowlevel.checkpoint()
    rate = total / (time.perf_counter() - started)
    assert received[0] == before + total
    return rate


async def main() -> None:
    print(f"memory per idle socket (10k): {await memory_per_socket(10_000):.0f} B")
    for n, rounds in ((1_000, 50), (10_000, 10)):
        for name, value in (await rates(n, rounds)).items():
            print(f"{name}: {value:,.0f}")


if __name__ == "__main__":
    anyio.run(main, backend=sys.argv[1] if len(sys.argv) > 1 else "asyncio")
