"""What permessage-deflate costs a broadcast: per receiver with context takeover (Node's ``ws`` default, and
sioactor's), against compressing once and sharing the bytes (possible only without context takeover).

    .venv/bin/python tests/runtime/server/bench_ws_deflate.py [--size 10240] [--receivers 200]

Prints CPU microseconds (process time) per receiver for: framing only (no compression), compressing per
receiver with context takeover, compressing once with no context takeover, and the frames' sizes. Figures
go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import time

from websockets.extensions.permessage_deflate import PerMessageDeflate

from sioactor.runtime._server._ws_deflate import Deflate
from sioactor.runtime._server._ws_encode import encode_frames


def message(size: int) -> str:
    """A Socket.IO event of about *size* bytes: a JSON list of records, words and numbers."""
    items: list[dict[str, object]] = []
    text = ""
    while len(text) < size:
        n = len(items)
        items.append(
            {"id": n, "name": f"item {n}", "price": (n * 7919) % 1000 / 10, "tags": ["a", str(n % 13)]}
        )
        text = '42["news",' + json.dumps(items) + "]"
    return text


def per_receiver(text: str, receivers: int, takeover: bool) -> tuple[float, int]:
    deflates = [
        Deflate(PerMessageDeflate(not takeover, not takeover, 15, 15), b"", 1024) for _ in range(receivers)
    ]
    start = time.process_time()
    for deflate in deflates:
        frames = deflate.encode_frames((text,))
    return (time.process_time() - start) / receivers * 1e6, len(frames)


def framing_only(text: str, receivers: int) -> float:
    start = time.process_time()
    for _ in range(receivers):
        encode_frames((text,))
    return (time.process_time() - start) / receivers * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_240)
    parser.add_argument("--receivers", type=int, default=200)
    args = parser.parse_args()
    text = message(args.size)
    plain = framing_only(text, args.receivers)
    takeover, size = per_receiver(text, args.receivers, takeover=True)
    once, _ = per_receiver(text, 1, takeover=False)
    # Warm contexts: the second message through the same contexts (the steady state of a long connection).
    deflates = [Deflate(PerMessageDeflate(False, False, 15, 15), b"", 1024) for _ in range(args.receivers)]
    for deflate in deflates:
        deflate.encode_frames((text,))
    start = time.process_time()
    for deflate in deflates:
        warm = deflate.encode_frames((text,))
    steady = (time.process_time() - start) / args.receivers * 1e6
    print(f"message {len(text)} B; {args.receivers} receivers")
    print(f"framing only:                         {plain:8.1f} us/receiver")
    print(f"deflate per receiver, first message:  {takeover:8.1f} us/receiver  ({size} B frame)")
    print(f"deflate per receiver, steady state:   {steady:8.1f} us/receiver  ({len(warm)} B frame)")
    shared = once / args.receivers
    print(f"deflate once, shared (no takeover):   {shared:8.2f} us/receiver  ({once:.1f} us once)")


if __name__ == "__main__":
    main()
