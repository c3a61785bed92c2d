"""Bad compressed input on the embedded server's WebSocket, over real loopback sockets on both backends: a
compressed frame (RSV1) when permessage-deflate was not negotiated, data that does not inflate, an inflated
text message that is not UTF-8, and a message that inflates past ``max_payload``. Each ends in a clean
close with the code RFC 6455 names (1002, 1007, 1009), the session closed, and nothing logged as a failure.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
from eio_kit import Running, WsClient, running
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, PerMessageDeflate
from websockets.frames import Frame, Opcode
from websockets.utils import apply_mask

pytestmark = pytest.mark.anyio

PROTOCOL_ERROR, INVALID_DATA, TOO_BIG = 1002, 1007, 1009


def client_frame(first_byte: int, payload: bytes) -> bytes:
    """One masked client frame written byte by byte: *first_byte* is FIN/RSV/opcode, as the test wants it
    (the client's own protocol would refuse to write some of them)."""
    size = len(payload)
    if size < 126:
        head = bytes((first_byte, 0x80 | size))
    elif size < 65_536:
        head = bytes((first_byte, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((first_byte, 0x80 | 127)) + size.to_bytes(8, "big")
    mask = os.urandom(4)
    return head + mask + apply_mask(payload, mask)


def deflated(data: bytes, context: PerMessageDeflate | None = None) -> bytes:
    """*data* as a compressed message's payload (the trailing ``00 00 ff ff`` cut), in the client's deflate
    *context* (a fresh one if none)."""
    context = context or PerMessageDeflate(False, False, 15, 15)
    return bytes(context.encode(Frame(Opcode.TEXT, data)).data)


@asynccontextmanager
async def opened(srv: Running, *, offer: bool) -> AsyncIterator[WsClient]:
    """A WebSocket session at *srv*, offering permessage-deflate if *offer*, past its open packet."""
    extensions = [ClientPerMessageDeflateFactory()] if offer else []
    path = "/engine.io/?EIO=4&transport=websocket"
    async with WsClient.opened(srv.port, path, extensions=extensions) as (ws, response):
        assert response.status_code == 101
        assert ("Sec-WebSocket-Extensions" in response.headers) is offer
        assert (await ws.next_text()).startswith("0{")
        yield ws


async def closed_with(srv: Running, ws: WsClient, raw: bytes) -> tuple[int, int]:
    """Send *raw* bytes; the server's close code and how many data frames came before it. Waits for the
    session's end too (no session is left behind)."""
    await ws.stream.send(raw)
    close, frames = await ws.until_close()
    with anyio.fail_after(5):
        await srv.listener.any_closed.wait()
    return close.code, frames


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("server_offers", [False, True], ids=["option_off", "client_did_not_offer"])
async def test_a_compressed_frame_without_negotiation_is_a_protocol_error(
    server_offers: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with (
        running(per_message_deflate=server_offers, ping_interval=30) as srv,
        opened(srv, offer=False) as ws,
    ):
        assert await closed_with(srv, ws, client_frame(0xC1, deflated(b"4hello"))) == (PROTOCOL_ERROR, 0)
    assert failures(caplog) == []


async def test_data_that_does_not_inflate_is_a_protocol_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with running(per_message_deflate=True, ping_interval=30) as srv, opened(srv, offer=True) as ws:
        # A deflate block of the reserved type 3: zlib refuses it ("invalid block type").
        assert await closed_with(srv, ws, client_frame(0xC1, b"\xff\xff\xff\xff")) == (PROTOCOL_ERROR, 0)
    assert failures(caplog) == []


async def test_inflated_text_that_is_not_utf8_is_invalid_data(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with running(per_message_deflate=True, ping_interval=30) as srv, opened(srv, offer=True) as ws:
        raw = client_frame(0xC1, deflated(b"4" + b"\xff\xfe" * 1000))
        assert await closed_with(srv, ws, raw) == (INVALID_DATA, 0)
    assert failures(caplog) == []


async def test_inflating_past_max_payload_is_refused_with_1009(caplog: pytest.LogCaptureFixture) -> None:
    # 50 kB of zeros deflate to under 100 bytes; max_payload, not the frame's size, decides.
    caplog.set_level(logging.WARNING)
    async with (
        running(per_message_deflate=True, max_payload=10_000, ping_interval=30) as srv,
        opened(srv, offer=True) as ws,
    ):
        context = PerMessageDeflate(False, False, 15, 15)
        fits = b"4" + b"0" * 9_000
        await ws.stream.send(client_frame(0xC1, deflated(fits, context)))
        assert await ws.next_text() == fits.decode()
        bomb = deflated(b"4" + b"0" * 50_000, context)
        assert len(bomb) < 200
        assert await closed_with(srv, ws, client_frame(0xC1, bomb)) == (TOO_BIG, 0)
    assert failures(caplog) == []
