"""Small actors and a list tracer shared by the actor-system tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from sioactor.actors._actor import Actor
from sioactor.actors._ref import ActorRef, Reply, StopReason


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Boom:
    text: str = "boom"


@dataclass(frozen=True, slots=True, kw_only=True)
class Echo:
    text: str
    reply: Reply[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """Park the actor inside handle() until *release* is set (keeps it busy, not waiting for mail)."""

    release: anyio.Event = field(default_factory=anyio.Event)
    entered: anyio.Event = field(default_factory=anyio.Event)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ignore:
    """An ask the actor never answers."""

    reply: Reply[str]


Msg = Note | Boom | Echo | Hold | Ignore


class Recorder(Actor[Msg]):
    """Records what it handles; fails on Boom; answers Echo; blocks on Hold."""

    kind = "recorder"

    def __init__(self, name: str = "rec", *, mailbox_size: int | None = None) -> None:
        super().__init__(name, mailbox_size=mailbox_size)
        self.handled: list[Msg] = []
        self.unhandled: list[Msg] = []
        self.stopped: list[StopReason] = []
        self.failures: list[Exception] = []

    async def handle(self, message: Msg) -> None:
        self.handled.append(message)
        if isinstance(message, Boom):
            raise RuntimeError(message.text)
        if isinstance(message, Echo):
            message.reply.set(message.text)
        elif isinstance(message, Hold):
            message.entered.set()
            await message.release.wait()

    async def on_failure(self, exc: Exception) -> None:
        self.failures.append(exc)
        await super().on_failure(exc)

    def on_unhandled(self, message: Msg) -> None:
        self.unhandled.append(message)

    async def on_stop(self, reason: StopReason) -> None:
        await anyio.lowlevel.checkpoint()  # shielded: an await here must work even when cancelled
        self.stopped.append(reason)


class Resilient(Recorder):
    """Keeps running after a failure."""

    kind = "resilient"

    async def on_failure(self, exc: Exception) -> None:
        self.failures.append(exc)


async def hold_busy(ref: ActorRef[Msg]) -> Hold:
    """Tell *ref*'s actor a ``Hold`` and wait until it is inside it (busy, not waiting for mail)."""
    hold = Hold()
    ref.tell(hold)
    with anyio.fail_after(5):
        await hold.entered.wait()
    return hold
