"""Per-request cost of the embedded server's HTTP/1.1 parser on socket.io-client's real polling requests.

    .venv/bin/python bench/parser_bench.py [--rounds 7] [--requests 20000] [--other path/to/_parser.py]

The heads are those socket.io-client 4.8 (engine.io-client 6.6, Node's http module under xmlhttprequest-ssl)
sends for a polling session: a GET and a POST with a ~100-byte event, each with a fresh random ``t=`` as the
client adds to every request, so a parser's memo of repeated heads never hits. One parser per connection, as
the server has; each request is fed whole, its head taken and its body drained. ``--repeat`` sends the same
``t=`` every time instead (the bench's own load generator, which repeats its heads byte for byte).
``--other`` times another parser module with the same interface (``RequestParser``, ``END_OF_BODY``) in
the same run, alternating with this tree's (an A/B against
``git show REV:sioactor/runtime/_server/_parser.py``).
Prints µs per request, the best of *rounds* (a shared machine's noise only ever slows a run).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import string
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from sioactor.runtime._server import _parser

SID = "AbCdEfGhIjKlMnOpAAAB"
EVENT = b'42["echo",{"s":17,"p":"' + b"x" * 64 + b'"}]'


def heads(count: int, repeat: bool) -> list[bytes]:
    """*count* requests, GET and POST alternating, as socket.io-client sends them."""
    requests = []
    for index in range(count):
        stamp = "PxYz123" if repeat else "".join(random.choices(string.ascii_letters + string.digits, k=7))
        path = f"/socket.io/?EIO=4&transport=polling&t={stamp}&sid={SID}"
        if index % 2:
            requests.append(
                f"POST {path} HTTP/1.1\r\nUser-Agent: node-XMLHttpRequest\r\nAccept: */*\r\n"
                f"Content-type: text/plain;charset=UTF-8\r\nHost: 127.0.0.1:3000\r\n"
                f"Content-Length: {len(EVENT)}\r\nConnection: keep-alive\r\n\r\n".encode()
                + EVENT
            )
        else:
            requests.append(
                f"GET {path} HTTP/1.1\r\nUser-Agent: node-XMLHttpRequest\r\nAccept: */*\r\n"
                f"Host: 127.0.0.1:3000\r\nConnection: keep-alive\r\n\r\n".encode()
            )
    return requests


def per_request(module: Any, requests: list[bytes]) -> float:
    """µs per request through one connection's parser from *module*."""
    parser = module.RequestParser(16_384)
    end = module.END_OF_BODY
    start = time.perf_counter()
    for raw in requests:
        parser.feed(raw)
        parser.next_request()
        while parser.next_body() is not end:
            pass
    return (time.perf_counter() - start) / len(requests) * 1e6


def load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("other_parser", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["other_parser"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--rounds", type=int, default=7)
    options.add_argument("--requests", type=int, default=20_000)
    options.add_argument("--repeat", action="store_true", help="the same t= every time")
    options.add_argument("--other", help="another _parser.py to time alongside")
    args = options.parse_args()
    modules: dict[str, Any] = {"this tree": _parser}
    if args.other:
        modules[Path(args.other).name + " (other)"] = load(args.other)
    best = dict.fromkeys(modules, float("inf"))
    for _ in range(args.rounds):
        requests = heads(args.requests, args.repeat)
        for name, module in modules.items():
            best[name] = min(best[name], per_request(module, requests))
    for name, micros in best.items():
        print(f"{name:30} {micros:6.2f} µs per request")


if __name__ == "__main__":
    main()
