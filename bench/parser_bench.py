"""Per-request cost of the embedded server's HTTP/1.1 parser on real polling requests.

    .venv/bin/python bench/parser_bench.py [--rounds 7] [--requests 20000] [--keep-alive | --loadgen]
        [--other FILE]

By default the requests are those socket.io-client 4.8 sends over polling in Node (engine.io-client 6.6,
xmlhttprequest-ssl over Node's http module, captured byte for byte): a GET and a POST with a ~100-byte event,
each with a fresh random ``t=`` and ``Connection: close``, so each comes on a connection (a parser) of its
own and no memo of repeated heads can hit. ``--keep-alive`` sends them on one connection, as a browser does
(the random ``t=`` still defeats the memo). ``--loadgen`` uses the bench's load generator's requests
(bench/loadgen/http_raw.js: keep-alive, the same two heads byte for byte on one connection). Each request is
fed whole, its head taken and its body drained. ``--other`` times another parser module with the same
interface (``RequestParser``, ``END_OF_BODY``) in the same run, alternating with this tree's (an A/B against
``git show REV:sioactor/runtime/_server/_parser.py``). Prints µs per request, the best of *rounds* (a shared
machine's noise only ever slows a run).
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


def client_requests(count: int, connection: str = "close") -> list[bytes]:
    """*count* requests, GET and POST alternating, as socket.io-client sends them."""
    requests = []
    for index in range(count):
        stamp = "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
        path = f"/socket.io/?EIO=4&transport=polling&t={stamp}&sid={SID}"
        common = "User-Agent: node-XMLHttpRequest\r\nAccept: */*\r\n"
        close = f"Connection: {connection}\r\n"
        if index % 2:
            requests.append(
                f"POST {path} HTTP/1.1\r\n{common}Content-type: text/plain;charset=UTF-8\r\n"
                f"Host: 127.0.0.1:3000\r\nContent-Length: {len(EVENT)}\r\n{close}\r\n".encode()
                + EVENT
            )
        else:
            requests.append(f"GET {path} HTTP/1.1\r\n{common}Host: 127.0.0.1:3000\r\n{close}\r\n".encode())
    return requests


def loadgen_requests(count: int) -> list[bytes]:
    """*count* requests, GET and POST alternating, as the bench's load generator sends them."""
    path = f"/socket.io/?EIO=4&transport=polling&sid={SID}"
    post = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nContent-Type: text/plain;charset=UTF-8\r\n"
        f"Content-Length: {len(EVENT)}\r\n\r\n".encode()
        + EVENT
    )
    get = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n\r\n".encode()
    return [post if index % 2 else get for index in range(count)]


def per_request(module: Any, requests: list[bytes], one_connection: bool) -> float:
    """µs per request through *module*'s parser: one for all (keep-alive) or one per request."""
    parser = module.RequestParser(16_384)
    end = module.END_OF_BODY
    start = time.perf_counter()
    for raw in requests:
        if not one_connection:
            close = getattr(parser, "close", None)
            if close is not None:
                close()  # as the server does when a connection ends
            parser = module.RequestParser(16_384)
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
    options.add_argument("--loadgen", action="store_true", help="the bench load generator's requests")
    options.add_argument("--keep-alive", action="store_true", help="the client's requests on one connection")
    options.add_argument("--other", help="another _parser.py to time alongside")
    args = options.parse_args()
    modules: dict[str, Any] = {"this tree": _parser}
    if args.other:
        modules[Path(args.other).name + " (other)"] = load(args.other)
    best = dict.fromkeys(modules, float("inf"))
    for _ in range(args.rounds):
        if args.loadgen:
            requests = loadgen_requests(args.requests)
        else:
            requests = client_requests(args.requests, "keep-alive" if args.keep_alive else "close")
        for name, module in modules.items():
            one_connection = args.loadgen or args.keep_alive
            best[name] = min(best[name], per_request(module, requests, one_connection))
    for name, micros in best.items():
        print(f"{name:30} {micros:6.2f} µs per request")


if __name__ == "__main__":
    main()
