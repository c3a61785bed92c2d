"""The ``ClusterAdapter`` message format: the sharded Redis adapter's (``createShardedAdapter``).

Every message is one envelope ``{type, data?, uid, nsp}`` (``MessageType``; ``uid`` is the sending adapter's,
16 hex characters in Node). It is JSON, unless it is of a type that may carry user data (broadcast, its
acks, fetch answers, server-side emits and their acks) and its ``data`` holds binary: then msgpack, so
that the binary survives. The decoder looks at the first byte, ``{`` meaning JSON, as Node's does.

Key orders are Node's (``publish()`` appends ``uid`` and ``nsp``), so sioactor's bytes equal a Node
server's. A broadcast's packet has no ``nsp`` here: the envelope's names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sioactor._errors import DecodeError
from sioactor.protocol.cluster._messages import (
    AdapterClose,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    ClusterMessage,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    Heartbeat,
    InitialHeartbeat,
    MessageType,
    Recipients,
    ServerSideEmit,
    ServerSideEmitResponse,
    SocketsJoin,
    SocketsLeave,
)
from sioactor.protocol.cluster._wire import (
    as_map,
    dump_json,
    dump_msgpack,
    get_bool,
    get_event,
    get_int,
    get_optional_str,
    get_str,
    get_str_list,
    load,
    read_recipients,
    read_sockets,
)

__all__ = ("ShardedMessage", "decode_cluster_message", "encode_cluster_message")

ShardedMessage = (
    InitialHeartbeat
    | Heartbeat
    | Broadcast
    | SocketsJoin
    | SocketsLeave
    | DisconnectSockets
    | FetchSockets
    | FetchSocketsResponse
    | ServerSideEmit
    | ServerSideEmitResponse
    | BroadcastClientCount
    | BroadcastAck
    | AdapterClose
)

_MAY_CARRY_BINARY = frozenset(
    (
        MessageType.BROADCAST,
        MessageType.FETCH_SOCKETS_RESPONSE,
        MessageType.SERVER_SIDE_EMIT,
        MessageType.SERVER_SIDE_EMIT_RESPONSE,
        MessageType.BROADCAST_ACK,
    )
)


def _opts(recipients: Recipients) -> dict[str, Any]:
    return {"rooms": recipients.rooms, "except": recipients.except_rooms, "flags": recipients.flags}


def _with_request_id(request_id: str | None, **rest: Any) -> dict[str, Any]:
    return rest if request_id is None else {"requestId": request_id, **rest}


def _type_and_data(message: ClusterMessage) -> tuple[MessageType, dict[str, Any] | None]:
    match message:
        case Broadcast():
            packet: dict[str, Any] = {"type": 2, "data": message.data}
            data: dict[str, Any] = {"packet": packet, "opts": _opts(message.recipients)}
            if message.request_id is not None:  # Node's key order: packet, requestId, opts
                data = {"packet": packet, "requestId": message.request_id, "opts": data["opts"]}
            return MessageType.BROADCAST, data
        case SocketsJoin():
            return MessageType.SOCKETS_JOIN, {"opts": _opts(message.recipients), "rooms": message.rooms}
        case SocketsLeave():
            return MessageType.SOCKETS_LEAVE, {"opts": _opts(message.recipients), "rooms": message.rooms}
        case DisconnectSockets():
            return MessageType.DISCONNECT_SOCKETS, {"opts": _opts(message.recipients), "close": message.close}
        case FetchSockets():
            return MessageType.FETCH_SOCKETS, {
                "opts": _opts(message.recipients),
                "requestId": message.request_id,
            }
        case FetchSocketsResponse():
            sockets = [
                {"id": s.id, "handshake": s.handshake, "rooms": s.rooms, "data": s.data}
                for s in message.sockets
            ]
            return MessageType.FETCH_SOCKETS_RESPONSE, {"requestId": message.request_id, "sockets": sockets}
        case ServerSideEmit():
            return MessageType.SERVER_SIDE_EMIT, _with_request_id(message.request_id, packet=message.data)
        case ServerSideEmitResponse():
            return MessageType.SERVER_SIDE_EMIT_RESPONSE, {
                "requestId": message.request_id,
                "packet": message.data,
            }
        case BroadcastClientCount():
            count = {"requestId": message.request_id, "clientCount": message.client_count}
            return MessageType.BROADCAST_CLIENT_COUNT, count
        case BroadcastAck():
            return MessageType.BROADCAST_ACK, {"requestId": message.request_id, "packet": message.data}
        case InitialHeartbeat():
            return MessageType.INITIAL_HEARTBEAT, None
        case Heartbeat():
            return MessageType.HEARTBEAT, None
        case AdapterClose():
            return MessageType.ADAPTER_CLOSE, None
    raise ValueError(f"{type(message).__name__} is not a ClusterAdapter message")


def encode_cluster_message(message: ClusterMessage) -> bytes:
    """The envelope of *message*, JSON or (when its user data holds binary) msgpack.

    Raises:
        ValueError: *message* has no ``ClusterAdapter`` form (a classic-only request or answer), or no uid.
        TypeError: a value the encoding cannot carry.
    """
    kind, data = _type_and_data(message)
    uid = getattr(message, "uid", None)
    if uid is None:
        raise ValueError("a ClusterAdapter message needs the sender's uid")
    envelope: dict[str, Any] = {"type": int(kind)}
    if data is not None:
        envelope["data"] = data
    envelope["uid"] = uid
    envelope["nsp"] = message.nsp
    if kind in _MAY_CARRY_BINARY and _has_binary(data):
        return dump_msgpack(envelope)
    return dump_json(envelope)


def _has_binary(obj: Any) -> bool:
    if isinstance(obj, bytes | bytearray | memoryview):
        return True
    if isinstance(obj, list | tuple):
        return any(_has_binary(item) for item in obj)
    if isinstance(obj, dict):
        return any(_has_binary(value) for value in obj.values())
    return False


def decode_cluster_message(payload: bytes) -> ShardedMessage:
    """Decode one ``ClusterAdapter`` envelope.

    The receiver still has to drop its own messages (same ``uid``) and those of another namespace.

    Raises:
        DecodeError: *payload* is not a ``ClusterAdapter`` message.
    """
    obj = as_map(load(payload), "cluster message")
    kind = get_int(obj, "type", "cluster message")
    uid = get_str(obj, "uid", "cluster message")
    nsp = get_str(obj, "nsp", "cluster message")
    if kind == MessageType.INITIAL_HEARTBEAT:
        return InitialHeartbeat(uid=uid, nsp=nsp)
    if kind == MessageType.HEARTBEAT:
        return Heartbeat(uid=uid, nsp=nsp)
    if kind == MessageType.ADAPTER_CLOSE:
        return AdapterClose(uid=uid, nsp=nsp)
    what = f"cluster message type {kind}"
    data = as_map(obj.get("data"), f"{what}: data")
    reader = _READERS.get(kind)
    if reader is None:
        raise DecodeError(f"unknown cluster message type {kind}")
    return reader(uid, nsp, data, what)


def _broadcast(uid: str, nsp: str, data: dict[Any, Any], what: str) -> ShardedMessage:
    packet = as_map(data.get("packet"), f"{what}: packet")
    if packet.get("type", 2) not in (2, 5):
        raise DecodeError(f"{what}: packet type {packet.get('type')!r} is not an event")
    return Broadcast(
        uid=uid,
        nsp=nsp,
        data=get_event(packet, "data", f"{what}: packet"),
        recipients=read_recipients(data.get("opts"), what),
        request_id=get_optional_str(data, "requestId", what),
    )


def _join(uid: str, nsp: str, data: dict[Any, Any], what: str) -> ShardedMessage:
    recipients, rooms = read_recipients(data.get("opts"), what), get_str_list(data, "rooms", what)
    return SocketsJoin(uid=uid, nsp=nsp, recipients=recipients, rooms=rooms)


def _leave(uid: str, nsp: str, data: dict[Any, Any], what: str) -> ShardedMessage:
    recipients, rooms = read_recipients(data.get("opts"), what), get_str_list(data, "rooms", what)
    return SocketsLeave(uid=uid, nsp=nsp, recipients=recipients, rooms=rooms)


def _disconnect(uid: str, nsp: str, data: dict[Any, Any], what: str) -> ShardedMessage:
    recipients, close = read_recipients(data.get("opts"), what), get_bool(data, "close", what)
    return DisconnectSockets(uid=uid, nsp=nsp, recipients=recipients, close=close)


def _fetch(uid: str, nsp: str, data: dict[Any, Any], what: str) -> ShardedMessage:
    recipients, request_id = read_recipients(data.get("opts"), what), get_str(data, "requestId", what)
    return FetchSockets(uid=uid, nsp=nsp, request_id=request_id, recipients=recipients)


def _fetched(uid: str, nsp: str, data: dict[Any, Any], what: str) -> ShardedMessage:
    request_id = get_str(data, "requestId", what)
    return FetchSocketsResponse(uid=uid, nsp=nsp, request_id=request_id, sockets=read_sockets(data))


def _server_side_emit(uid: str, nsp: str, data: dict[Any, Any], what: str) -> ShardedMessage:
    request_id = get_optional_str(data, "requestId", what)
    return ServerSideEmit(uid=uid, nsp=nsp, data=get_event(data, "packet", what), request_id=request_id)


def _server_side_ack(uid: str, nsp: str, data: dict[Any, Any], what: str) -> ShardedMessage:
    request_id = get_str(data, "requestId", what)
    return ServerSideEmitResponse(uid=uid, nsp=nsp, request_id=request_id, data=data.get("packet"))


def _client_count(uid: str, nsp: str, data: dict[Any, Any], what: str) -> ShardedMessage:
    request_id, count = get_str(data, "requestId", what), get_int(data, "clientCount", what)
    return BroadcastClientCount(uid=uid, nsp=nsp, request_id=request_id, client_count=count)


def _client_ack(uid: str, nsp: str, data: dict[Any, Any], what: str) -> ShardedMessage:
    request_id = get_str(data, "requestId", what)
    return BroadcastAck(uid=uid, nsp=nsp, request_id=request_id, data=data.get("packet"))


_READERS: dict[int, Callable[[str, str, dict[Any, Any], str], ShardedMessage]] = {
    MessageType.BROADCAST: _broadcast,
    MessageType.SOCKETS_JOIN: _join,
    MessageType.SOCKETS_LEAVE: _leave,
    MessageType.DISCONNECT_SOCKETS: _disconnect,
    MessageType.FETCH_SOCKETS: _fetch,
    MessageType.FETCH_SOCKETS_RESPONSE: _fetched,
    MessageType.SERVER_SIDE_EMIT: _server_side_emit,
    MessageType.SERVER_SIDE_EMIT_RESPONSE: _server_side_ack,
    MessageType.BROADCAST_CLIENT_COUNT: _client_count,
    MessageType.BROADCAST_ACK: _client_ack,
}
