"""The bench's scenarios, as load-generator invocations grouped by the server process they share.

A group runs against one fresh server process: the echo variants share one, broadcast, idle, polling and
burst get their own, so the idle RSS baseline is a server that has served nothing else. The ``deflate``
group's servers run with compression on (``--compress``: permessage-deflate, and HTTP compression where
it is a separate switch): 10 KiB JSON echoes, without and then with the clients offering permessage-deflate.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Timing:
    """Durations in seconds: warm-up and measured window per scenario, idle settle time, levels."""

    warmup: float
    duration: float
    settle: float
    idle_levels: tuple[int, ...]
    reps: int


FULL = Timing(warmup=1.0, duration=3.0, settle=1.5, idle_levels=(1000, 5000, 10000), reps=3)
QUICK = Timing(warmup=0.5, duration=1.5, settle=1.0, idle_levels=(1000,), reps=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Invocation:
    """One run of bench/loadgen/main.js: its scenario flags and a hard deadline in seconds."""

    args: tuple[str, ...]
    deadline_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """Scenarios measured against one server process, in order."""

    name: str
    invocations: tuple[Invocation, ...]
    server_args: tuple[str, ...] = ()  # appended to every server's command line for this group


def _timed(timing: Timing, *args: str) -> tuple[str, ...]:
    return (*args, "--warmup", str(timing.warmup), "--duration", str(timing.duration))


def groups(timing: Timing) -> tuple[Group, ...]:
    """The scenario groups for *timing*, each invocation bounded by its deadline."""
    window = timing.warmup + timing.duration + 15.0  # connect + drain + close, generously
    echo = tuple(
        Invocation(
            args=_timed(timing, "--scenario", "echo", "--mode", mode, "--clients", "50", "--inflight", n),
            deadline_s=window,
        )
        for mode in ("emit", "ack")
        for n in ("1", "10")
    )
    bcast = Invocation(
        args=_timed(timing, "--scenario", "bcast", "--clients", "1000", "--inflight", "10"),
        deadline_s=window + 30.0,
    )
    levels = ",".join(str(level) for level in timing.idle_levels)
    idle = Invocation(
        args=("--scenario", "idle", "--levels", levels, "--settle", str(timing.settle)),
        # Python servers connect a few hundred sockets per second at 10k; allow ~100/s in the worst case.
        deadline_s=10.0 + max(timing.idle_levels) / 100 + len(timing.idle_levels) * timing.settle,
    )
    polling = Invocation(
        args=_timed(timing, "--scenario", "polling", "--clients", "50", "--inflight", "1"),
        deadline_s=window,
    )
    # The same with heads as socket.io-client sends them (a random `t=` in each: no two alike).
    polling_client_heads = Invocation(
        args=_timed(
            timing, "--scenario", "polling", "--clients", "50", "--inflight", "1", "--client-heads", "1"
        ),
        deadline_s=window,
    )
    burst = Invocation(
        args=_timed(timing, "--scenario", "burst", "--clients", "10", "--burst", "1000"),
        deadline_s=window,
    )
    deflate = tuple(
        Invocation(
            args=_timed(
                timing,
                "--scenario",
                "echo",
                "--mode",
                "emit",
                "--clients",
                "50",
                "--inflight",
                "1",
                "--size",
                "10240",
                "--compress",
                compress,
            ),
            deadline_s=window,
        )
        for compress in ("0", "1")
    )
    return (
        Group(name="echo", invocations=echo),
        Group(name="bcast", invocations=(bcast,)),
        Group(name="idle", invocations=(idle,)),
        Group(name="polling", invocations=(polling, polling_client_heads)),
        Group(name="burst", invocations=(burst,)),
        Group(name="deflate", invocations=deflate, server_args=("--compress",)),
    )
