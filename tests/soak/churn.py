"""Churn: clients connect, emit, get their echo and leave, over and over, every way a client can come and go
(WebSocket closed cleanly or reset, polling closed with ``1`` or cut in the middle of a long-poll, polling
upgraded to WebSocket); afterwards the sessions, actors, tasks and descriptors must be back to what the
idle server held, and the memory it grew by in the second half of the run must stay under a bound.

    python -m tests.soak.churn --duration 60 --backend trio [--cycles N] [--concurrency 10]

The bound is on growth after warm-up (the first half of the run: allocator pools, caches and the
interpreter's own tables fill up then), so a leak of a few hundred bytes per cycle shows over thousands of
cycles while the noise of the heap does not.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from anyio.abc import SocketAttribute

from ._clients import POLLING_PATH, WsClient, http, polling_open, request, status_and_body
from ._kit import Served, arguments, describe, run_main, serving, watching_errors

# KiB the process may grow by over the second half of a long run (a leak of 1 KiB a cycle at 5,000 cycles a
# minute crosses it within the minute).
RSS_GROWTH_BOUND_KIB = 8_192


def reset(client: WsClient) -> None:
    """Make the client's close a TCP reset (RST), not an orderly FIN."""
    raw = client.stream.extra(SocketAttribute.raw_socket)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def echo_over(client: WsClient, number: int, namespace: str = "") -> None:
    await client.send_text(f'42{namespace}["echo",{number}]')
    assert await client.next_text() == f'42{namespace}["echo",{number}]'


async def ws_clean(port: int, number: int) -> None:
    async with WsClient.connected(port) as client:
        await echo_over(client, number)
        await client.send_text("41")
        client.protocol.send_close()
        await client.flush()
        await client.drain(1.0)  # until the server closes


async def ws_reset(port: int, number: int) -> None:
    async with WsClient.connected(port) as client:
        await echo_over(client, number)
        reset(client)


async def poll(port: int, sid: str, body: bytes | None = None) -> bytes:
    """One polling request of session *sid*: a POST of *body*, or a GET; the answer's body."""
    target = f"{POLLING_PATH}&sid={sid}"
    answer = await http(port, request("GET", target) if body is None else request("POST", target, body))
    status, content = status_and_body(answer)
    assert status == 200, (status, content)
    return content


async def polled(port: int, sid: str, prefix: bytes) -> None:
    """Poll until a packet starting with *prefix* arrives, answering the server's pings on the way."""
    while True:
        packets = (await poll(port, sid)).split(b"\x1e")
        if b"2" in packets:
            assert await poll(port, sid, b"3") == b"ok"
        if any(packet.startswith(prefix) for packet in packets):
            return


async def polling_connected(port: int) -> str:
    sid = await polling_open(port)
    assert await poll(port, sid, b"40") == b"ok"
    await polled(port, sid, b'40{"sid":')
    return sid


async def polling_echo(port: int, sid: str, number: int) -> None:
    assert await poll(port, sid, f'42["echo",{number}]'.encode()) == b"ok"
    await polled(port, sid, f'42["echo",{number}]'.encode())


async def polling_clean(port: int, number: int) -> None:
    sid = await polling_connected(port)
    await polling_echo(port, sid, number)
    assert await poll(port, sid, b"1") == b"ok"


async def polling_cut(port: int, number: int) -> None:
    sid = await polling_connected(port)
    await polling_echo(port, sid, number)
    await http(port, request("GET", f"{POLLING_PATH}&sid={sid}"), within=0.01)  # a long-poll, cut


async def upgraded(port: int, number: int) -> None:
    sid = await polling_open(port)
    async with WsClient.opened(port, f"/socket.io/?EIO=4&transport=websocket&sid={sid}") as client:
        await client.send_text("2probe")
        assert await client.next_text() == "3probe"
        await client.send_text("5")
        await client.send_text("40")
        assert json.loads((await client.next_text())[2:])["sid"]
        await echo_over(client, number)
        if number % 2:
            reset(client)


CYCLES: tuple[Callable[[int, int], Awaitable[None]], ...] = (
    ws_clean,
    ws_reset,
    polling_clean,
    polling_cut,
    upgraded,
)


@dataclass
class Tally:
    cycles: dict[str, int] = field(default_factory=dict)
    rss_kib: list[int] = field(default_factory=list)  # at start, at half time, at the end
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.cycles.values())


async def churn(
    served: Served, tally: Tally, *, cycles: int, duration: float, concurrency: int, seed: int
) -> None:
    """Run cycles from *concurrency* clients at once until *cycles* are done or *duration* is over."""
    stop_at = time.monotonic() + duration
    half_at = time.monotonic() + duration / 2
    rng = random.Random(seed)

    async def client() -> None:
        while tally.total < cycles and time.monotonic() < stop_at and not tally.failures:
            cycle = rng.choice(CYCLES)
            try:
                with anyio.fail_after(10):
                    await cycle(served.port, tally.total)
            except Exception as exc:
                tally.failures.append(f"{cycle.__name__} failed: {describe(exc)}")
            tally.cycles[cycle.__name__] = tally.cycles.get(cycle.__name__, 0) + 1
            if len(tally.rss_kib) == 1 and time.monotonic() > half_at:
                tally.rss_kib.append(served.snapshot().rss_kib)

    tally.rss_kib.append(served.snapshot().rss_kib)
    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(client)


async def run(cycles: int, duration: float, concurrency: int = 10, seed: int = 0) -> Tally:
    """Churn, then check everything is back to the baseline (and log nothing at ERROR)."""
    tally = Tally()
    with watching_errors() as errors:
        async with serving() as served:
            await churn(served, tally, cycles=cycles, duration=duration, concurrency=concurrency, seed=seed)
            settled = await served.settled(within=5.0)
            tally.rss_kib.append(settled.rss_kib)
            if excess := settled.excess_over(served.baseline):
                tally.failures.append(f"still held after {tally.total} cycles: {excess}")
    tally.failures += [f"logged: {line}" for line in errors.lines()]
    return tally


async def main(options: argparse.Namespace) -> list[str]:
    tally = await run(options.cycles, options.duration, options.concurrency, options.seed)
    growth = tally.rss_kib[-1] - tally.rss_kib[1] if len(tally.rss_kib) == 3 else 0
    print(
        f"{options.backend}: {tally.total} cycles {dict(sorted(tally.cycles.items()))}; "
        f"RSS {tally.rss_kib[0]} -> {tally.rss_kib[-1]} KiB, {growth:+} KiB over the second half "
        f"(bound {RSS_GROWTH_BOUND_KIB})"
    )
    if growth > RSS_GROWTH_BOUND_KIB:
        tally.failures.append(f"RSS grew {growth} KiB over the second half")
    return tally.failures


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=1_000_000, help="stop after this many cycles")
    parser.add_argument("--concurrency", type=int, default=10, help="clients at once (%(default)s)")
    run_main(main, parser)
