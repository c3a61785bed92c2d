"""The opening handshake's answer (`_ws_handshake`): ours for valid requests, websockets' otherwise."""

from __future__ import annotations

import base64
import os

import anyio
import pytest
from server_kit import DemoApp, raw_exchange, running, upgrade_request
from websockets.datastructures import Headers
from websockets.http11 import Request as WsRequest
from websockets.server import ServerProtocol

from sioactor.runtime._server._parser import Request
from sioactor.runtime._server._ws_handshake import accept_value, switching_protocols

VALID = [
    (b"host", b"x"),
    (b"upgrade", b"websocket"),
    (b"connection", b"keep-alive, Upgrade"),
    (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    (b"sec-websocket-version", b"13"),
]


def request(headers: list[tuple[bytes, bytes]], method: bytes = b"GET", version: bytes = b"1.1") -> Request:
    return Request(
        method=method,
        target=b"/ws",
        http_version=version,
        headers=headers,
        keep_alive=True,
        expect_continue=False,
    )


def test_the_rfc_6455_example_key() -> None:
    assert accept_value(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_the_answer_carries_what_websockets_answers_for_random_keys() -> None:
    for _ in range(20):
        key = base64.b64encode(os.urandom(16))
        headers = [(n, key if n == b"sec-websocket-key" else v) for n, v in VALID]
        ours = switching_protocols(request(headers), None, [])
        assert ours is not None
        theirs = ServerProtocol().accept(
            WsRequest(path="/ws", headers=Headers((n.decode(), v.decode()) for n, v in headers))
        )
        assert ours.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
        assert ours.endswith(b"\r\n\r\n")
        for name in ("Upgrade", "Connection", "Sec-WebSocket-Accept"):
            assert f"{name}: {theirs.headers[name]}\r\n".encode() in ours


def test_the_apps_subprotocol_and_headers_are_added_and_checked() -> None:
    answer = switching_protocols(request(VALID), "chat", [(b"x-extra", b"yes")])
    assert answer is not None
    assert b"Sec-WebSocket-Protocol: chat\r\n" in answer
    assert b"x-extra: yes\r\n" in answer
    with pytest.raises(RuntimeError, match=r"invalid websocket\.accept header"):
        switching_protocols(request(VALID), None, [(b"x-evil", b"a\r\nset-cookie: b")])


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({b"sec-websocket-version": b"8"}, "another protocol version"),
        ({b"sec-websocket-key": b"c2hvcnQ="}, "a key that is not 16 bytes"),
        ({b"sec-websocket-key": b"not base64!!"}, "a key that is not base64"),
        ({b"upgrade": b"h2c"}, "an upgrade to something else"),
        ({b"connection": b"keep-alive"}, "no upgrade in Connection"),
    ],
)
def test_anything_but_a_plain_valid_request_is_left_to_websockets(
    change: dict[bytes, bytes], why: str
) -> None:
    headers = [(n, change.get(n, v)) for n, v in VALID]
    assert switching_protocols(request(headers), None, []) is None, why


def test_duplicates_method_and_version_are_left_to_websockets() -> None:
    assert (
        switching_protocols(request([*VALID, (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ==")]), None, [])
        is None
    )
    assert switching_protocols(request(VALID, method=b"POST"), None, []) is None
    assert switching_protocols(request(VALID, version=b"1.0"), None, []) is None
    missing = [(n, v) for n, v in VALID if n != b"sec-websocket-version"]
    assert switching_protocols(request(missing), None, []) is None


@pytest.mark.anyio
async def test_a_bad_handshake_gets_websockets_explained_400_and_a_close() -> None:
    raw = upgrade_request("/echo", key=b"c2hvcnQ=")
    async with running(DemoApp()) as port:
        answer = await raw_exchange(port, raw)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Sec-WebSocket-Key" in answer


@pytest.mark.anyio
async def test_a_valid_handshake_is_switched_by_the_server() -> None:
    raw = upgrade_request("/echo")
    async with running(DemoApp()) as port, await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(raw)
        answer = b""
        with anyio.fail_after(5):
            while b"\r\n\r\n" not in answer:
                answer += await stream.receive()
    assert answer.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in answer
