"""Socket.IO v4/v5 packets and their two wire formats, JSON (the default) and msgpack; sans-IO.

Layer rule: like all of ``sioactor.protocol``, this package imports only the standard library, ``msgpack``
and ``orjson``.

    packet = Packet(type=PacketType.EVENT, nsp="/chat", data=["message", "hi"], id=3)
    JSON_PARSER.encode(packet)                 # '2/chat,3["message","hi"]'
    decoder = JSON_PARSER.decoder()            # one per connection
    decoder.feed('2/chat,3["message","hi"]')   # == packet
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sioactor.protocol.socketio._json import JSON_PARSER, JsonDecoder, JsonParser, decode_text
from sioactor.protocol.socketio._msgpack import MSGPACK_PARSER, MsgpackDecoder, MsgpackParser, decode_msgpack
from sioactor.protocol.socketio._packet import (
    RESERVED_EVENTS,
    Encoded,
    Packet,
    PacketDecoder,
    PacketType,
    Parser,
    make_packet,
)

__all__ = (
    "JSON_PARSER",
    "MSGPACK_PARSER",
    "RESERVED_EVENTS",
    "Encoded",
    "JsonDecoder",
    "JsonParser",
    "MsgpackDecoder",
    "MsgpackParser",
    "Packet",
    "PacketDecoder",
    "PacketType",
    "Parser",
    "decode_msgpack",
    "decode_text",
    "encode_event",
    "make_packet",
    "parser_by_name",
)

_PARSERS: dict[str, Parser] = {"json": JSON_PARSER, "msgpack": MSGPACK_PARSER}


def parser_by_name(name: Literal["json", "msgpack"] | str) -> Parser:
    """The parser singleton called *name* (``"json"`` or ``"msgpack"``).

    Raises:
        ValueError: no parser has that name.
    """
    try:
        return _PARSERS[name]
    except KeyError:
        raise ValueError(f"unknown Socket.IO parser {name!r}; choose 'json' or 'msgpack'") from None


def encode_event(nsp: str, event: str, args: Sequence[Any], ack_id: int | None, parser: Parser) -> Encoded:
    """Encode an EVENT packet: *event* with *args* (binary parts allowed anywhere) in namespace *nsp*.

    The emit hot path: no ``Packet`` is built, and binary parts are found during serialization, not by a
    separate walk. Returns what ``EngineConnection.send`` takes.

    Raises:
        TypeError: *args* hold something the format cannot carry.
    """
    return parser.encode_event(nsp, event, args, ack_id)
