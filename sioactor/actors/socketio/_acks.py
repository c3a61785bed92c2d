"""The acknowledgements one socket awaits from its client, by ack id.

An ACK packet from the client is resolved here straight from the connection's ``on_message``, never through
the socket's mailbox: a handler that awaits ``emit_with_ack`` on its own socket occupies that mailbox, so an
ack queued behind it would never be seen (a deadlock). Resolution is a plain call that only wakes a waiter.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ("AckTable", "AckWaiter")


class AckWaiter(Protocol):
    """Whoever waits for an ack (one emit's ack stream); told once per socket it registered with."""

    def resolve(self, sid: str, args: list[Any]) -> None:
        """Socket *sid*'s client answered with *args*."""

    def fail(self, sid: str, error: Exception) -> None:
        """Socket *sid* can no longer answer (it disconnected); *error* says why."""


class AckTable:
    """Pending acks of one socket: ack id → waiter.

    The ids come from the caller: as in Node, they are drawn from one counter per *namespace*, because a
    broadcast with ack is encoded once, so every receiver sees (and must register) the same id.
    """

    __slots__ = ("_pending", "sid")

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self._pending: dict[int, AckWaiter] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def register(self, ack_id: int, waiter: AckWaiter) -> None:
        """Await the answer to *ack_id* on behalf of *waiter*."""
        self._pending[ack_id] = waiter

    def discard(self, ack_id: int) -> None:
        """Forget *ack_id* (timed out, or its emit failed); a late answer to it is then unknown."""
        self._pending.pop(ack_id, None)

    def resolve(self, ack_id: int, args: list[Any]) -> bool:
        """Hand the client's answer to its waiter; False when the id is unknown (late or never issued)."""
        waiter = self._pending.pop(ack_id, None)
        if waiter is None:
            return False
        waiter.resolve(self.sid, args)
        return True

    def fail_all(self, error: Exception) -> None:
        """Tell every waiter that this socket will not answer, and forget them all."""
        pending, self._pending = self._pending, {}
        for waiter in pending.values():
            waiter.fail(self.sid, error)
