"""The classic protocol of ``@socket.io/redis-adapter`` 8.x (``createAdapter``) and of its emitter 5.x.

Three kinds of channel, three decoders (the channel tells which one applies; see ``_channels.py``):

- broadcast channels ``P#N#`` and ``P#N#<room>#`` carry a msgpack array ``[uid, packet, opts]``, with
  ``packet = {type: 2, data: [event, *args], nsp}`` and ``opts = {rooms, except, flags}``;
- the request channel ``P-request#N#`` carries JSON objects ``{uid, requestId?, type, ...}``, except the
  broadcast with acks (type 7), which is msgpack so that binary survives;
- the response channels carry the answers, JSON except each client's broadcast ack (type 9, msgpack).

Either encoding may arrive on a request or response channel: the first byte decides (``{`` is JSON).
Key orders are Node's, so that sioactor's bytes equal a Node server's (and, through the ``emitter_*``
encoders, ``@socket.io/redis-emitter``'s), which the captures in CLUSTER-NOTES §8 check.
"""

from __future__ import annotations

from typing import Any

from sioactor._errors import DecodeError
from sioactor.protocol.cluster._messages import (
    AllRooms,
    AllRoomsResponse,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    LegacyCommandDone,
    LegacySocketCommand,
    Recipients,
    RequestType,
    ServerSideEmit,
    ServerSideEmitResponse,
    SocketIds,
    SocketIdsResponse,
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
    load_msgpack,
    read_recipients,
    read_sockets,
)

__all__ = (
    "ClassicRequest",
    "ClassicResponse",
    "decode_classic_broadcast",
    "decode_classic_request",
    "decode_classic_response",
    "encode_classic_broadcast",
    "encode_classic_request",
    "encode_classic_response",
    "encode_emitter_broadcast",
)

ClassicRequest = (
    SocketIds
    | AllRooms
    | SocketsJoin
    | SocketsLeave
    | DisconnectSockets
    | LegacySocketCommand
    | FetchSockets
    | ServerSideEmit
    | Broadcast
)
ClassicResponse = (
    FetchSocketsResponse
    | AllRoomsResponse
    | SocketIdsResponse
    | LegacyCommandDone
    | ServerSideEmitResponse
    | BroadcastClientCount
    | BroadcastAck
)

_EVENT = 2
_BINARY_EVENT = 5  # sent by emitters of socket.io 2; read as an event


# -- broadcasts ----------------------------------------------------------------------------------------


def encode_classic_broadcast(message: Broadcast) -> bytes:
    """``[uid, packet, opts]`` as a Node server publishes it (opts keys ``rooms, except, flags``).

    Raises:
        ValueError: *message* has a ``request_id``: a broadcast with acks is a request
            (``encode_classic_request``).
        TypeError: the event's arguments hold a value msgpack cannot carry.
    """
    opts = message.recipients
    _no_request_id(message)
    packet = {"type": _EVENT, "data": message.data, "nsp": message.nsp}
    wire_opts = {"rooms": opts.rooms, "except": opts.except_rooms, "flags": opts.flags}
    return dump_msgpack([message.uid, packet, wire_opts])


def encode_emitter_broadcast(message: Broadcast) -> bytes:
    """``[uid, packet, opts]`` as ``@socket.io/redis-emitter`` publishes it (opts ``rooms, flags, except``).

    Raises:
        ValueError, TypeError: as ``encode_classic_broadcast``.
    """
    opts = message.recipients
    _no_request_id(message)
    packet = {"type": _EVENT, "data": message.data, "nsp": message.nsp}
    wire_opts = {"rooms": opts.rooms, "flags": opts.flags, "except": opts.except_rooms}
    return dump_msgpack([message.uid, packet, wire_opts])


def _no_request_id(message: Broadcast) -> None:
    if message.request_id is not None:
        raise ValueError("a broadcast with acks goes to the request channel: use encode_classic_request()")


def decode_classic_broadcast(payload: bytes) -> Broadcast:
    """Decode a message from a broadcast channel; ``nsp`` is the packet's (``/`` when it has none).

    The receiver still has to drop its own messages (same ``uid``) and those of another namespace.

    Raises:
        DecodeError: *payload* is not a classic broadcast.
    """
    obj = load_msgpack(payload)
    if type(obj) is not list or len(obj) < 3:
        raise DecodeError("classic broadcast must be a msgpack array [uid, packet, opts]")
    uid, packet = obj[0], as_map(obj[1], "broadcast packet")
    if type(uid) is not str:
        raise DecodeError("classic broadcast: uid must be a string")
    if packet.get("type") not in (_EVENT, _BINARY_EVENT):
        raise DecodeError(f"classic broadcast: packet type {packet.get('type')!r} is not an event")
    nsp = get_optional_str(packet, "nsp", "broadcast packet")
    data = get_event(packet, "data", "broadcast packet")
    recipients = read_recipients(obj[2], "classic broadcast")
    return Broadcast(uid=uid, nsp="/" if nsp is None else nsp, data=data, recipients=recipients)


# -- requests ------------------------------------------------------------------------------------------


def _target(recipients: Recipients) -> dict[str, Any]:
    return {"rooms": recipients.rooms, "except": recipients.except_rooms}


def _head(uid: str | None, request_id: str | None, kind: RequestType) -> dict[str, Any]:
    head: dict[str, Any] = {} if uid is None else {"uid": uid}
    if request_id is not None:
        head["requestId"] = request_id
    head["type"] = int(kind)
    return head


def encode_classic_request(message: ClassicRequest) -> bytes:
    """The request on ``P-request#N#``: JSON, or msgpack for a ``Broadcast`` (which must have a request id).

    Raises:
        ValueError: a ``Broadcast`` without ``request_id`` (it goes to a broadcast channel).
        TypeError: a value the encoding cannot carry (JSON: ``bytes`` become Node's Buffer object, as in
            Node, so binary does not survive a classic server-side emit).
    """
    match message:
        case Broadcast(request_id=None):
            raise ValueError(
                "a broadcast without acks goes to a broadcast channel: encode_classic_broadcast()"
            )
        case Broadcast():
            obj = _head(message.uid, message.request_id, RequestType.BROADCAST)
            obj["packet"] = {"type": _EVENT, "data": message.data, "nsp": message.nsp}
            opts = message.recipients
            obj["opts"] = {"rooms": opts.rooms, "except": opts.except_rooms, "flags": opts.flags}
            return dump_msgpack(obj)
        case SocketIds():
            obj = _head(message.uid, message.request_id, RequestType.SOCKETS)
            obj["rooms"] = message.rooms
        case AllRooms():
            obj = _head(message.uid, message.request_id, RequestType.ALL_ROOMS)
        case SocketsJoin() | SocketsLeave():
            kind = RequestType.REMOTE_JOIN if type(message) is SocketsJoin else RequestType.REMOTE_LEAVE
            obj = _head(message.uid, None, kind)
            obj["opts"] = _target(message.recipients)
            obj["rooms"] = message.rooms
        case DisconnectSockets():
            obj = _head(message.uid, None, RequestType.REMOTE_DISCONNECT)
            obj["opts"] = _target(message.recipients)
            obj["close"] = message.close
        case LegacySocketCommand():
            obj = _head(message.uid, message.request_id, message.kind)
            obj["sid"] = message.sid
            if message.kind == RequestType.REMOTE_DISCONNECT:
                obj["close"] = message.close
            else:
                obj["room"] = message.room
        case FetchSockets():
            obj = _head(message.uid, message.request_id, RequestType.REMOTE_FETCH)
            obj["opts"] = _target(message.recipients)
        case ServerSideEmit():
            obj = _head(message.uid, message.request_id, RequestType.SERVER_SIDE_EMIT)
            obj["data"] = message.data
    return dump_json(obj)


def decode_classic_request(payload: bytes, *, nsp: str) -> ClassicRequest:
    """Decode a message from ``P-request#N#``; *nsp* is ``N``, the namespace the channel names.

    Raises:
        DecodeError: *payload* is not a classic request.
    """
    obj = as_map(load(payload), "classic request")
    kind = get_int(obj, "type", "classic request")
    what = f"classic request type {kind}"
    if kind == RequestType.BROADCAST:
        packet = as_map(obj.get("packet"), f"{what}: packet")
        return Broadcast(
            uid=get_str(obj, "uid", what),
            nsp=nsp,
            data=get_event(packet, "data", f"{what}: packet"),
            recipients=read_recipients(obj.get("opts"), what),
            request_id=get_str(obj, "requestId", what),
        )
    if kind in (RequestType.REMOTE_JOIN, RequestType.REMOTE_LEAVE, RequestType.REMOTE_DISCONNECT):
        return _socket_command(obj, kind, nsp, what)
    uid = get_str(obj, "uid", what)
    if kind == RequestType.SERVER_SIDE_EMIT:
        request_id = get_optional_str(obj, "requestId", what)
        return ServerSideEmit(uid=uid, nsp=nsp, data=get_event(obj, "data", what), request_id=request_id)
    request_id = get_str(obj, "requestId", what)
    if kind == RequestType.REMOTE_FETCH:
        recipients = read_recipients(obj.get("opts"), what)
        return FetchSockets(uid=uid, nsp=nsp, request_id=request_id, recipients=recipients)
    if kind == RequestType.ALL_ROOMS:
        return AllRooms(uid=uid, nsp=nsp, request_id=request_id)
    if kind == RequestType.SOCKETS:
        return SocketIds(uid=uid, nsp=nsp, request_id=request_id, rooms=get_str_list(obj, "rooms", what))
    raise DecodeError(f"unknown classic request type {kind}")


def _socket_command(obj: dict[Any, Any], kind: int, nsp: str, what: str) -> ClassicRequest:
    uid = get_optional_str(obj, "uid", what)  # the emitter sends none
    if "opts" not in obj:
        return LegacySocketCommand(
            uid=uid,
            nsp=nsp,
            request_id=get_str(obj, "requestId", what),
            kind=RequestType(kind),
            sid=get_str(obj, "sid", what),
            room=None if kind == RequestType.REMOTE_DISCONNECT else get_str(obj, "room", what),
            close=get_bool(obj, "close", what),
        )
    recipients = read_recipients(obj.get("opts"), what)
    if kind == RequestType.REMOTE_DISCONNECT:
        return DisconnectSockets(uid=uid, nsp=nsp, recipients=recipients, close=get_bool(obj, "close", what))
    rooms = get_str_list(obj, "rooms", what)
    if kind == RequestType.REMOTE_JOIN:
        return SocketsJoin(uid=uid, nsp=nsp, recipients=recipients, rooms=rooms)
    return SocketsLeave(uid=uid, nsp=nsp, recipients=recipients, rooms=rooms)


# -- responses -----------------------------------------------------------------------------------------


def encode_classic_response(message: ClassicResponse) -> bytes:
    """The answer on a response channel: JSON, or msgpack for a ``BroadcastAck``.

    Raises:
        TypeError: a value the encoding cannot carry.
    """
    match message:
        case BroadcastAck():
            return dump_msgpack(
                {
                    "type": int(RequestType.BROADCAST_ACK),
                    "requestId": message.request_id,
                    "packet": message.data,
                }
            )
        case FetchSocketsResponse():
            sockets = [
                {"id": s.id, "handshake": s.handshake, "rooms": s.rooms, "data": s.data}
                for s in message.sockets
            ]
            obj: dict[str, Any] = {"requestId": message.request_id, "sockets": sockets}
        case AllRoomsResponse():
            obj = {"requestId": message.request_id, "rooms": message.rooms}
        case SocketIdsResponse():
            obj = {"requestId": message.request_id, "sockets": message.sockets}
        case LegacyCommandDone():
            obj = {"requestId": message.request_id}
        case ServerSideEmitResponse():
            obj = {
                "type": int(RequestType.SERVER_SIDE_EMIT),
                "requestId": message.request_id,
                "data": message.data,
            }
        case BroadcastClientCount():
            kind = int(RequestType.BROADCAST_CLIENT_COUNT)
            obj = {"type": kind, "requestId": message.request_id, "clientCount": message.client_count}
    return dump_json(obj)


def decode_classic_response(payload: bytes, *, nsp: str) -> ClassicResponse:
    """Decode a message from ``P-response#N#`` or ``P-response#N#<uid>#``; *nsp* is ``N``.

    Untyped answers are told apart by their keys, as Node tells them by the request they answer; a
    ``SocketIdsResponse`` is not read (see its docstring).

    Raises:
        DecodeError: *payload* is not a classic response.
    """
    obj = as_map(load(payload), "classic response")
    request_id = get_str(obj, "requestId", "classic response")
    if "type" in obj:
        kind = get_int(obj, "type", "classic response")
        if kind == RequestType.SERVER_SIDE_EMIT:
            return ServerSideEmitResponse(uid=None, nsp=nsp, request_id=request_id, data=obj.get("data"))
        if kind == RequestType.BROADCAST_CLIENT_COUNT:
            count = get_int(obj, "clientCount", "broadcast client count")
            return BroadcastClientCount(uid=None, nsp=nsp, request_id=request_id, client_count=count)
        if kind == RequestType.BROADCAST_ACK:
            return BroadcastAck(uid=None, nsp=nsp, request_id=request_id, data=obj.get("packet"))
        raise DecodeError(f"unknown classic response type {kind}")
    if "sockets" in obj:
        return FetchSocketsResponse(uid=None, nsp=nsp, request_id=request_id, sockets=read_sockets(obj))
    if "rooms" in obj:
        rooms = get_str_list(obj, "rooms", "all rooms response")
        return AllRoomsResponse(nsp=nsp, request_id=request_id, rooms=rooms)
    return LegacyCommandDone(nsp=nsp, request_id=request_id)
