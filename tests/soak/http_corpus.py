"""The HTTP differential and smuggling corpus against the embedded server: each request of ``_http_cases.py``
is sent on a new connection and must get exactly the statuses listed, then a close; a well-formed request
on a new connection must then still be served.

    python -m tests.soak.http_corpus --duration 60 --backend asyncio [--seed N]

The long mode repeats the corpus three ways: whole; split at random points and trickled (the answer must
not depend on how the bytes arrive); and mutated (bytes flipped, inserted, deleted, lines duplicated), where
no answer is prescribed but every connection must end within the read deadlines with well-formed
responses, the server must keep serving, hold no descriptor or session afterwards, and log no error.

    python -m tests.soak.http_corpus --against-node [--backend trio]

replays the corpus against Node's http server with engine.io (``_http_node.py``) and sioactor's, prints where
they differ and fails on a case one accepts and the other refuses that ``_http_node.KNOWN_DIFFERENCES``
does not justify.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel

from ._clients import GONE, POLLING_PATH, http, polling_open, request, status_and_body
from ._http_cases import CASES, Case
from ._kit import Served, arguments, run_main, serving, watching_errors

# Past the longest read deadline of the soak server (its body timeout) with room for a busy machine.
ENDS_WITHIN = 5.0
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


def statuses(answer: bytes) -> list[int] | None:
    """The status of every response in *answer* in order, ``None`` if it is not a sequence of responses."""
    found = []
    while answer:
        head, separator, rest = answer.partition(b"\r\n\r\n")
        match = re.match(rb"HTTP/1\.[01] (\d{3}) ", head)
        if not separator or match is None:
            return None
        found.append(int(match[1]))
        if found[-1] == 101:
            return found  # what follows is the upgraded protocol's
        length = _CONTENT_LENGTH.search(head)
        answer = rest[int(length[1]) :] if length else b"" if found[-1] >= 200 else rest
    return found


async def exchange(
    port: int, data: bytes, pieces: list[bytes] | None = None, *, within: float = ENDS_WITHIN
) -> tuple[bytes, bool]:
    """Send *data* (or *pieces*, a loop turn apart) on a new connection, reading all the while; what came
    back and whether the server closed the connection within *within* seconds."""
    received = bytearray()
    closed = anyio.Event()

    async def read(stream: anyio.abc.SocketStream) -> None:
        while True:
            try:
                received.extend(await stream.receive())
            except GONE:
                closed.set()
                return

    async with await anyio.connect_tcp("127.0.0.1", port) as stream, anyio.create_task_group() as tg:
        tg.start_soon(read, stream)
        with anyio.move_on_after(within):
            try:
                for piece in pieces or [data]:
                    await stream.send(piece)
                    await anyio.lowlevel.checkpoint()
            except GONE:
                pass  # refused before all was sent: what it answered is still read
            await closed.wait()
        tg.cancel_scope.cancel()
    return bytes(received), closed.is_set()


async def filled(port: int, case: Case) -> bytes:
    """The case's request with a fresh session in place of ``{sid}`` / ``{poll}``."""
    if b"{" not in case.request:
        return case.request
    sid = await polling_open(port)
    return case.request.replace(b"{poll}", f"{POLLING_PATH}&sid={sid}".encode()).replace(
        b"{sid}", sid.encode()
    )


async def still_serving(port: int) -> bool:
    status, _ = status_and_body(await http(port, request("GET", POLLING_PATH)))
    return status == 200


@dataclass
class Tally:
    sent: int = 0
    mutants: int = 0
    mutant_statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


async def check_case(served: Served, case: Case, tally: Tally, rng: random.Random | None = None) -> None:
    """Send *case* (split at random points when *rng* is given) and check the answer, then a new client."""
    data = await filled(served.port, case)
    pieces = None if rng is None else split(rng, data)
    answer, closed = await exchange(served.port, data, pieces)
    tally.sent += 1
    got = statuses(answer)
    how = "whole" if pieces is None else f"in {len(pieces)} pieces"
    if got != list(case.expect) or not closed:
        tally.failures.append(f"{case.name} ({how}): got {got} closed={closed}, expected {list(case.expect)}")
    if not await still_serving(served.port):
        tally.failures.append(f"{case.name} ({how}): the next client was not served")


def split(rng: random.Random, data: bytes) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randrange(1, 8))))
    return [data[start:end] for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def mutate(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.randrange(1, 4)):
        if not data:
            break
        at = rng.randrange(len(data))
        kind = rng.randrange(5)
        if kind == 0:
            data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
        elif kind == 1:
            data = (
                data[:at] + rng.choice((b"\r", b"\n", b"\r\n", b" ", b"\t", b":", b",", b"\x00")) + data[at:]
            )
        elif kind == 2:
            data = data[:at] + data[at + rng.randrange(1, 6) :]
        elif kind == 3:
            lines = data.split(b"\r\n")
            line = rng.randrange(len(lines))
            data = b"\r\n".join([*lines[: line + 1], lines[line], *lines[line + 1 :]])
        else:
            data = data[:at]
    return data


async def check_mutant(served: Served, case: Case, rng: random.Random, tally: Tally) -> None:
    """A mutated request: whatever the answer, it ends in time, is well-formed, and the server serves on."""
    data = mutate(rng, await filled(served.port, case))
    answer, closed = await exchange(served.port, data)
    tally.mutants += 1
    got = statuses(answer)
    if got is None or not closed:
        tally.failures.append(f"mutant of {case.name} {data!r}: answer {answer[:200]!r} closed={closed}")
        return
    for status in got:
        tally.mutant_statuses[status] = tally.mutant_statuses.get(status, 0) + 1


async def run_corpus(served: Served, tally: Tally) -> None:
    """Every case once, whole, ten at a time."""
    async with anyio.create_task_group() as tg:
        limiter = anyio.CapacityLimiter(10)
        for case in CASES:
            tg.start_soon(_limited, limiter, check_case, served, case, tally)


async def _limited(limiter: anyio.CapacityLimiter, check: Callable[..., Awaitable[None]], *args: Any) -> None:
    async with limiter:
        await check(*args)


async def soak(duration: float, seed: int) -> Tally:
    """The corpus whole, then rounds of split and mutated cases for *duration* seconds."""
    rng = random.Random(seed)
    tally = Tally()
    with watching_errors() as errors:
        async with serving() as served:
            await run_corpus(served, tally)
            stop_at = time.monotonic() + duration
            while time.monotonic() < stop_at and not tally.failures:
                async with anyio.create_task_group() as tg:
                    limiter = anyio.CapacityLimiter(20)
                    for case in rng.sample(CASES, 20):
                        tg.start_soon(
                            _limited, limiter, check_case, served, case, tally, random.Random(rng.random())
                        )
                        tg.start_soon(
                            _limited, limiter, check_mutant, served, case, random.Random(rng.random()), tally
                        )
            settled = await served.settled(within=ENDS_WITHIN)
            if excess := settled.excess_over(served.baseline):
                tally.failures.append(f"still held after the corpus: {excess}")
    tally.failures += [f"logged: {line}" for line in errors.lines()]
    return tally


async def main(options: argparse.Namespace) -> list[str]:
    if options.against_node:
        from . import _http_node  # it builds on this module

        return await _http_node.against_node()
    tally = await soak(options.duration, options.seed)
    print(
        f"seed {options.seed} on {options.backend}: {len(CASES)} cases, {tally.sent} sent whole or split, "
        f"{tally.mutants} mutants answered {dict(sorted(tally.mutant_statuses.items()))}"
    )
    return tally.failures


if __name__ == "__main__":
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--against-node", action="store_true", help="compare with Node's http server instead of soaking"
    )
    run_main(main, parser)
