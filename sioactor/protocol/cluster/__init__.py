"""Sans-IO codecs of the Socket.IO Redis adapters and emitter: the bytes a cluster's servers exchange.

Wire-compatible with ``@socket.io/redis-adapter`` 8.x (the classic protocol, ``_classic.py``, and the
sharded adapter's ``ClusterAdapter`` envelope, ``_cluster_format.py``) and ``@socket.io/redis-emitter`` 5.x
(the classic protocol with uid ``"emitter"``), as shared/CLUSTER-NOTES.md documents them. One vocabulary of
messages (``_messages.py``) serves both formats; ``_channels.py`` names the channels.

    channels = ClassicChannels("/chat")
    message = Broadcast(uid="KEaaGZ", nsp="/chat", data=["ev", b"\\x01"], recipients=Recipients(rooms=("r",)))
    channels.broadcast_target(message.recipients)   # "socket.io#/chat#r#"
    payload = encode_classic_broadcast(message)     # msgpack bytes, as a Node server would publish them
    decode_classic_broadcast(payload)               # == message; DecodeError for anything else

Layer rule: like all of ``sioactor.protocol``, this package imports only the standard library, ``msgpack``
and ``orjson``: no Redis client, no anyio. Decoders raise ``DecodeError`` (a ``ProtocolError``) alone.
"""

from sioactor.protocol.cluster._channels import (
    DEFAULT_PREFIX,
    ClassicChannels,
    ShardedChannels,
    SubscriptionMode,
)
from sioactor.protocol.cluster._classic import (
    ClassicRequest,
    ClassicResponse,
    decode_classic_broadcast,
    decode_classic_request,
    decode_classic_response,
    encode_classic_broadcast,
    encode_classic_request,
    encode_classic_response,
    encode_emitter_broadcast,
)
from sioactor.protocol.cluster._cluster_format import (
    ShardedMessage,
    decode_cluster_message,
    encode_cluster_message,
)
from sioactor.protocol.cluster._messages import (
    EMITTER_UID,
    AdapterClose,
    AllRooms,
    AllRoomsResponse,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    ClusterMessage,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    Heartbeat,
    InitialHeartbeat,
    LegacyCommandDone,
    LegacySocketCommand,
    MessageType,
    Recipients,
    RequestType,
    ServerSideEmit,
    ServerSideEmitResponse,
    SocketDetails,
    SocketIds,
    SocketIdsResponse,
    SocketsJoin,
    SocketsLeave,
)

__all__ = (
    "DEFAULT_PREFIX",
    "EMITTER_UID",
    "AdapterClose",
    "AllRooms",
    "AllRoomsResponse",
    "Broadcast",
    "BroadcastAck",
    "BroadcastClientCount",
    "ClassicChannels",
    "ClassicRequest",
    "ClassicResponse",
    "ClusterMessage",
    "DisconnectSockets",
    "FetchSockets",
    "FetchSocketsResponse",
    "Heartbeat",
    "InitialHeartbeat",
    "LegacyCommandDone",
    "LegacySocketCommand",
    "MessageType",
    "Recipients",
    "RequestType",
    "ServerSideEmit",
    "ServerSideEmitResponse",
    "ShardedChannels",
    "ShardedMessage",
    "SocketDetails",
    "SocketIds",
    "SocketIdsResponse",
    "SocketsJoin",
    "SocketsLeave",
    "SubscriptionMode",
    "decode_classic_broadcast",
    "decode_classic_request",
    "decode_classic_response",
    "decode_cluster_message",
    "encode_classic_broadcast",
    "encode_classic_request",
    "encode_classic_response",
    "encode_cluster_message",
    "encode_emitter_broadcast",
)
