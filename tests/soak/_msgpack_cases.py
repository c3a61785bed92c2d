"""Malformed packets of the msgpack parser (``socket.io-msgpack-parser``: one msgpack map per binary
Engine.IO message, keys ``type``, ``nsp``, ``data``, ``id``), for the wire fuzzer's ``--parser msgpack``.

``mutant`` makes one message: a valid event with odd arguments (extension types, timestamps, non-string
map keys, NaN, long arrays) and ack ids at the ends of msgpack's integers; or a valid packet (the seeds)
with a field swapped for a value of the wrong type, out of range or absurd, then maybe damaged as bytes
(truncated, flipped, spliced, repeated); or raw msgpack no encoder writes for a packet (a top level that
is not a map, lengths announced past the end or past 2^32, nesting past any decoder's stack, extension
types, invalid UTF-8 in a string, the never-used byte 0xc1, unhashable map keys). ``odd_answer`` answers
the server's ``emit_with_ack`` in kind. ``always_refused`` makes one the protocol refuses whatever the
server's handlers are: the server must answer it by closing the session (``PARSE_ERROR``).
"""

from __future__ import annotations

import random
from typing import Any

import msgpack

# The packets a socket.io-msgpack-parser client sends; notepack writes ``undefined`` as ext 0 ``d4 00 00``.
SEEDS: tuple[dict[str, Any], ...] = (
    {"type": 0, "nsp": "/"},
    {"type": 0, "nsp": "/", "data": {"token": "abc"}},
    {"type": 0, "nsp": "/nsp"},
    {"type": 0, "nsp": "/?a=1&b=2", "data": {"a": [1, 2.5, None]}},
    {"type": 1, "nsp": "/"},
    {"type": 1, "nsp": "/nsp"},
    {"type": 2, "nsp": "/", "data": ["echo", "hi"], "options": {"compress": True}},
    {"type": 2, "nsp": "/", "data": ["echo", 1, 2.5, {"a": [True, None]}, b"\x00\x01bin"]},
    {"type": 2, "nsp": "/", "data": ["ack", "x"], "id": 1},
    {"type": 2, "nsp": "/", "data": ["join", "room"]},
    {"type": 2, "nsp": "/nsp", "data": ["echo"], "id": 7},
    {"type": 3, "nsp": "/", "data": ["x"], "id": 1},
    {"type": 3, "nsp": "/", "data": [], "id": 0},
    {"type": 4, "nsp": "/", "data": {"message": "x"}},
    {"type": 5, "nsp": "/", "data": ["echo", b"bin"]},
    {"type": 6, "nsp": "/", "data": [b"bin"], "id": 2},
)
KEYS = ("type", "nsp", "data", "id")
WRONG = (
    None, True, False, -1, 7, 255, 2**31, 2**63 - 1, -(2**63), 2**64 - 1, 0.5, float("nan"), float("inf"),
    "", "2", "/", "/nsp?", "/\x00", "é" * 40, b"", b"/", b"\xff" * 9, [], [None], ["connect"],
    ["disconnect", 1], ["newListener"], [1, "echo"], [[]], {}, {"": None}, {1: 2}, {None: []},
    {b"k": "v"}, {"sid": 1},
)  # fmt: skip
NOT_A_MAP = (None, True, 0, -1, 2.5, "", "40", '42["echo"]', b"", b"\x82", [], [0, "/"], [{"type": 0}])
RAW = (
    b"",
    b"\xc1",  # the byte msgpack never uses
    b"\xdd\xff\xff\xff\xff",  # an array of 2^32-1 items, none there
    b"\xdf\xff\xff\xff\xff",  # a map of 2^32-1 pairs
    b"\xc6\xff\xff\xff\xff" + b"x" * 16,  # bin32 announcing 4 GiB
    b"\xdb\xff\xff\xff\xff" + b"x" * 16,  # str32 announcing 4 GiB
    b"\xc9\xff\xff\xff\xff\x00",  # ext32 announcing 4 GiB
    b"\xc7\xff\x05",  # ext8 announcing 255 bytes
    b"\xa2\xff\xfe",  # a string that is not UTF-8
    b"\x81\xa4type\xa2\xff\xfe",
    b"\x81\x91\x01\x02",  # a map keyed by an array
    b"\x81\x80\x02",  # a map keyed by a map
    b"\x84\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa4echo\xc1\xa2id\x01",  # a bad byte deep inside
    b"\x80\x80",  # two objects in one message
    b"\xd4\x00\x00",  # notepack's undefined, alone
    b"\xd6\xff\x00\x00\x00\x01",  # a msgpack timestamp, alone
    b"\xd5\xff\x00\x01",  # a timestamp of an impossible length
    b"\xd4\x80\x00",  # ext type -128
    b"\x84\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa4echo\xd4\x80\x00\xa2id\x01",  # the same as an argument
)


def _ext(code: int, payload: bytes) -> msgpack.ExtType:
    return msgpack.ExtType(code, payload)


def _odd_value(rng: random.Random) -> Any:
    roll = rng.randrange(6)
    if roll == 0:
        return _ext(rng.choice((0, 0, 1, 5, 100, 127)), rng.randbytes(rng.choice((0, 1, 2, 4, 8, 16, 300))))
    if roll == 1:
        return msgpack.Timestamp(rng.randrange(2**34), rng.randrange(10**9))
    if roll == 2:
        return [rng.choice(WRONG) for _ in range(rng.randrange(1, 2000))]
    if roll == 3:
        return {str(index): index for index in range(rng.randrange(1, 2000))}
    return rng.choice(WRONG)


def _nested(depth: int) -> bytes:
    """``["echo", [[[...]]]]`` as bytes, *depth* arrays deep (the packer refuses to write it)."""
    return b"\x84\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa4echo" + b"\x91" * depth + b"\xc0"


def _packet(rng: random.Random) -> dict[str, Any]:
    packet = dict(rng.choice(SEEDS))
    for _ in range(rng.randrange(0, 2)):
        roll = rng.random()
        key = rng.choice(KEYS)
        if roll < 0.6:
            packet[key] = _odd_value(rng)
        elif roll < 0.8:
            packet.pop(key, None)
        elif key == "data" and isinstance(packet.get("data"), list):
            packet["data"] = [*packet["data"], _odd_value(rng)]
        else:
            packet[rng.choice(("options", "attachments", "", "TYPE"))] = _odd_value(rng)
    return packet


def _damage(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    roll = rng.randrange(6)
    if roll == 0:
        return data[:at]
    if roll == 1:
        flipped = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            if flipped:
                flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        return bytes(flipped)
    if roll == 2:
        return data[:at] + bytes([rng.choice((0xC1, 0xC0, 0xDC, 0xDE, 0xD9, 0xC4, 0xD4, 0xFF))]) + data[at:]
    if roll == 3:
        return data[:at] + data[rng.randrange(at, len(data) + 1) :]
    if roll == 4:
        return data * rng.randrange(2, 4)
    return data + packb(rng.choice(SEEDS))[: rng.randrange(1, 8)]


def packb(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)  # type: ignore[no-any-return]


def mutant(rng: random.Random) -> bytes:
    """One msgpack message, likely malformed."""
    roll = rng.random()
    if roll < 0.08:
        return rng.choice(RAW)
    if roll < 0.12:
        return _nested(rng.choice((10, 500, 1_100, 100_000)))
    if roll < 0.16:
        return packb(rng.choice(NOT_A_MAP))
    if roll < 0.4:
        return odd_event(rng)
    data = packb(_packet(rng))
    if roll < 0.6:
        data = _damage(rng, data)
    return data


def odd_event(rng: random.Random) -> bytes:
    """A valid EVENT for a handler (or for none), with odd arguments and maybe an odd ack id."""
    name = rng.choice(("echo", "ack", "ask", "ask", "join", "unknown", "é" * 3, ""))
    packet = {"type": 2, "nsp": "/", "data": [name, *(_odd_value(rng) for _ in range(rng.randrange(4)))]}
    if rng.random() < 0.5:
        packet["id"] = rng.choice((0, 1, 2**31, 2**63 - 1, -(2**63), 2**64 - 1, -1))
    return packb(packet)


def odd_answer(rng: random.Random, ack_id: Any) -> bytes:
    """An answer to the server's ``emit_with_ack`` of *ack_id*: an ACK of odd arguments, or a damaged one."""
    answer = {"type": 3, "nsp": "/", "data": [_odd_value(rng) for _ in range(rng.randrange(3))], "id": ack_id}
    if rng.random() < 0.3:
        answer[rng.choice(KEYS)] = _odd_value(rng)
    data = packb(answer)
    return _damage(rng, data) if rng.random() < 0.2 else data


def oversize(rng: random.Random, max_payload: int) -> bytes:
    """A valid EVENT just past *max_payload*."""
    return packb({"type": 2, "nsp": "/", "data": ["echo", b"x" * (max_payload + rng.randrange(1, 1000))]})


def always_refused(rng: random.Random) -> bytes:
    """A message the protocol refuses on any server: not msgpack, not one map, or a map no packet is."""
    roll = rng.randrange(7)
    if roll == 0:
        return rng.choice(RAW[:13])
    if roll == 1:
        return packb(rng.choice(NOT_A_MAP))
    if roll == 2:
        return packb({"type": rng.choice((-1, 7, 2**40, "2", 2.0, None, True)), "nsp": "/", "data": ["echo"]})
    if roll == 3:
        return packb({"type": 2, "nsp": rng.choice((None, 1, b"/", ["/"])), "data": ["echo"]})
    if roll == 4:
        return packb({"type": 2, "nsp": "/", "data": ["echo"], "id": rng.choice(("1", 1.5, -0.0, [1], True))})
    if roll == 5:
        return packb({"type": 2, "nsp": "/", "data": rng.choice(([], [1], ["connect"], "echo", {"a": 1}))})
    return packb({"type": 2, "nsp": "/", "data": ["echo", _ext(rng.randrange(1, 128), b"x")]})


def v3_ws_message(data: bytes) -> bytes:
    """*data* as an Engine.IO v3 binary WebSocket message (the message type byte, 4, first)."""
    return b"\x04" + data


def v3_binary_payload(rng: random.Random, messages: list[bytes]) -> bytes:
    """An Engine.IO v3 XHR2 payload of binary *messages* (kind 1, decimal digits as bytes, 0xff, 0x04 and
    the data), its framing damaged now and then (lying or overlong lengths, digits past 9)."""
    parts = []
    for data in messages:
        body = b"\x04" + data
        digits = bytes(int(digit) for digit in str(len(body)))
        roll = rng.random()
        if roll < 0.05:
            digits = bytes(int(digit) for digit in str(len(body) + rng.randrange(1, 9)))
        elif roll < 0.08:
            digits = b"\x09" * rng.randrange(5, 14)
        elif roll < 0.1:
            digits = bytes([rng.randrange(10, 256)])
        parts.append(b"\x01" + digits + b"\xff" + body)
    return b"".join(parts)
