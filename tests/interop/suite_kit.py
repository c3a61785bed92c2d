"""What the two re-created official suites (Engine.IO, Socket.IO) share: reading a frame, checking the open
packet, opening a polling session, closing one over polling while a poll is pending."""

from __future__ import annotations

import json

import anyio
import httpx
from websockets.asyncio.client import ClientConnection


async def recv(ws: ClientConnection) -> str | bytes:
    """The next frame, pings included (the heartbeat cases look at them)."""
    with anyio.fail_after(2):
        return await ws.recv()


def check_open(text: str | bytes, upgrades: list[str]) -> None:
    """The reference server's open packet: the five keys, a 20-character sid, the suites' settings."""
    assert isinstance(text, str)
    assert text.startswith("0")
    value = json.loads(text[1:])
    assert set(value) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
    assert isinstance(value["sid"], str)
    assert len(value["sid"]) == 20
    assert value["upgrades"] == upgrades
    assert (value["pingInterval"], value["pingTimeout"], value["maxPayload"]) == (300, 200, 1000000)


async def handshake(client: httpx.AsyncClient, base_url: str) -> str:
    """Opens an Engine.IO session over polling; returns its sid."""
    res = await client.get(f"http://{base_url}?EIO=4&transport=polling")
    assert res.status_code == 200
    return str(json.loads(res.text[1:])["sid"])


async def close_over_polling(client: httpx.AsyncClient, url: str) -> None:
    """POST a close packet while a poll is pending on *url*: the poll gets a noop, the session is gone."""
    results: dict[str, httpx.Response] = {}

    async def pending_poll() -> None:
        results["poll"] = await client.get(url)

    async with anyio.create_task_group() as tg:
        tg.start_soon(pending_poll)
        await anyio.sleep(0.05)
        assert (await client.post(url, content="1")).status_code == 200
    assert (results["poll"].status_code, results["poll"].text) == (200, "6")
    assert (await client.get(url)).status_code == 400
