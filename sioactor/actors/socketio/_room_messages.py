"""What a namespace's room registry actor accepts: joins, leaves and removals are tells, lookups are asks.

One mailbox, handled in order: a ``Join`` told before a ``Select`` is seen by that ``Select``, which is what
gives ``socket.join("a"); await socket.to("a").emit(...)`` socket.io's semantics without a lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from sioactor.actors._ref import Reply

__all__ = ("AddSocket", "Join", "Leave", "RemoveSocket", "RoomMessage", "RoomsOf", "Select")


@dataclass(frozen=True, slots=True, kw_only=True)
class AddSocket:
    """Register socket *sid* in the namespace, in no room yet."""

    sid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Join:
    """Put socket *sid* in each of *rooms* (joining twice is harmless)."""

    sid: str
    rooms: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Leave:
    """Take socket *sid* out of each of *rooms*; ``None`` means every room it is in."""

    sid: str
    rooms: tuple[str, ...] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveSocket:
    """Forget socket *sid* and all its memberships (it left the namespace)."""

    sid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Select:
    """Ask: the sids in any of *rooms* (every socket when empty), minus *except_rooms* and *except_sids*."""

    rooms: frozenset[str]
    except_rooms: frozenset[str]
    except_sids: frozenset[str]
    reply: Reply[list[str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomsOf:
    """Ask: the rooms socket *sid* is in, in the order it joined them."""

    sid: str
    reply: Reply[list[str]]


RoomMessage = AddSocket | Join | Leave | RemoveSocket | Select | RoomsOf
