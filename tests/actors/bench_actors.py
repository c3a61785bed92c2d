"""Measure the actor system: memory per idle actor and the cost of tell(). Not a test; run by hand:

.venv/bin/python tests/actors/bench_actors.py asyncio|trio spawn|soon|tell [N]
"""

from __future__ import annotations

import gc
import resource
import sys
import time
import tracemalloc
from typing import Any

import anyio

from sioactor.actors._actor import Actor
from sioactor.actors._supervisor import Supervisor


class Idle(Actor[int]):
    kind = "idle"

    async def handle(self, message: int) -> None:
        pass


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def idle_memory(n: int, make: Any, spawn: str, traced: bool) -> float:
    """KB per idle actor, by tracemalloc (*traced*) or by RSS (tracemalloc's bookkeeping would inflate it)."""
    async with Supervisor() as sup:
        gc.collect()
        await anyio.wait_all_tasks_blocked()
        rss0 = rss_kb()
        if traced:
            tracemalloc.start()
        for i in range(n):
            actor = make(f"a{i}")
            if spawn == "soon":
                sup.spawn_soon(actor)
            else:
                await sup.spawn(actor)
        await anyio.wait_all_tasks_blocked()
        gc.collect()
        if traced:
            result = tracemalloc.get_traced_memory()[0] / n / 1024
            tracemalloc.stop()
        else:
            result = (rss_kb() - rss0) / n
        for actor in sup.actors:
            actor.ref.stop()
    return result


async def tell_cost(rounds: int, make: Any = Idle) -> tuple[float, float]:
    """ns per tell() and per bare send_nowait(), into a mailbox that does not drain during the loop."""
    async with Supervisor() as sup:
        ref = await sup.spawn(make("t", mailbox_size=rounds + 1))
        tell = ref.tell
        start = time.perf_counter_ns()
        for i in range(rounds):
            tell(i)
        tell_ns = (time.perf_counter_ns() - start) / rounds
        send, receive = anyio.create_memory_object_stream[int](rounds + 1)
        with send, receive:
            send_nowait = send.send_nowait
            start = time.perf_counter_ns()
            for i in range(rounds):
                send_nowait(i)
            bare_ns = (time.perf_counter_ns() - start) / rounds
        ref.stop()
    return tell_ns, bare_ns


async def main(what: str, n: int) -> None:
    make: Any = Idle
    if what.startswith("tell"):
        best = min([await tell_cost(200_000, make) for _ in range(5)])
        print(f"  {what}(): {best[0]:.0f} ns; bare send_nowait: {best[1]:.0f} ns")
        return
    rss = await idle_memory(n, make, what, traced=False)  # first, while the process's heap is fresh
    print(f"  {what}: {rss:.2f} KB/actor (RSS)")
    traced = await idle_memory(n, make, what, traced=True)
    print(f"  {what}: {traced:.2f} KB/actor (tracemalloc)")


if __name__ == "__main__":
    # One measurement per process, so RSS is not flattered by memory freed by an earlier one.
    backend, what = sys.argv[1], sys.argv[2]  # asyncio|trio, spawn|soon|tell
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    print(f"{backend}, {count} actors")
    anyio.run(main, what, count, backend=backend)
