"""``serve_client``: socket.io-client's browser bundles at ``<path>/socket.io.js``, as Node serves them.

Node's socket.io ships the bundles and serves them by default; sioactor vendors none, so the user points
``SocketIoConfig.serve_client`` at an installed copy: socket.io-client's package directory
(``node_modules/socket.io-client``, whose ``dist/`` holds them), Node socket.io's (``client-dist/``), the
directory of the files itself, or the file ``socket.io.js`` in it. What Node answers, this answers: the
names matching ``socket.io(.msgpack|.esm)?(.min)?.js(.map)?`` that exist there, ``application/javascript``
(``application/json`` for a source map), ``Cache-Control: public, max-age=0``, the ETag ``"<version>"`` of
the package (a 304 to a matching ``If-None-Match``, weak or strong), gzip or deflate as the request accepts
(Node also offers brotli, which the standard library lacks). A file is read once, on its first request.
Only ``GET`` is answered (405 otherwise).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import anyio

from sioactor._errors import ConfigError
from sioactor.runtime.engineio._app import ASGIApp
from sioactor.runtime.engineio._compression import accepted_encoding, compress_body
from sioactor.runtime.engineio._config import CorsConfig
from sioactor.runtime.engineio._http import Headers, Receive, Scope, Send, cors_headers, respond

__all__ = ("client_bundle_app", "find_bundle_dir")

_NAME = re.compile(r"socket\.io(\.msgpack|\.esm)?(\.min)?\.js(\.map)?")
_PACKAGE_SUBDIRS = ("dist", "client-dist")


def find_bundle_dir(where: str | Path) -> Path:
    """The directory holding ``socket.io.js`` that *where* names (see the module docstring).

    Raises:
        ConfigError: no ``socket.io.js`` there.
    """
    path = Path(where)
    candidates = [path.parent] if path.is_file() else [path, *(path / sub for sub in _PACKAGE_SUBDIRS)]
    for candidate in candidates:
        if (candidate / "socket.io.js").is_file():
            return candidate
    raise ConfigError(
        f"serve_client={str(where)!r}: no socket.io.js there; point it at socket.io-client's package "
        "directory (node_modules/socket.io-client), its dist/ directory, or the socket.io.js file"
    )


def _etag(directory: Path) -> bytes:
    # Node's ETag is its package's version; without a package.json the bundle's own digest serves.
    for package in (directory / "package.json", directory.parent / "package.json"):
        try:
            version = json.loads(package.read_text())["version"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(version, str) and version.isprintable() and '"' not in version:
            return b'"%s"' % version.encode()
    digest = hashlib.sha256((directory / "socket.io.js").read_bytes()).hexdigest()[:20]
    return b'"%s"' % digest.encode()


def client_bundle_app(where: str | Path, prefix: str, cors: CorsConfig | None, inner: ASGIApp) -> ASGIApp:
    """An ASGI app serving the bundles in *where* under *prefix* (the Socket.IO path), the rest by *inner*.

    Raises:
        ConfigError: *where* holds no bundle.
    """
    directory = find_bundle_dir(where)
    etag = _etag(directory)
    weak = b"W/" + etag
    files: dict[str, bytes | None] = {}  # name -> contents (None: no such file), read on first request
    compressed: dict[tuple[str, bytes], bytes] = {}
    prefix = prefix.rstrip("/") + "/"

    async def contents(name: str) -> bytes | None:
        if name not in files:
            try:
                files[name] = await anyio.Path(directory / name).read_bytes()
            except OSError:
                files[name] = None
        return files[name]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        name = path[len(prefix) :]
        if scope["type"] != "http" or not path.startswith(prefix) or not _NAME.fullmatch(name):
            await inner(scope, receive, send)
            return
        headers: Headers = cors_headers(cors, scope)
        if scope["method"] != "GET":
            await respond(send, 405, b"Method Not Allowed", extra=[(b"allow", b"GET"), *headers])
            return
        if _header(scope, b"if-none-match") in (etag, weak):
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", etag), *headers]})
            await send({"type": "http.response.body", "body": b""})
            return
        body = await contents(name)
        if body is None:
            await respond(send, 404, b"Not Found", extra=headers)
            return
        kind = b"json" if name.endswith(".map") else b"javascript"
        headers += [(b"cache-control", b"public, max-age=0"), (b"etag", etag)]
        encoding = accepted_encoding(scope)
        if encoding is not None:
            key = (name, encoding)
            if key not in compressed:  # compressed once per file and encoding, like the file is read once
                compressed[key] = compress_body(body, encoding, [])
            body = compressed[key]
            headers.append((b"content-encoding", encoding))
        await respond(send, 200, body, b"application/%s; charset=utf-8" % kind, headers)

    return app


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None
