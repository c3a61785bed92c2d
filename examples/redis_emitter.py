"""Emit one event into a Socket.IO cluster through Redis, from a process that runs no server, then exit.

    python examples/redis_emitter.py --redis redis://localhost:6379 [--nsp /] [--to ROOM] EVENT JSON...

Every server of the cluster (Node with @socket.io/redis-adapter, or sioactor) delivers EVENT, with one
argument per JSON value, to its clients in ROOM (or to all of them). It speaks @socket.io/redis-emitter's
protocol, so it needs ``pip install 'sioactor[redis]'``; the event is delivered at most once, to the
servers listening at that moment. Exit status 1, with a one-line reason, if Redis cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import sys

from sioactor import RedisUnavailable, SyncRedisEmitter


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", required=True, help="the cluster's Redis URL, e.g. redis://localhost:6379")
    parser.add_argument("--nsp", default="/", help="the namespace (default /)")
    parser.add_argument(
        "--to", action="append", default=[], metavar="ROOM", help="only this room (repeatable)"
    )
    parser.add_argument("--key", default="socket.io", help="the adapters' key prefix (default socket.io)")
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="seconds allowed to reach Redis (default 5)"
    )
    parser.add_argument("event", help="the event name")
    parser.add_argument("args", nargs="*", metavar="JSON", help="the event's arguments, one JSON value each")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        args = [json.loads(text) for text in options.args]
    except json.JSONDecodeError as exc:
        print(f"redis_emitter: an argument is not JSON: {exc}", file=sys.stderr)
        return 2
    try:
        with SyncRedisEmitter(options.redis, key=options.key, timeout=options.timeout) as emitter:
            emitter.of(options.nsp).to(*options.to).emit(options.event, *args)
    except RedisUnavailable as exc:
        print(f"redis_emitter: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
