"""Channel names of the Redis adapters, per namespace ``N`` and key prefix ``P`` (default ``socket.io``).

Classic adapter (``createAdapter``), plain pub/sub:

    P#N#               broadcasts to everyone or to two rooms or more    PSUBSCRIBE P#N#*
    P#N#<room>#        broadcasts to exactly one room (a socket id is a room)
    P-request#N#       requests; PUBSUB NUMSUB of it counts the servers  SUBSCRIBE
    P-response#N#      answers (Node's default), and always the server-side-emit acks
    P-response#N#<uid># answers to requester <uid> (publishOnSpecificResponseChannel)

Sharded adapter (``createShardedAdapter``), Redis 7 sharded pub/sub (SSUBSCRIBE / SPUBLISH):

    P#N#               every message; PUBSUB SHARDNUMSUB of it counts the servers
    P#N#<uid>#         answers to requester <uid>
    P#N#<room>#        a one-room broadcast without acks, in the ``dynamic`` subscription modes

Room names are not escaped in channel names (Node does not); the receiver reads the room back as what lies
between the prefix and the final ``#``. The same ``P#N#`` is both adapters' channel: never mix adapter
kinds on one prefix.
"""

from __future__ import annotations

import enum
from typing import Final

from sioactor._errors import DecodeError
from sioactor.protocol.cluster._messages import Broadcast, ClusterMessage, Recipients

__all__ = ("DEFAULT_PREFIX", "ClassicChannels", "ShardedChannels", "SubscriptionMode")

DEFAULT_PREFIX: Final = "socket.io"
SOCKET_ID_LENGTH: Final = 20
_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "\\*?[]"})


class SubscriptionMode(enum.StrEnum):
    """How the sharded adapter spreads one-room broadcasts over channels (its ``subscriptionMode``)."""

    STATIC = "static"  # everything on P#N#
    DYNAMIC = "dynamic"  # a room's own channel, unless the room looks like a socket id (20 characters)
    DYNAMIC_PRIVATE = "dynamic-private"  # a room's own channel, socket ids included


class ClassicChannels:
    """The classic adapter's channels of one namespace."""

    __slots__ = ("broadcast", "nsp", "pattern", "prefix", "request", "response")

    def __init__(self, nsp: str, prefix: str = DEFAULT_PREFIX) -> None:
        self.nsp = nsp
        self.prefix = prefix
        self.broadcast = f"{prefix}#{nsp}#"
        # The pattern escapes glob characters, so a namespace named "/a*" hears only itself.
        self.pattern = f"{self.broadcast.translate(_GLOB_SPECIAL)}*"
        self.request = f"{prefix}-request#{nsp}#"
        self.response = f"{prefix}-response#{nsp}#"

    def room(self, room: str) -> str:
        """``P#N#<room>#``: where a broadcast to exactly this one room goes."""
        return f"{self.broadcast}{room}#"

    def response_for(self, uid: str) -> str:
        """``P-response#N#<uid>#``: the answers meant for requester *uid* alone."""
        return f"{self.response}{uid}#"

    def broadcast_target(self, recipients: Recipients) -> str:
        """The channel of a broadcast: its room's when it names exactly one room, else ``P#N#``."""
        rooms = recipients.rooms
        return self.room(rooms[0]) if len(rooms) == 1 else self.broadcast

    def room_of(self, channel: str) -> str | None:
        """The room a broadcast channel names, or ``None`` for ``P#N#`` itself.

        Raises:
            DecodeError: *channel* is not one of this namespace's broadcast channels.
        """
        if channel == self.broadcast:
            return None
        if not (channel.startswith(self.broadcast) and channel.endswith("#")):
            raise DecodeError(f"channel {channel!r} is not a broadcast channel of namespace {self.nsp!r}")
        return channel[len(self.broadcast) : -1]


class ShardedChannels:
    """The sharded adapter's channels of one namespace."""

    __slots__ = ("main", "mode", "nsp", "prefix")

    def __init__(
        self, nsp: str, prefix: str = DEFAULT_PREFIX, mode: SubscriptionMode = SubscriptionMode.DYNAMIC
    ) -> None:
        self.nsp = nsp
        self.prefix = prefix
        self.mode = mode
        self.main = f"{prefix}#{nsp}#"

    def room(self, room: str) -> str:
        """``P#N#<room>#``: a room's channel in the dynamic modes."""
        return f"{self.main}{room}#"

    def response_for(self, uid: str) -> str:
        """``P#N#<uid>#``: the answers meant for requester *uid*."""
        return f"{self.main}{uid}#"

    def uses_room_channel(self, room: str) -> bool:
        """Whether a one-room broadcast to *room* goes to the room's own channel in this mode.

        A node in a dynamic mode must hear those channels for the rooms it holds (Node subscribes to every
        room that is not one of its socket ids; ``dynamic-private`` to those too).
        """
        if self.mode is SubscriptionMode.STATIC:
            return False
        return self.mode is SubscriptionMode.DYNAMIC_PRIVATE or len(room) != SOCKET_ID_LENGTH

    def target(self, message: ClusterMessage) -> str:
        """Where *message* is published: a one-room broadcast without acks may go to its room's channel."""
        if isinstance(message, Broadcast) and message.request_id is None:
            rooms = message.recipients.rooms
            if len(rooms) == 1 and self.uses_room_channel(rooms[0]):
                return self.room(rooms[0])
        return self.main
