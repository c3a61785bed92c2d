"""Exhaustion: waves of connections that hold the server's resources as long as it lets them (idle TCP,
half-sent heads, slowloris heads, bodies that never come or trickle, WebSockets that never CONNECT or never
answer a ping), while healthy clients keep connecting and timing their echo. Each hostile connection must
be closed by the server within its deadline (``ServerConfig``'s ``keep_alive_timeout``, ``body_read_timeout``
and ``body_timeout``, the Engine.IO heartbeat, the Socket.IO connect timeout, all short here); every healthy
client must be served meanwhile; afterwards the server holds nothing more than before.

    python -m tests.soak.exhaustion --duration 60 --backend trio [--per-kind 100]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

import anyio
from anyio.abc import SocketStream

from ._clients import GONE, POLLING_PATH, WsClient, polling_open
from ._kit import ENGINE, Served, arguments, describe, run_main, serving, watching_errors, with_server

# The slowest deadline here is the heartbeat's (1.5 s): what takes much longer to be closed was held. The
# margin is wide because the clients share the server's loop and, on a shared machine, its core: a wave's
# slowest close was 2.3-3.8 s on 2 cores that other work kept busy.
CLOSED_WITHIN = 5.0
DRIP = 0.2  # seconds between the bytes of a slowloris head or a trickled body
# Seconds between the starts of a wave's connections: the clients share the server's process and loop, so
# a thousand connects at once would measure the clients' own queue, not the server's deadlines.
RAMP = 0.0015
EXHAUSTION_SERVER = with_server(body_timeout=1.0)
# A heartbeat a healthy client in this busy loop always meets (0.3 s + 0.3 s did not, now and then).
EXHAUSTION_ENGINE = replace(ENGINE, ping_interval=0.5, ping_timeout=1.0)


async def until_closed(stream: SocketStream) -> None:
    """Read (and discard) until the server closes the connection."""
    while True:
        try:
            await stream.receive()
        except GONE:
            return


async def drip(stream: SocketStream, data: bytes) -> None:
    """Send *data* a byte at a time, DRIP apart, until done or the server closes."""
    try:
        for byte in data:
            await stream.send(bytes((byte,)))
            await anyio.sleep(DRIP)
    except GONE:
        pass


async def idle(port: int) -> None:
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await until_closed(stream)


async def half_head(port: int) -> None:
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nhost: x\r\n")
        await until_closed(stream)


async def slowloris(port: int) -> None:
    head = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nhost: x\r\n" + b"x-a: b\r\n" * 50
    await dripping(port, b"", head)


async def body_never_comes(port: int) -> None:
    if head := await post_head(port, 100):
        await dripping(port, head, b"")


async def trickled_body(port: int) -> None:
    if head := await post_head(port, 1000):
        await dripping(port, head, b"4" * 1000)


async def post_head(port: int, length: int) -> bytes | None:
    """The head of a polling POST of a new session, announcing *length* bytes of body; ``None`` when the
    handshake itself was cut (this loop, which runs the clients too, sent it after the head deadline)."""
    try:
        sid = await polling_open(port)
    except AssertionError:
        return None
    return f"POST {POLLING_PATH}&sid={sid} HTTP/1.1\r\nhost: x\r\ncontent-length: {length}\r\n\r\n".encode()


async def dripping(port: int, head: bytes, trickle: bytes) -> None:
    """Send *head* at once, then *trickle* a byte at a time, until the server closes the connection."""
    async with await anyio.connect_tcp("127.0.0.1", port) as stream, anyio.create_task_group() as tg:
        await stream.send(head)
        tg.start_soon(drip, stream, trickle)
        await until_closed(stream)
        tg.cancel_scope.cancel()


async def never_connects(port: int) -> None:
    """An Engine.IO WebSocket that answers pings but never joins a namespace (the connect timeout)."""
    async with WsClient.opened(port) as client:
        await client.drain(CLOSED_WITHIN * 2)


async def never_pongs(port: int) -> None:
    """A WebSocket that sends CONNECT, then reads nothing and answers nothing (the heartbeat)."""
    async with WsClient.opened(port) as client:
        await client.send_text("40")
        await until_closed(client.stream)


KINDS: tuple[Callable[[int], Awaitable[None]], ...] = (
    idle,
    half_head,
    slowloris,
    body_never_comes,
    trickled_body,
    never_connects,
    never_pongs,
)


@dataclass
class Tally:
    held: int = 0
    slowest_close: dict[str, float] = field(default_factory=dict)
    healthy: int = 0
    slowest_echo: float = 0.0
    failures: list[str] = field(default_factory=list)


async def hold(served: Served, kind: Callable[[int], Awaitable[None]], tally: Tally, delay: float) -> None:
    """One hostile connection of *kind*, started after *delay* seconds: how long the server let it live."""
    await anyio.sleep(delay)
    started = time.monotonic()
    with anyio.move_on_after(CLOSED_WITHIN * 3) as scope:
        try:
            await kind(served.port)
        except TimeoutError:  # the client's own wait for an answer (the WebSocket handshake's)
            tally.failures.append(f"{kind.__name__}: the server did not answer in time")
            return
    if scope.cancelled_caught:
        tally.failures.append(f"{kind.__name__}: still open after {CLOSED_WITHIN * 3} s")
        return
    lived = time.monotonic() - started
    tally.held += 1
    tally.slowest_close[kind.__name__] = max(tally.slowest_close.get(kind.__name__, 0.0), lived)
    if lived > CLOSED_WITHIN:
        tally.failures.append(f"{kind.__name__}: closed after {lived:.2f} s (bound {CLOSED_WITHIN})")


async def wave(served: Served, tally: Tally, per_kind: int) -> None:
    """*per_kind* connections of every kind at once; healthy echoes until they are all closed."""
    done = anyio.Event()

    async def healthy() -> None:
        while not done.is_set():
            try:
                with anyio.fail_after(CLOSED_WITHIN):
                    tally.slowest_echo = max(tally.slowest_echo, await served.echo_seconds())
            except Exception as exc:
                tally.failures.append(f"a healthy client was not served: {describe(exc)}")
                return
            tally.healthy += 1
            await anyio.sleep(0.05)

    async with anyio.create_task_group() as tg:
        tg.start_soon(healthy)
        async with anyio.create_task_group() as holders:
            for index in range(per_kind * len(KINDS)):
                holders.start_soon(hold, served, KINDS[index % len(KINDS)], tally, index * RAMP)
        done.set()


async def run(duration: float, per_kind: int) -> Tally:
    """Waves for *duration* seconds (one at least), then the baseline check."""
    tally = Tally()
    with watching_errors() as errors:
        async with serving(engine=EXHAUSTION_ENGINE, server=EXHAUSTION_SERVER) as served:
            stop_at = time.monotonic() + duration
            while not tally.held or (time.monotonic() < stop_at and not tally.failures):
                await wave(served, tally, per_kind)
            settled = await served.settled(within=CLOSED_WITHIN)
            if excess := settled.excess_over(served.baseline):
                tally.failures.append(f"still held after the waves: {excess}")
    tally.failures += [f"logged: {line}" for line in errors.lines()]
    return tally


async def main(options: argparse.Namespace) -> list[str]:
    tally = await run(options.duration, options.per_kind)
    closes = ", ".join(f"{name} {seconds:.2f}" for name, seconds in tally.slowest_close.items())
    print(
        f"{options.backend}: {tally.held} hostile connections closed by the server (slowest, s: {closes}); "
        f"{tally.healthy} healthy clients served meanwhile, slowest echo {tally.slowest_echo * 1000:.1f} ms"
    )
    return tally.failures


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--per-kind", type=int, default=100, help="connections of each kind per wave (%(default)s)"
    )
    run_main(main, parser)
