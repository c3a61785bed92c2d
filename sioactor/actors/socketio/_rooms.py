"""The room registry of one namespace: room → sids and sid → rooms (``RoomRegistry``, plain state), and the
actor that owns it (``RoomRegistryActor``), which changes it only through its mailbox.

Joins, leaves and removals are tells; broadcasts ask ``Select``. The mailbox is FIFO, so a join told before a
broadcast is seen by it (socket.io semantics), without locks. The actor never awaits while handling, so it
drains its mailbox in one go each time it runs.

Rooms and members keep insertion order (dicts used as ordered sets), so broadcasts reach sockets in the
order they joined, which keeps behaviour and tests deterministic.

Room changes can be observed (``RoomRegistry.observer``), as Node's in-memory adapter emits ``create-room``,
``join-room``, ``leave-room`` and ``delete-room``: a room's first member creates it, its last leaving deletes
it, and only a real change is reported (a second join of the same room is not). Without an observer, joins
take the path they always took; the check is one attribute read per message, not per room.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable

from sioactor.actors._actor import Actor
from sioactor.actors.socketio._room_messages import (
    AddSocket,
    Join,
    Leave,
    RoomMessage,
    RoomsOf,
    Select,
)

__all__ = ("RoomChange", "RoomObserver", "RoomRegistry", "RoomRegistryActor")


class RoomChange(enum.Enum):
    """A change of the room registry, valued by the name Node's adapter emits it under."""

    CREATED = "create-room"
    DELETED = "delete-room"
    JOINED = "join-room"
    LEFT = "leave-room"


RoomObserver = Callable[[RoomChange, str, str | None], None]
"""Called with each change, the room and the socket id (``None`` for ``CREATED`` and ``DELETED``), in the
registry actor's task while it handles the message: it must not raise, and never waits."""


class RoomRegistry:
    """Which sockets are in which rooms, for one namespace."""

    __slots__ = ("_members", "_rooms_of", "observer")

    def __init__(self) -> None:
        self._members: dict[str, dict[str, None]] = {}
        self._rooms_of: dict[str, dict[str, None]] = {}
        self.observer: RoomObserver | None = None

    def add_socket(self, sid: str) -> None:
        """Register *sid* in the namespace, in no room yet."""
        self._rooms_of.setdefault(sid, {})

    def join(self, sid: str, rooms: Iterable[str]) -> None:
        """Put socket *sid* in each of *rooms* (joining a room twice is harmless)."""
        own = self._rooms_of.setdefault(sid, {})
        if self.observer is not None:
            self._join_observed(sid, rooms, own, self.observer)
            return
        for room in rooms:
            own[room] = None
            self._members.setdefault(room, {})[sid] = None

    def _join_observed(
        self, sid: str, rooms: Iterable[str], own: dict[str, None], observer: RoomObserver
    ) -> None:
        for room in rooms:
            own[room] = None
            members = self._members.get(room)
            if members is None:
                members = self._members[room] = {}
                observer(RoomChange.CREATED, room, None)
            if sid not in members:
                members[sid] = None
                observer(RoomChange.JOINED, room, sid)

    def leave(self, sid: str, rooms: Iterable[str]) -> None:
        """Take socket *sid* out of each of *rooms*; an empty room disappears."""
        own = self._rooms_of.get(sid)
        if own is None:
            return
        for room in rooms:
            own.pop(room, None)
            self._drop_member(room, sid)

    def remove_socket(self, sid: str) -> frozenset[str]:
        """Forget socket *sid* entirely; returns the rooms it was in."""
        own = self._rooms_of.pop(sid, {})
        for room in own:
            self._drop_member(room, sid)
        return frozenset(own)

    def rooms_of(self, sid: str) -> list[str]:
        """The rooms socket *sid* is in, in the order it joined them."""
        return list(self._rooms_of.get(sid, ()))

    def rooms(self) -> list[str]:
        """Every non-empty room of the namespace."""
        return list(self._members)

    def sids(self) -> list[str]:
        """Every socket registered in the namespace."""
        return list(self._rooms_of)

    def __contains__(self, sid: object) -> bool:
        return sid in self._rooms_of

    def select(
        self, rooms: Collection[str], except_rooms: Collection[str] = (), except_sids: Collection[str] = ()
    ) -> list[str]:
        """The sockets in any of *rooms* (all sockets when *rooms* is empty), minus those in any of
        *except_rooms* and those listed in *except_sids*; each sid once.
        """
        excluded = set(except_sids)
        for room in except_rooms:
            excluded.update(self._members.get(room, ()))
        if not rooms:
            return [sid for sid in self._rooms_of if sid not in excluded]
        chosen: dict[str, None] = {}
        for room in rooms:
            for sid in self._members.get(room, ()):
                if sid not in excluded:
                    chosen[sid] = None
        return list(chosen)

    def _drop_member(self, room: str, sid: str) -> None:
        members = self._members.get(room)
        if members is None:
            return
        if self.observer is not None:
            self._drop_observed(room, sid, members, self.observer)
            return
        members.pop(sid, None)
        if not members:
            del self._members[room]

    def _drop_observed(self, room: str, sid: str, members: dict[str, None], observer: RoomObserver) -> None:
        if sid not in members:
            return
        del members[sid]
        observer(RoomChange.LEFT, room, sid)
        if not members:
            del self._members[room]
            observer(RoomChange.DELETED, room, None)


class RoomRegistryActor(Actor[RoomMessage]):
    """The actor owning one namespace's ``RoomRegistry``; no task once idle (a namespace per tenant is
    cheap).

    ``peek_select`` reads the state directly, for callers that may not await (``sockets()``): it is a
    snapshot as of the last handled message, so joins still queued are not in it. ``Select`` is exact.
    """

    kind = "rooms"

    def __init__(self, name: str, *, mailbox_size: int | None = None) -> None:
        super().__init__(name, mailbox_size=mailbox_size)
        self.registry = RoomRegistry()

    def observe(self, observer: RoomObserver | None) -> None:
        """Report every later change to *observer* (``None``: stop reporting); see ``RoomObserver``."""
        self.registry.observer = observer

    def peek_select(
        self, rooms: Collection[str], except_rooms: Collection[str] = (), except_sids: Collection[str] = ()
    ) -> list[str]:
        """``RoomRegistry.select`` on the state as of the last handled message (no mailbox hop)."""
        return self.registry.select(rooms, except_rooms, except_sids)

    def select_now(
        self, rooms: Collection[str], except_rooms: Collection[str] = (), except_sids: Collection[str] = ()
    ) -> list[str] | None:
        """What a ``Select`` asked now would answer, without the ask, when that can be known; else ``None``
        (ask then).

        It can when the mailbox is empty and open: every change told before has been applied, because this
        actor never awaits while handling (a message taken from the mailbox is applied before any other task
        runs). So a join told before a broadcast is still seen by it -- the guarantee ``Select`` gives --
        and the broadcast saves two task switches.
        """
        if self.queued() or self.ref.closed:
            return None
        return self.registry.select(rooms, except_rooms, except_sids)

    async def handle(self, message: RoomMessage) -> None:
        """Apply one change, or answer one lookup. Never awaits."""
        registry = self.registry
        if isinstance(message, Select):
            message.reply.set(registry.select(message.rooms, message.except_rooms, message.except_sids))
        elif isinstance(message, Join):
            registry.join(message.sid, message.rooms)
        elif isinstance(message, Leave):
            rooms = registry.rooms_of(message.sid) if message.rooms is None else message.rooms
            registry.leave(message.sid, rooms)
        elif isinstance(message, RoomsOf):
            message.reply.set(registry.rooms_of(message.sid))
        elif isinstance(message, AddSocket):
            registry.add_socket(message.sid)
        else:
            registry.remove_socket(message.sid)
