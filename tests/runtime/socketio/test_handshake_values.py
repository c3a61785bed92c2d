"""``build_handshake`` alone: Node's header joining, JavaScript's date string, the proxy headers, ``url``."""

from __future__ import annotations

import re

from sioactor import RequestInfo
from sioactor.actors.engineio._request import RawHeaders, RawQuery
from sioactor.runtime.socketio._handshake import build_handshake

HEADERS = [
    (b"host", b"example.test"),
    (b"cookie", b"a=1"),
    (b"cookie", b"b=2"),
    (b"accept", b"text/html"),
    (b"accept", b"*/*"),
    (b"x-forwarded-for", b"203.0.113.7 , 10.0.0.1"),
    (b"origin", b"https://app.test"),
]


def request(**changes: object) -> RequestInfo:
    fields: dict[str, object] = {
        "path": "/socket.io/",
        "query": RawQuery(b"EIO=4&transport=polling&t=Pz%2B1"),
        "headers": RawHeaders.of(HEADERS),
        "remote_address": ("192.0.2.1", 50000),
    }
    fields.update(changes)
    return RequestInfo(**fields)  # type: ignore[arg-type]


def test_headers_join_as_nodes_and_the_url_is_the_raw_target() -> None:
    shake = build_handshake(request(), None, 1_700_000_000.25, trust_proxy=False)
    assert shake.headers["cookie"] == "a=1; b=2"
    assert shake.headers["accept"] == "text/html, */*"
    assert shake.url == "/socket.io/?EIO=4&transport=polling&t=Pz%2B1"
    assert shake.query == {"EIO": "4", "transport": "polling", "t": "Pz+1"}
    assert shake.issued == 1_700_000_000_250
    assert shake.auth == {}
    assert shake.xdomain is True
    assert shake.secure is False
    assert shake.address == "192.0.2.1"


def test_the_time_reads_as_javascripts_date() -> None:
    shake = build_handshake(request(), {"k": 1}, 1_700_000_000.0, trust_proxy=False)
    assert re.fullmatch(
        r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d{4} \d\d:\d\d:\d\d GMT[+-]\d{4} \(.+\)", shake.time
    )
    assert shake.auth == {"k": 1}


def test_a_trusted_proxy_names_the_client_and_an_empty_header_does_not() -> None:
    assert build_handshake(request(), None, 0, trust_proxy=True).address == "203.0.113.7"
    bare = request(headers=[("x-forwarded-for", " ")], remote_address=None, secure=True)
    shake = build_handshake(bare, None, 0, trust_proxy=True)
    assert shake.address == ""
    assert shake.secure is True
    assert shake.url == "/socket.io/?EIO=4&transport=polling&t=Pz%2B1"


def test_a_decoded_query_makes_a_url_too() -> None:
    assert request(query={"EIO": "4", "q": "a b"}).url == "/socket.io/?EIO=4&q=a+b"
    assert request(query={}).url == "/socket.io/"
