"""A namespace actor: owns the set of sockets admitted to one namespace and keeps its room registry in step.

Admission (after the socket's connect middleware chain accepted it) and removal (after its disconnect
handler ran) are messages, handled in order: the namespace tells the room registry ``AddSocket`` + ``Join``
of the socket's own room on admission and ``RemoveSocket`` on removal, so every membership change of a
socket reaches the registry after its admission and before its removal. The connect handshake itself runs
in the socket's own actor, so a slow middleware never holds up other connects.

The socket handle is opaque here (``S``); this layer only needs its id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import anyio.lowlevel

from sioactor._errors import Closed, InternalChannelFull
from sioactor.actors._actor import Actor
from sioactor.actors._ref import ActorRef, Reply
from sioactor.actors.socketio._room_messages import AddSocket, Join, RemoveSocket, RoomMessage

__all__ = ("Admit", "FetchSockets", "NamespaceActor", "NamespaceMessage", "Remove")

S = TypeVar("S")

logger = logging.getLogger("sioactor.socketio")


@dataclass(frozen=True, slots=True, kw_only=True)
class Admit:
    """Ask: socket *sid* passed its middleware chain; add it (and its own room). Answers ``None``."""

    sid: str
    socket: Any
    reply: Reply[None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Remove:
    """Ask: socket *sid* left (its disconnect handler ran); forget it and its rooms. Answers ``None``."""

    sid: str
    socket: Any
    reply: Reply[None]


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSockets:
    """Ask: every admitted socket, in admission order."""

    reply: Reply[list[Any]]


NamespaceMessage = Admit | Remove | FetchSockets


class NamespaceActor(Actor[NamespaceMessage], Generic[S]):
    """The sockets of one namespace. ``sockets`` is a read-only view as of the last handled message.

    Raises nothing to its askers but ``Closed`` (the registry is gone): a full registry makes it wait.
    """

    kind = "namespace"

    def __init__(self, name: str, rooms: ActorRef[RoomMessage], *, mailbox_size: int | None = None) -> None:
        super().__init__(name, mailbox_size=mailbox_size)
        self._rooms = rooms
        self._sockets: dict[str, S] = {}
        self.sockets: Mapping[str, S] = MappingProxyType(self._sockets)

    def handles_now(self, message: NamespaceMessage) -> bool:
        """Answer at once (in the asker's task, see ``Actor.ask_or_handle``) unless handling could wait:
        only an admission (two tells) or a removal (one) to a room registry without room for them could."""
        rooms = self._rooms
        return isinstance(message, FetchSockets) or rooms.closed or rooms.depth() + 2 <= rooms.capacity

    async def handle(self, message: NamespaceMessage) -> None:
        """Admit, remove or list sockets. Awaits only while the room registry's mailbox is full (see
        ``_tell_rooms``); ``handles_now`` sends everything else the quick way."""
        if isinstance(message, Admit):
            await self._admit(message)
        elif isinstance(message, Remove):
            if self._sockets.get(message.sid) is message.socket:
                del self._sockets[message.sid]
            try:  # also for a refused socket, which may have joined rooms in a middleware
                await self._tell_rooms(RemoveSocket(sid=message.sid))
            except Closed as exc:
                logger.info("namespace %s: room registry gone, %s not sent", self.name, exc.message)
            message.reply.set(None)
        else:
            message.reply.set(list(self._sockets.values()))

    async def _admit(self, message: Admit) -> None:
        try:
            await self._tell_rooms(AddSocket(sid=message.sid))
            await self._tell_rooms(Join(sid=message.sid, rooms=(message.sid,)))
        except Closed as exc:
            message.reply.fail(exc)  # the socket is refused; its later Remove cleans what got through
            return
        self._sockets[message.sid] = message.socket
        message.reply.set(None)

    async def _tell_rooms(self, message: RoomMessage) -> None:
        # Admissions and removals must not be lost, and come in bursts (a reconnect storm, a shutdown). When
        # the registry's mailbox is full this actor waits: the registry never awaits while handling, so one
        # loop turn empties it. The namespace's own mailbox then fills, and its senders wait the same way.
        while True:
            try:
                self._rooms.tell(message)
            except InternalChannelFull:
                await anyio.lowlevel.checkpoint()
            else:
                return
