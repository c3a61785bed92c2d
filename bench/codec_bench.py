"""Throughput of sioactor's Socket.IO codecs beside python-socketio's, in the same process and run.

    .venv/bin/python bench/codec_bench.py [--seconds 0.1] [--rounds 5]

Cases: a ~100-byte JSON event, a binary event (two 1 KiB attachments), a sequence of 20 mixed packets; encode
and decode, JSON and msgpack. Prints ops/s per codec and sioactor's ratio over python-socketio: the best of
*rounds* measurements each, the two codecs alternating (a shared machine's noise only ever slows a run).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from socketio.msgpack_packet import MsgPackPacket
from socketio.packet import ACK, EVENT
from socketio.packet import Packet as SioPacket

from sioactor.protocol.socketio import JSON_PARSER, MSGPACK_PARSER, Packet, PacketType, encode_event

EVENT_ARGS: list[Any] = [{"user": "alice", "text": "hello there, how are you?", "room": "lobby", "n": 4}]
BINARY_ARGS: list[Any] = ["file", {"name": "a.bin", "chunk": b"\x01" * 1024}, b"\x02" * 1024]
SEQUENCE: list[tuple[str, list[Any], int | None, bool]] = [  # (event, args, ack id, is ack)
    (f"ev{i}", [i, "text", {"k": [i, True, None]}], i if i % 3 == 0 else None, i % 5 == 4) for i in range(20)
]


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of *fn*, timed in batches for at least *seconds*."""
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            fn()
        calls += 200
    return calls / elapsed


# --- sioactor -------------------------------------------------------------------------------------------


def ours_feed(parser: Any, encoded: Any) -> Callable[[], object]:
    frames = encoded if isinstance(encoded, tuple) else (encoded,)

    decoder = parser.decoder()  # one per connection, as in the server

    def run() -> object:
        out = None
        for frame in frames:
            out = decoder.feed(frame)
        return out

    return run


def ours_sequence(parser: Any) -> tuple[Callable[[], object], Callable[[], object]]:
    packets = [
        Packet(
            type=PacketType.ACK if is_ack else PacketType.EVENT, data=args if is_ack else [ev, *args], id=ack
        )
        for ev, args, ack, is_ack in SEQUENCE
    ]
    encoded = [parser.encode(p) for p in packets]

    def enc() -> object:
        return [parser.encode(p) for p in packets]

    decoder = parser.decoder()

    def dec() -> object:
        return [decoder.feed(e) for e in encoded]

    return enc, dec


# --- python-socketio ------------------------------------------------------------------------------------


def theirs_encode(
    cls: type[SioPacket], data: list[Any], ptype: int = EVENT, ack: int | None = None
) -> Callable[[], object]:
    return lambda: cls(ptype, data=data, id=ack).encode()


def theirs_decode(cls: type[SioPacket], encoded: Any) -> Callable[[], object]:
    frames = encoded if isinstance(encoded, list) else [encoded]
    head, parts = frames[0], frames[1:]

    def run() -> object:
        packet = cls(encoded_packet=head)
        for part in parts:
            packet.add_attachment(part)
        return packet

    return run


def theirs_sequence(cls: type[SioPacket]) -> tuple[Callable[[], object], Callable[[], object]]:
    rows = [
        (ACK if is_ack else EVENT, args if is_ack else [ev, *args], ack) for ev, args, ack, is_ack in SEQUENCE
    ]
    encoded = [cls(t, data=d, id=a).encode() for t, d, a in rows]
    return (lambda: [cls(t, data=d, id=a).encode() for t, d, a in rows]), (
        lambda: [cls(encoded_packet=e) for e in encoded]
    )


def cases() -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    event = ["message", *EVENT_ARGS]
    binary = ["file", *BINARY_ARGS]
    out = []
    for fmt, parser, cls in (("json", JSON_PARSER, SioPacket), ("msgpack", MSGPACK_PARSER, MsgPackPacket)):
        out += [
            (
                f"{fmt} event encode",
                lambda p=parser: encode_event("/", "message", EVENT_ARGS, None, p),
                theirs_encode(cls, event),
            ),
            (
                f"{fmt} event decode",
                ours_feed(parser, parser.encode(Packet(type=PacketType.EVENT, data=event))),
                theirs_decode(cls, cls(EVENT, data=event).encode()),
            ),
            (
                f"{fmt} binary encode",
                lambda p=parser: encode_event("/", "file", BINARY_ARGS, None, p),
                theirs_encode(cls, binary),
            ),
            (
                f"{fmt} binary decode",
                ours_feed(parser, parser.encode(Packet(type=PacketType.EVENT, data=binary))),
                theirs_decode(cls, cls(EVENT, data=binary).encode()),
            ),
        ]
        (our_enc, our_dec), (their_enc, their_dec) = ours_sequence(parser), theirs_sequence(cls)
        out += [
            (f"{fmt} 20-packet encode", our_enc, their_enc),
            (f"{fmt} 20-packet decode", our_dec, their_dec),
        ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.1, help="time per measurement")
    parser.add_argument(
        "--rounds", type=int, default=5, help="measurements per codec and case; the best counts"
    )
    args = parser.parse_args()
    size = len(encode_event("/", "message", EVENT_ARGS, None, JSON_PARSER))
    print(f"JSON event is {size} characters on the wire\n")
    print(f"{'case':<24} {'sioactor ops/s':>15} {'python-socketio':>16} {'ratio':>7}")
    for name, ours, theirs in cases():
        a = b = 0.0
        for _ in range(args.rounds):
            a, b = max(a, rate(ours, args.seconds)), max(b, rate(theirs, args.seconds))
        print(f"{name:<24} {a:>15,.0f} {b:>16,.0f} {a / b:>6.2f}x")


if __name__ == "__main__":
    main()
