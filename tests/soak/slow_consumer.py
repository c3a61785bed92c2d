"""Slow consumer: while the server broadcasts into a room, one member stops reading, the others read on
and a prober times its echo. Each policy must do what ``EngineConfig``'s
docstring says, and no one else may pay for the slow client:

- ``error``: the broadcasts the slow client cannot take raise ``BroadcastError`` naming it alone (its
  ``InternalChannelFull``); it stays connected and, once it reads again, gets what was queued, in order;
- ``drop_oldest``: no error; the slow client stays connected and gets the newest broadcasts, in order;
- ``disconnect``: its session is closed (``transport buffer full``); no one else is touched.

In every case the healthy members get every broadcast in order, the prober's echo stays under a bound, and
afterwards the server holds nothing more than before.

    python -m tests.soak.slow_consumer --duration 60 --backend trio [--policy error]

The long mode repeats stall-and-resume rounds (each policy in turn, unless one is named) for the duration.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Literal

import anyio
from websockets.frames import Opcode

from sioactor import BroadcastError, InternalChannelFull

from ._clients import GONE, WsClient
from ._kit import ENGINE, Served, arguments, run_main, serving, watching_errors

Policy = Literal["error", "drop_oldest", "disconnect"]
POLICIES: tuple[Policy, ...] = ("error", "drop_oldest", "disconnect")
# Broadcasts of PAYLOAD per round: 16 MB, past what the kernel buffers of a stalled client hold (a receive
# buffer shrunk with SO_RCVBUF would fill sooner, but Linux then drops what it had accepted and the client
# waits out retransmission backoff once it reads again, which tests TCP, not the server).
TICKS = 500
PAYLOAD = "x" * 32_768
STILL_THERE = '42["echo","still there?"]'
ECHO_BOUND = 0.5  # seconds; the prober's slowest echo during a round (a busy shared machine included)
# Heartbeats longer than a round, so the stalled client is not dropped for a missed pong instead.
SLOW_ENGINE = replace(ENGINE, ping_interval=10.0, ping_timeout=10.0, max_buffer_size=16)


@dataclass
class Round:
    """What one round saw."""

    policy: Policy
    refused: dict[str, int] = field(default_factory=dict)  # socket id → broadcasts that raised for it
    healthy_in_order: bool = True
    slow_ticks: list[int] = field(default_factory=list)
    slow_state: Literal["connected", "closed", "silent"] = "silent"  # after it read again
    slowest_echo: float = 0.0

    def failures(self, slow_sid: str) -> list[str]:
        found = []
        if not self.healthy_in_order:
            found.append("a healthy member missed broadcasts or got them out of order")
        if self.slowest_echo > ECHO_BOUND:
            found.append(f"the prober's echo took {self.slowest_echo:.3f} s (bound {ECHO_BOUND})")
        if set(self.refused) - {slow_sid}:
            found.append(f"broadcasts failed for healthy members: {self.refused}")
        if self.slow_ticks != sorted(set(self.slow_ticks)):
            found.append("the slow client's broadcasts arrived out of order or twice")
        if len(self.slow_ticks) >= TICKS:
            found.append("the slow client got every broadcast: it never filled its outbox")
        expected_state = "closed" if self.policy == "disconnect" else "connected"
        if self.slow_state != expected_state:
            found.append(f"the slow client is {self.slow_state} once it reads again, not {expected_state}")
        if self.policy == "error" and not self.refused:
            found.append("error: no broadcast raised for the slow client")
        if self.policy == "drop_oldest":
            if self.refused:
                found.append(f"drop_oldest: broadcasts raised {self.refused}")
            if not self.slow_ticks or self.slow_ticks[-1] != TICKS - 1:
                found.append("drop_oldest: the slow client did not get the newest broadcast")
        return [f"{self.policy}: {failure}" for failure in found]


def ticks_in(frames_text: list[str]) -> list[int]:
    return [json.loads(text[2:])[1] for text in frames_text if text.startswith('42["tick"')]


async def member(port: int, stack: AsyncExitStack) -> WsClient:
    """A client in room ``feed`` (joined once its echo is back: the socket handles its events in order)."""
    client = await stack.enter_async_context(WsClient.connected(port))
    await client.send_text('42["join","feed"]')
    await client.send_text('42["echo","joined"]')
    assert await client.next_text() == '42["echo","joined"]'
    return client


async def read_ticks(client: WsClient, seen: list[int]) -> None:
    while len(seen) < TICKS:
        seen.extend(ticks_in([await client.next_text()]))


async def probe(served: Served, result: Round, done: anyio.Event) -> None:
    async with WsClient.connected(served.port) as prober:
        number = 0
        while not done.is_set():
            started = time.perf_counter()
            await prober.send_text(f'42["echo",{number}]')
            assert await prober.next_text() == f'42["echo",{number}]'
            result.slowest_echo = max(result.slowest_echo, time.perf_counter() - started)
            number += 1
            await anyio.sleep(0.02)


async def broadcast(served: Served, result: Round) -> None:
    for tick in range(TICKS):
        try:
            await served.io.to("feed").emit("tick", (tick, PAYLOAD))
        except BroadcastError as exc:
            for sid, error in exc.errors.items():
                if result.policy == "error" and not isinstance(error, InternalChannelFull):
                    raise
                result.refused[sid] = result.refused.get(sid, 0) + 1
        await anyio.sleep(0.001)


async def slow_round(served: Served, policy: Policy) -> list[str]:
    """One stall: broadcast while the slow member reads nothing, then let it read what is left."""
    result = Round(policy)
    async with AsyncExitStack() as stack:
        slow = await member(served.port, stack)
        healthy = [await member(served.port, stack) for _ in range(2)]
        seen: list[list[int]] = [[] for _ in healthy]
        done = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(probe, served, result, done)
            with anyio.fail_after(30):
                async with anyio.create_task_group() as readers:
                    for client, ticks in zip(healthy, seen, strict=True):
                        readers.start_soon(read_ticks, client, ticks)
                    await broadcast(served, result)
            done.set()
        result.healthy_in_order = all(ticks == list(range(TICKS)) for ticks in seen)
        await resume(slow, result)
        for client in healthy:
            await client.send_text("41")
    return result.failures(slow.sid)


async def resume(slow: WsClient, result: Round) -> None:
    """The slow client reads again: what was kept for it, then its echo or the server's close."""
    texts = []
    try:
        await slow.send_text(STILL_THERE)
        with anyio.move_on_after(10):
            while (frame := await slow.next_frame(10)).opcode is not Opcode.CLOSE:
                if (text := frame.data.decode()) == STILL_THERE:
                    result.slow_state = "connected"
                    break
                texts.append(text)
            else:
                result.slow_state = "closed"
    except (anyio.EndOfStream, *GONE):
        result.slow_state = "closed"
    result.slow_ticks = ticks_in(texts)


@asynccontextmanager
async def slow_server(policy: Policy) -> AsyncIterator[Served]:
    async with serving(engine=replace(SLOW_ENGINE, slow_consumer=policy)) as served:
        yield served


async def run(policies: tuple[Policy, ...], duration: float) -> tuple[int, list[str]]:
    """Rounds of each policy in turn for *duration* seconds (one of each at least); rounds, failures."""
    failures: list[str] = []
    rounds = 0
    stop_at = time.monotonic() + duration
    with watching_errors() as errors:
        while not rounds or (time.monotonic() < stop_at and not failures):
            for policy in policies:
                async with slow_server(policy) as served:
                    failures += await slow_round(served, policy)
                    settled = await served.settled(within=5.0)
                    if excess := settled.excess_over(served.baseline):
                        failures.append(f"{policy}: still held after the round: {excess}")
                rounds += 1
    return rounds, failures + [f"logged: {line}" for line in errors.lines()]


async def main(options: argparse.Namespace) -> list[str]:
    policies = POLICIES if options.policy is None else (options.policy,)
    rounds, failures = await run(policies, options.duration)
    print(
        f"{options.backend}: {rounds} rounds of {TICKS} broadcasts of {len(PAYLOAD)} bytes, "
        f"policies {policies}"
    )
    return failures


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--policy", choices=POLICIES, default=None)
    run_main(main, parser)
