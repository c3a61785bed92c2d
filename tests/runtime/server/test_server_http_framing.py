"""Request framing through the running embedded server (raw sockets, both backends): what it answers,
what it refuses and that a refused request closes the connection before anything smuggled is served."""

from __future__ import annotations

from typing import Any

import anyio
import orjson
import pytest
from server_kit import DemoApp, raw_exchange, running

pytestmark = pytest.mark.anyio

SMUGGLED = b"GET /scope?smuggled HTTP/1.1\r\nhost: x\r\n\r\n"


def bodies(answer: bytes) -> list[dict[str, object]]:
    """The JSON bodies in a raw answer (each response here ends with its JSON body)."""
    return [orjson.loads(part.split(b"\r\n\r\n", 1)[1]) for part in answer.split(b"HTTP/1.1 ")[1:]]


@pytest.mark.parametrize(
    "framing",
    [
        b"content-length: 5\r\ntransfer-encoding: chunked",
        b"content-length: 5\r\ncontent-length: 40",
        b"transfer-encoding: chunked\r\ntransfer-encoding : identity",
    ],
)
async def test_an_ambiguous_body_length_gets_400_and_nothing_smuggled_is_served(framing: bytes) -> None:
    request = b"POST /body HTTP/1.1\r\nhost: x\r\n" + framing + b"\r\n\r\n0\r\n\r\n" + SMUGGLED
    async with running(DemoApp()) as port:
        answer = await raw_exchange(port, request)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert answer.count(b"HTTP/1.1 ") == 1


async def test_a_chunked_request_body_reaches_the_app_and_the_connection_is_kept() -> None:
    chunked = (
        b"POST /body HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
        b"4\r\nabcd\r\n2;x=y\r\nef\r\n0\r\n\r\n"
    )
    last = b"GET /scope HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    async with running(DemoApp()) as port:
        answer = await raw_exchange(port, chunked + last)
    first, second = bodies(answer)
    assert first["body"] == "abcdef"
    assert second["path"] == "/scope"


async def test_a_bad_chunk_size_ends_the_request_with_400_and_a_close() -> None:
    request = (
        b"POST /body HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\nzz\r\n0\r\n\r\n"
    )
    async with running(DemoApp()) as port:
        answer = await raw_exchange(port, request + SMUGGLED)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"smuggled" not in answer


async def test_an_obs_folded_header_gets_400() -> None:
    async with running(DemoApp()) as port:
        answer = await raw_exchange(port, b"GET /scope HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n folded\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")


async def test_an_oversized_head_in_pieces_gets_431() -> None:
    async with running(DemoApp(), max_header_size=1024) as port:
        stream = await anyio.connect_tcp("127.0.0.1", port)
        async with stream:
            await stream.send(b"GET /scope HTTP/1.1\r\nhost: x\r\n")
            with anyio.fail_after(5):
                # 16 lines of 69 bytes cross the 1 KiB bound only with the last one, sent separately.
                for _ in range(16):
                    await anyio.sleep(0.005)
                    await stream.send(b"x-pad: " + b"p" * 60 + b"\r\n")
                answer = await stream.receive()
    assert answer.startswith(b"HTTP/1.1 431 ")


async def test_expect_100_continue_is_answered_when_the_app_reads_the_body() -> None:
    head = (
        b"POST /body HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\n"
        b"content-length: 3\r\nconnection: close\r\n\r\n"
    )
    async with running(DemoApp()) as port, await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(head)
        with anyio.fail_after(5):
            interim = await stream.receive()
            await stream.send(b"abc")
            final = await stream.receive()
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert final.startswith(b"HTTP/1.1 200 ")
    assert final.endswith(b'"body":"abc","parts":1}')


async def test_an_http_1_0_client_gets_a_close_delimited_stream_and_a_close() -> None:
    async with running(DemoApp()) as port:
        answer = await raw_exchange(port, b"GET /stream HTTP/1.0\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"connection: close" in head
    assert b"transfer-encoding" not in head
    assert body == b"one,two,three"


async def test_a_head_request_gets_headers_only() -> None:
    async with running(DemoApp()) as port:
        answer = await raw_exchange(port, b"HEAD /scope HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b"\r\n\r\n")


async def test_a_response_larger_than_the_kernel_buffers_arrives_whole_to_a_slow_reader() -> None:
    body = bytes(range(256)) * 32_768  # 8 MiB: the non-blocking write leaves a backlog that is awaited

    async def big(scope: dict[str, object], receive: object, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})

    async with running(big, lifespan=False) as port, await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        received = bytearray()
        with anyio.fail_after(10):
            await anyio.sleep(0.05)  # let the kernel buffers fill before reading
            while True:
                try:
                    received += await stream.receive()
                except anyio.EndOfStream:
                    break
    head, _, got = bytes(received).partition(b"\r\n\r\n")
    assert b"content-length: %d" % len(body) in head
    assert got == body
