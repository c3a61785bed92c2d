"""The supervisor's pub/sub hub: the workers' cluster bus, with no Redis.

Each worker holds one connection to the hub's Unix socket and speaks the frames of
``protocol/cluster/_hub_frames.py``: the pub/sub subset of Redis the cluster adapter uses. The hub fans each
PUBLISH out to every connection subscribed to the channel, or to a pattern matching it (Redis's glob), the
publisher included, as Redis does; NUMSUB counts the connections subscribed to a channel, as
``PUBSUB NUMSUB`` does, so the adapter counts the workers as it counts Redis nodes.

A worker also tells the hub, once, that it listens (READY, on a connection of its own): the supervisor
reports the server started only when every worker accepts connections.

The hub runs in the supervisor's thread, with its selector (`Hub.register`, then `Hub.ready` for each ready
key): sockets non-blocking, writes buffered per connection up to `OUT_LIMIT`. A worker that stops reading
(stuck, or gone without closing) is disconnected at the limit rather than let the hub's memory grow or its
loop wait; its adapter then fails cluster operations, as a lost Redis does.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import logging
import re
import selectors
import socket
from collections.abc import Callable, Iterator

from sioactor._errors import DecodeError
from sioactor.protocol.cluster._hub_frames import FrameKind, FrameReader, encode_frame

__all__ = ("OUT_LIMIT", "Hub", "announce_ready")

logger = logging.getLogger("sioactor.server")

OUT_LIMIT = 64 * 1024 * 1024  # bytes queued for one worker before it is dropped
_READ_SIZE = 262_144


@functools.lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    # Redis's glob: * ? [...] and backslash escapes; fnmatch has no escapes, so an escaped c becomes [c].
    parts: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "\\")
            parts.append(f"[{escaped}]" if escaped in "*?[]" else escaped)
        else:
            parts.append(char)
    return re.compile(fnmatch.translate("".join(parts)), re.DOTALL)


class _Peer:
    """One worker's connection: what it subscribes to and what waits to be written to it."""

    __slots__ = ("channels", "out", "patterns", "reader", "sock", "writing")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = FrameReader()
        self.out = bytearray()
        self.channels: set[str] = set()
        self.patterns: set[str] = set()
        self.writing = False  # the selector watches for writability


class Hub:
    """Route the workers' pub/sub frames. Owns *listener* (a listening Unix socket) and its connections."""

    def __init__(
        self,
        listener: socket.socket,
        selector: selectors.BaseSelector,
        on_ready: Callable[[int], None],
        *,
        out_limit: int = OUT_LIMIT,
    ) -> None:
        self._listener = listener
        self._out_limit = out_limit
        self._on_ready = on_ready
        self._selector = selector
        self._peers: dict[socket.socket, _Peer] = {}
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ, self)

    def sockets(self) -> Iterator[socket.socket]:
        """Every socket the hub holds (a forked worker closes its copies)."""
        yield self._listener
        yield from self._peers

    def close(self) -> None:
        """Close the listener and every connection."""
        for sock in list(self._peers):
            self._drop(sock)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(self._listener)
        self._listener.close()

    def ready(self, sock: socket.socket, events: int) -> None:
        """Handle what the selector reported for *sock*."""
        if sock is self._listener:
            self._accept()
            return
        peer = self._peers.get(sock)
        if peer is None:
            return
        if events & selectors.EVENT_WRITE:
            self._flush(peer)
        if events & selectors.EVENT_READ and sock in self._peers:
            self._read(peer)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                logger.warning("hub: accept failed: %s", exc)
                return
            sock.setblocking(False)
            self._peers[sock] = _Peer(sock)
            self._selector.register(sock, selectors.EVENT_READ, self)

    def _read(self, peer: _Peer) -> None:
        try:
            data = peer.sock.recv(_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(peer.sock)
            return
        try:
            frames = peer.reader.feed(data)
        except DecodeError as exc:
            logger.error("hub: dropping a worker that sent a malformed frame: %s", exc.reason)  # noqa: TRY400
            self._drop(peer.sock)
            return
        for kind, fields in frames:
            self._handle(peer, kind, fields)

    def _handle(self, peer: _Peer, kind: FrameKind, fields: list[bytes]) -> None:
        if kind == FrameKind.PUBLISH and len(fields) == 2:
            self._publish(fields[0].decode("utf-8", "replace"), fields[1])
        elif kind == FrameKind.NUMSUB and len(fields) == 2:
            channel = fields[1].decode("utf-8", "replace")
            count = sum(1 for other in self._peers.values() if channel in other.channels)
            self._send(peer, encode_frame(FrameKind.NUMSUB_REPLY, fields[0], str(count).encode()))
        elif kind == FrameKind.READY and len(fields) == 1 and fields[0].isdigit():
            self._on_ready(int(fields[0]))
        elif len(fields) == 1:
            name = fields[0].decode("utf-8", "replace")
            if kind == FrameKind.SUBSCRIBE:
                peer.channels.add(name)
            elif kind == FrameKind.PSUBSCRIBE:
                peer.patterns.add(name)
            elif kind == FrameKind.UNSUBSCRIBE:
                peer.channels.discard(name)
            elif kind == FrameKind.PUNSUBSCRIBE:
                peer.patterns.discard(name)

    def _publish(self, channel: str, payload: bytes) -> None:
        plain: bytes | None = None
        for peer in list(self._peers.values()):
            if channel in peer.channels:
                if plain is None:
                    plain = encode_frame(FrameKind.MESSAGE, b"", channel.encode(), payload)
                self._send(peer, plain)
            for pattern in peer.patterns:
                if _glob(pattern).match(channel):
                    self._send(
                        peer, encode_frame(FrameKind.MESSAGE, pattern.encode(), channel.encode(), payload)
                    )

    def _send(self, peer: _Peer, frame: bytes) -> None:
        if peer.sock not in self._peers:
            return
        if len(peer.out) + len(frame) > self._out_limit:
            logger.error("hub: a worker stopped reading (%d bytes queued); disconnecting it", len(peer.out))
            self._drop(peer.sock)
            return
        waiting = bool(peer.out)
        peer.out += frame
        if not waiting:
            self._flush(peer)

    def _flush(self, peer: _Peer) -> None:
        try:
            sent = peer.sock.send(peer.out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._drop(peer.sock)
            return
        del peer.out[:sent]
        if peer.writing != bool(peer.out):
            peer.writing = bool(peer.out)
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if peer.writing else 0)
            self._selector.modify(peer.sock, events, self)

    def _drop(self, sock: socket.socket) -> None:
        self._peers.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)
        sock.close()


def announce_ready(path: str, index: int) -> None:
    """In a worker: tell the hub at *path* that worker *index* listens (a local socket: this never waits)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(encode_frame(FrameKind.READY, str(index).encode()))
