"""``serve_client``: the socket.io-client bundles at ``/socket.io/socket.io*.js``, as Node serves them
(content type, ETag and 304, Cache-Control, gzip), from the installed npm package."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import httpx
import pytest

from sioactor import ConfigError
from sioactor.runtime.socketio import SocketIo, SocketIoConfig

PACKAGE = Path(__file__).resolve().parents[3] / "node_modules" / "socket.io-client"
VERSION = json.loads((PACKAGE / "package.json").read_text())["version"]

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not (PACKAGE / "dist").is_dir(), reason="npm socket.io-client is not installed"),
]


def client_for(where: str | Path) -> httpx.AsyncClient:
    io = SocketIo(SocketIoConfig(serve_client=str(where)))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=io.asgi()), base_url="http://test")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("socket.io.js", "javascript"),
        ("socket.io.min.js", "javascript"),
        ("socket.io.esm.min.js", "javascript"),
        ("socket.io.msgpack.min.js", "javascript"),
        ("socket.io.js.map", "json"),
    ],
)
async def test_bundles_served_as_node_serves_them(name: str, kind: str) -> None:
    async with client_for(PACKAGE) as http:
        res = await http.get(f"/socket.io/{name}", headers={"accept-encoding": "identity"})
    assert res.status_code == 200
    assert res.content == (PACKAGE / "dist" / name).read_bytes()
    assert res.headers["content-type"] == f"application/{kind}; charset=utf-8"
    assert res.headers["etag"] == f'"{VERSION}"'
    assert res.headers["cache-control"] == "public, max-age=0"


async def test_etag_strong_or_weak_gets_304_and_a_stale_one_the_file() -> None:
    async with client_for(PACKAGE / "dist") as http:
        for tag in (f'"{VERSION}"', f'W/"{VERSION}"'):
            res = await http.get("/socket.io/socket.io.js", headers={"if-none-match": tag})
            assert (res.status_code, res.content) == (304, b"")
            assert res.headers["etag"] == f'"{VERSION}"'
        res = await http.get("/socket.io/socket.io.js", headers={"if-none-match": '"0.0.1"'})
        assert res.status_code == 200


async def test_gzipped_when_accepted() -> None:
    url, accept = "/socket.io/socket.io.min.js", {"accept-encoding": "gzip"}
    async with (
        client_for(PACKAGE / "dist" / "socket.io.js") as http,
        http.stream("GET", url, headers=accept) as res,
    ):
        raw = b"".join([chunk async for chunk in res.aiter_raw()])
    assert res.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == (PACKAGE / "dist" / "socket.io.min.js").read_bytes()


async def test_other_names_and_methods_are_not_the_bundle() -> None:
    async with client_for(PACKAGE) as http:
        assert (await http.get("/socket.io/socket.io.jsx")).status_code != 200
        assert (await http.get("/socket.io/socket.io.min.js.gz")).status_code != 200
        assert (await http.post("/socket.io/socket.io.js")).status_code == 405
        # The Engine.IO endpoint is still there (it answers a bad request in its own words).
        res = await http.get("/socket.io/?transport=unknown")
        assert res.json() == {"code": 0, "message": "Transport unknown"}


async def test_off_by_default() -> None:
    io = SocketIo(SocketIoConfig())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=io.asgi()), base_url="http://t") as http:
        res = await http.get("/socket.io/socket.io.js")
    assert res.status_code == 400  # the Engine.IO server's answer: no such transport


def test_a_path_without_the_bundle_is_a_config_error(tmp_path: Path) -> None:
    io = SocketIo(SocketIoConfig(serve_client=str(tmp_path)))
    with pytest.raises(ConfigError, match=r"no socket\.io\.js there"):
        io.asgi()
