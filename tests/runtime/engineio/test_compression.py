"""Compression on the wire, over real loopback sockets on both backends: permessage-deflate on the embedded
server's WebSocket (negotiated, the threshold, ``Uncompressed``) and gzip/deflate on polling responses."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from eio_kit import EchoListener, WsClient, running
from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, PerMessageDeflate
from websockets.frames import Frame, Opcode
from websockets.typing import ExtensionParameter

from sioactor.actors.engineio._api import EngineConnection
from sioactor.protocol.engineio import Uncompressed

pytestmark = pytest.mark.anyio

LARGE = "4" + json.dumps({"items": [{"id": n, "name": f"item {n}"} for n in range(200)]})
SMALL = "4" + "s" * 1000  # 1001 bytes on the wire: under the 1024-byte threshold


class SpyingDeflate(PerMessageDeflate):
    """The client's permessage-deflate, noting which data frames came compressed (RSV1 set) by the id of the
    frame it hands on (kept alive in the client's pending events until read)."""

    def __init__(self, negotiated: PerMessageDeflate, seen: dict[int, bool]) -> None:
        super().__init__(
            negotiated.remote_no_context_takeover,
            negotiated.local_no_context_takeover,
            negotiated.remote_max_window_bits,
            negotiated.local_max_window_bits,
        )
        self.seen = seen

    def decode(self, frame: Frame, *, max_size: int | None = None) -> Frame:
        decoded = super().decode(frame, max_size=max_size)
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self.seen[id(decoded)] = frame.rsv1
        return decoded


class SpyingFactory(ClientPerMessageDeflateFactory):
    def __init__(self, seen: dict[int, bool]) -> None:
        super().__init__()
        self.seen = seen

    def process_response_params(
        self, params: Sequence[ExtensionParameter], accepted_extensions: Sequence[Extension]
    ) -> PerMessageDeflate:
        return SpyingDeflate(super().process_response_params(params, accepted_extensions), self.seen)


class SpyingClient(WsClient):
    """A WebSocket client that offers permessage-deflate and tells, per data frame, whether it came
    compressed."""

    seen: dict[int, bool]

    @classmethod
    @asynccontextmanager
    async def deflating(cls, port: int, query: str) -> AsyncIterator[tuple[SpyingClient, str | None]]:
        seen: dict[int, bool] = {}
        path = f"/engine.io/?{query}"
        async with cls.opened(port, path, extensions=[SpyingFactory(seen)]) as (client, response):
            assert response.status_code == 101
            assert isinstance(client, SpyingClient)
            client.seen = seen
            yield client, response.headers.get("Sec-WebSocket-Extensions")

    async def next_data(self) -> tuple[str | bytes, bool]:
        """The next data frame, and whether it came compressed."""
        while True:
            frame = await self.next_event()
            assert isinstance(frame, Frame)
            compressed = self.seen.pop(id(frame), False)
            if frame.opcode is Opcode.TEXT:
                return frame.data.decode(), compressed
            if frame.opcode is Opcode.BINARY:
                return bytes(frame.data), compressed


async def test_negotiated_large_messages_compressed_both_ways_small_ones_not() -> None:
    async with (
        running(per_message_deflate=True, ping_interval=30) as srv,
        SpyingClient.deflating(srv.port, "EIO=4&transport=websocket") as (ws, answer),
    ):
        assert answer is not None
        assert answer.startswith("permessage-deflate")
        opened, compressed = await ws.next_data()
        assert isinstance(opened, str)
        assert opened.startswith("0{")
        assert not compressed
        # The client compresses what it sends (websockets compresses every message): the server inflates.
        for message in (LARGE, SMALL, LARGE, "4hi"):
            await ws.send_text(message)
            assert await ws.next_data() == (message, len(message) >= 1024)
        binary = bytes(range(256)) * 8
        await ws.send_binary(binary)
        assert await ws.next_data() == (binary, True)


async def test_off_by_default_as_in_node() -> None:
    async with (
        running(ping_interval=30) as srv,
        SpyingClient.deflating(srv.port, "EIO=4&transport=websocket") as (ws, answer),
    ):
        assert answer is None
        await ws.next_data()
        await ws.send_text(LARGE)
        assert await ws.next_data() == (LARGE, False)


async def test_the_threshold_is_configurable() -> None:
    async with (
        running(per_message_deflate=True, compression_threshold=0, ping_interval=30) as srv,
        SpyingClient.deflating(srv.port, "EIO=4&transport=websocket") as (ws, _),
    ):
        assert (await ws.next_data())[1]  # even the open packet
        await ws.send_text("4hi")
        assert await ws.next_data() == ("4hi", True)


class UncompressedEcho(EchoListener):
    """Echoes ``plain:`` messages as ``Uncompressed`` (``compress(False)``), the others as they are."""

    def on_message(self, conn: EngineConnection, data: str | bytes) -> None:
        if isinstance(data, str) and data.startswith("plain:"):
            conn.send(Uncompressed(data))
        else:
            conn.send(data)


@asynccontextmanager
async def uncompressed_echo(**config: Any) -> AsyncIterator[int]:
    async with running(UncompressedEcho(), **config) as srv:
        yield srv.port


async def test_uncompressed_entries_are_never_compressed_even_in_a_mixed_batch() -> None:
    plain = "plain:" + "p" * 2000
    async with (
        uncompressed_echo(per_message_deflate=True, ping_interval=30) as port,
        SpyingClient.deflating(port, "EIO=4&transport=websocket") as (ws, _),
    ):
        await ws.next_data()
        # One read, three messages: the echoes leave in one batch, compressed, not, compressed.
        for message in (LARGE[1:], plain, LARGE[1:]):
            ws.protocol.send_text(("4" + message).encode())
        await ws.flush()
        got = [await ws.next_data() for _ in range(3)]
        assert got == [(LARGE, True), ("4" + plain, False), (LARGE, True)]


async def test_a_deflate_bomb_is_refused_with_1009_not_inflated_whole() -> None:
    # 4 MB of zeros deflate to a few kilobytes; the server inflates no further than its size limit.
    async with (
        running(per_message_deflate=True, ping_interval=30) as srv,
        SpyingClient.deflating(srv.port, "EIO=4&transport=websocket") as (ws, _),
    ):
        await ws.next_data()
        ws.protocol.send_text(b"4" + b"0" * 4_000_000)
        await ws.flush()
        close, frames = await ws.until_close()
    assert (close.code, frames) == (1009, 0)
    with anyio.fail_after(5):
        await srv.listener.any_closed.wait()


async def test_a_malformed_extension_offer_negotiates_nothing() -> None:
    async with running(per_message_deflate=True, ping_interval=30) as srv:
        request = (
            b"GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n"
            b"connection: upgrade\r\nsec-websocket-version: 13\r\n"
            b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"sec-websocket-extensions: permessage-deflate; =bad\r\n\r\n"
        )
        async with await anyio.connect_tcp("127.0.0.1", srv.port) as stream:
            await stream.send(request)
            with anyio.fail_after(5):
                head = await stream.receive()
        assert head.startswith(b"HTTP/1.1 101 ")
        assert b"sec-websocket-extensions" not in head.lower()


# --- polling ------------------------------------------------------------------------------------------------


async def _session(http: httpx.AsyncClient, base: str) -> str:
    res = await http.get(f"{base}?EIO=4&transport=polling")
    return str(json.loads(res.text[1:])["sid"])


async def _raw_poll(http: httpx.AsyncClient, url: str, encoding: str) -> tuple[httpx.Headers, bytes]:
    async with http.stream("GET", url, headers={"accept-encoding": encoding}) as res:
        assert res.status_code == 200
        return res.headers, b"".join([chunk async for chunk in res.aiter_raw()])


@pytest.mark.parametrize("held", [False, True], ids=["ready", "held"])
async def test_polling_large_payloads_come_gzipped_on_the_wire(held: bool) -> None:
    async with running(ping_interval=30) as srv, httpx.AsyncClient() as http:
        url = f"{srv.base}?EIO=4&transport=polling&sid={await _session(http, srv.base)}"
        if held:  # the GET waits for the echo, and is answered from the scheduler's flush
            async with anyio.create_task_group() as tg:
                polled: list[tuple[httpx.Headers, bytes]] = []

                async def poll() -> None:
                    polled.append(await _raw_poll(http, url, "gzip, deflate"))

                tg.start_soon(poll)
                await anyio.sleep(0.1)
                assert (await http.post(url, content=LARGE)).text == "ok"
            headers, raw = polled[0]
        else:
            assert (await http.post(url, content=LARGE)).text == "ok"
            headers, raw = await _raw_poll(http, url, "gzip, deflate")
        assert headers["content-encoding"] == "gzip"
        assert int(headers["content-length"]) == len(raw) < len(LARGE)
        assert gzip.decompress(raw).decode() == LARGE


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("deflate", "deflate"), ("gzip;q=0.5, deflate", "deflate"), ("identity", None), ("gzip;q=0", None)],
)
async def test_polling_honours_accept_encoding(accept: str, expected: str | None) -> None:
    async with running(ping_interval=30) as srv, httpx.AsyncClient() as http:
        url = f"{srv.base}?EIO=4&transport=polling&sid={await _session(http, srv.base)}"
        await http.post(url, content=LARGE)
        headers, raw = await _raw_poll(http, url, accept)
        assert headers.get("content-encoding") == expected
        assert (zlib.decompress(raw) if expected == "deflate" else raw).decode() == LARGE


async def test_polling_small_payloads_uncompressed_and_the_option_off() -> None:
    async with running(ping_interval=30) as srv, httpx.AsyncClient() as http:
        url = f"{srv.base}?EIO=4&transport=polling&sid={await _session(http, srv.base)}"
        await http.post(url, content=SMALL)
        headers, raw = await _raw_poll(http, url, "gzip")
        assert "content-encoding" not in headers
        assert raw.decode() == SMALL
    async with running(ping_interval=30, http_compression=False) as srv, httpx.AsyncClient() as http:
        url = f"{srv.base}?EIO=4&transport=polling&sid={await _session(http, srv.base)}"
        await http.post(url, content=LARGE)
        headers, raw = await _raw_poll(http, url, "gzip")
        assert "content-encoding" not in headers
        assert raw.decode() == LARGE


async def test_polling_payload_of_uncompressed_messages_only_is_not_compressed() -> None:
    plain = "plain:" + "p" * 2000
    async with uncompressed_echo(ping_interval=30) as port, httpx.AsyncClient() as http:
        base = f"http://127.0.0.1:{port}/engine.io/"
        url = f"{base}?EIO=4&transport=polling&sid={await _session(http, base)}"
        await http.post(url, content="4" + plain)
        headers, raw = await _raw_poll(http, url, "gzip")
        assert "content-encoding" not in headers
        assert raw.decode() == "4" + plain
