"""The messages of session forwarding: how a node that does not know an Engine.IO session hands one request
of it to the node that owns it, over the cluster's bus (sioactor's own protocol; Node's
``@socket.io/cluster-engine`` solves the same problem with a message set of its own, CLUSTER-NOTES §10).

What travels is the request itself, as ASGI describes it: the node that took the client's connection (the
*entry*) publishes the request's head and body on the cluster's forwarding channel; the owner answers
``Taken`` on the entry's own channel and serves the request as if it had arrived on its own socket; every
ASGI message its engine sends comes back as ``ToClient``; what the client sends next (a WebSocket's frames, a
poll's disconnect) goes to the owner as ``FromClient``; ``Finished`` says the owner's handler returned.
A relayed WebSocket's frames flow under credit, each way: a side sends at most a window of frames the other
has not yet taken, and the taker returns ``Credit`` as it takes them (so a client that sends faster than the
owner handles, or an owner that writes faster than the client reads, is pushed back, as on a local socket).

    ForwardRequest   entry → everyone    [0, entry, exchange, sid, kind, method, path, query, headers,
                                          client, scheme, body]
    Taken            owner → entry       [1, exchange, owner]
    ToClient         owner → entry       [2, exchange, message]
    FromClient       entry → owner       [3, entry, exchange, message]
    Finished         owner → entry       [4, exchange]
    Credit           either way          [5, entry, exchange, frames]

Each message is one msgpack array; an ASGI message is a map of the few keys the engine uses, each checked
for its type. Anything else on the channels decodes to ``DecodeError`` alone (the link logs and drops it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgpack

from sioactor._errors import DecodeError

__all__ = (
    "AsgiMessage",
    "Credit",
    "FinishedMessage",
    "ForwardMessage",
    "ForwardRequest",
    "ForwardingChannels",
    "FromClient",
    "RequestHead",
    "Taken",
    "ToClient",
    "asgi_subset",
    "decode_forward_message",
    "encode_forward_message",
)

AsgiMessage = dict[str, Any]
"""An ASGI message as the forwarding carries it: ``type`` and the keys of ``_ASGI_KEYS``."""

# Every key an engine's ASGI message may carry across, with the types it may hold.
_ASGI_KEYS: dict[str, tuple[type, ...]] = {
    "status": (int,),
    "headers": (list,),
    "body": (bytes,),
    "more_body": (bool,),
    "text": (str,),
    "bytes": (bytes,),
    "code": (int,),
    "reason": (str,),
}
_ASGI_TYPES = frozenset(
    {
        "http.request",
        "http.disconnect",
        "http.response.start",
        "http.response.body",
        "websocket.connect",
        "websocket.accept",
        "websocket.receive",
        "websocket.send",
        "websocket.close",
        "websocket.disconnect",
    }
)


@dataclass(frozen=True, slots=True)
class ForwardingChannels:
    """The forwarding's channels under the cluster's key prefix (apart from the adapters' channels)."""

    key: str

    @property
    def requests(self) -> str:
        """Where entries publish ``ForwardRequest``; every node subscribes."""
        return f"{self.key}-forward#"

    def node(self, node_id: str) -> str:
        """The channel of the node *node_id*: the answers and frames addressed to it."""
        return f"{self.key}-forward#{node_id}#"


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestHead:
    """The head of a forwarded request: what the owner rebuilds its ASGI scope from."""

    kind: Literal["http", "websocket"]
    method: str
    path: str
    query_string: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    client: tuple[str, int] | None
    scheme: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardRequest:
    """An entry asks the owner of *sid* to serve a request (for HTTP, *body* is the request's whole body)."""

    entry: str
    exchange: int
    sid: str
    head: RequestHead
    body: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class Taken:
    """The owner *owner* serves the entry's exchange."""

    exchange: int
    owner: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ToClient:
    """An ASGI message the owner's engine sent, for the entry to send to its client."""

    exchange: int
    message: AsgiMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class FromClient:
    """An ASGI message the entry's client sent (a frame, a disconnect), for the owner's engine."""

    entry: str
    exchange: int
    message: AsgiMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishedMessage:
    """The owner's handler of the exchange returned: nothing more will come."""

    exchange: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Credit:
    """The sender took *frames* more WebSocket frames of the exchange (*entry*, *exchange*): the other side
    may send as many more."""

    entry: str
    exchange: int
    frames: int


ForwardMessage = ForwardRequest | Taken | ToClient | FromClient | FinishedMessage | Credit


def encode_forward_message(message: ForwardMessage) -> bytes:
    """The msgpack bytes of *message*."""
    fields: list[Any]
    match message:
        case ForwardRequest(entry=entry, exchange=exchange, sid=sid, head=head, body=body):
            fields = [
                0,
                entry,
                exchange,
                sid,
                head.kind,
                head.method,
                head.path,
                head.query_string,
                [list(pair) for pair in head.headers],
                None if head.client is None else list(head.client),
                head.scheme,
                body,
            ]
        case Taken(exchange=exchange, owner=owner):
            fields = [1, exchange, owner]
        case ToClient(exchange=exchange, message=asgi):
            fields = [2, exchange, dict(asgi)]
        case FromClient(entry=entry, exchange=exchange, message=asgi):
            fields = [3, entry, exchange, dict(asgi)]
        case FinishedMessage(exchange=exchange):
            fields = [4, exchange]
        case Credit(entry=entry, exchange=exchange, frames=frames):
            fields = [5, entry, exchange, frames]
    packed: bytes = msgpack.packb(fields, use_bin_type=True)
    return packed


def decode_forward_message(payload: bytes) -> ForwardMessage:
    """The message *payload* encodes.

    Raises:
        DecodeError: *payload* is not one of the forwarding's messages.
    """
    try:
        fields = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several types for garbage, none of them ours
        raise DecodeError(f"forwarding message is not msgpack: {exc}") from None
    if not isinstance(fields, list) or not fields:
        raise DecodeError("forwarding message is not a non-empty array")
    kind, shape = fields[0], _SHAPES.get(fields[0]) if isinstance(fields[0], int) else None
    if shape is None or len(fields) != len(shape) + 1:
        raise DecodeError(f"unknown forwarding message kind or length: {kind!r}/{len(fields)}")
    for value, expected in zip(fields[1:], shape, strict=True):
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            raise DecodeError(f"forwarding message {kind}: {value!r} is not {expected}")
    match kind:
        case 0:
            return _forward_request(fields)
        case 1:
            return Taken(exchange=fields[1], owner=fields[2])
        case 2:
            return ToClient(exchange=fields[1], message=_asgi(fields[2]))
        case 3:
            return FromClient(entry=fields[1], exchange=fields[2], message=_asgi(fields[3]))
        case 4:
            return FinishedMessage(exchange=fields[1])
        case _:
            return Credit(entry=fields[1], exchange=fields[2], frames=fields[3])


_SHAPES: dict[int, tuple[tuple[type, ...], ...]] = {
    0: (
        (str,),
        (int,),
        (str,),
        (str,),
        (str,),
        (str,),
        (bytes,),
        (list,),
        (list, type(None)),
        (str,),
        (bytes,),
    ),
    1: ((int,), (str,)),
    2: ((int,), (dict,)),
    3: ((str,), (int,), (dict,)),
    4: ((int,),),
    5: ((str,), (int,), (int,)),
}


def _forward_request(fields: list[Any]) -> ForwardRequest:
    kind = fields[4]
    if kind not in ("http", "websocket"):
        raise DecodeError(f"forwarded request of unknown kind {kind!r}")
    client = fields[9]
    if client is not None and not (
        len(client) == 2 and isinstance(client[0], str) and isinstance(client[1], int)
    ):
        raise DecodeError(f"forwarded request's client is not [host, port]: {client!r}")
    head = RequestHead(
        kind=kind,
        method=fields[5],
        path=fields[6],
        query_string=fields[7],
        headers=_headers(fields[8]),
        client=None if client is None else (client[0], client[1]),
        scheme=fields[10],
    )
    return ForwardRequest(entry=fields[1], exchange=fields[2], sid=fields[3], head=head, body=fields[11])


def _headers(value: list[Any]) -> tuple[tuple[bytes, bytes], ...]:
    headers = []
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, bytes) for p in pair)):
            raise DecodeError(f"header is not [bytes, bytes]: {pair!r}")
        headers.append((pair[0], pair[1]))
    return tuple(headers)


def _asgi(value: dict[str, Any]) -> AsgiMessage:
    kind = value.get("type")
    if kind not in _ASGI_TYPES:
        raise DecodeError(f"forwarded ASGI message of unknown type {kind!r}")
    message: dict[str, Any] = {"type": kind}
    for key, types in _ASGI_KEYS.items():
        if key not in value:
            continue
        item = value[key]
        if not isinstance(item, types) or (isinstance(item, bool) and bool not in types):
            raise DecodeError(f"forwarded ASGI message: {key}={item!r} is not {types}")
        message[key] = _headers(item) if isinstance(item, list) else item
    return message


def asgi_subset(message: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an ASGI message the forwarding carries (``type`` and ``_ASGI_KEYS``; headers as lists)."""
    subset: dict[str, Any] = {"type": message["type"]}
    for key in _ASGI_KEYS:
        if key in message and message[key] is not None:
            value = message[key]
            subset[key] = [[bytes(k), bytes(v)] for k, v in value] if key == "headers" else value
    return subset
