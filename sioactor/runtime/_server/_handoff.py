"""Handing a TCP connection to the worker that owns its session: the descriptor itself, with the bytes
already read from it, over a Unix socket (``SCM_RIGHTS``).

Each worker listens on its own ``SOCK_SEQPACKET`` socket (``WorkerSlot.handoff_path``); a message is one
hand-off: the bytes read so far (the request head, perhaps part of its body) and the connection's
descriptor. The sender closes its own descriptor afterwards; the connection lives on in the owner, which
serves it as if it had accepted it, the bytes pre-read. No byte is copied through the sender after that.

The connection to an owner is made on first use. A send waits for room (the owner's queue holds few
messages, ``net.unix.max_dgram_qlen``) at most `SEND_WAIT` seconds; a send that still cannot go (the owner
is stuck), or one to a worker with no socket (gone, being replaced), fails. The sender then serves the
request itself, and the engine answers the unknown session with 400, so the client reconnects; a dead or
stuck owner never holds another worker up for longer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Callable

import anyio

from sioactor.runtime._worker_context import WorkerSlot

__all__ = ("SEND_WAIT", "HandoffReceiver", "HandoffSender")

logger = logging.getLogger("sioactor.server")

_BACKLOG = 128
SEND_WAIT = 1.0


class HandoffSender:
    """One worker's connections to the others' hand-off sockets, made on first use."""

    __slots__ = ("_peers", "_slot")

    def __init__(self, slot: WorkerSlot) -> None:
        self._slot = slot
        self._peers: dict[int, socket.socket] = {}

    async def send(self, owner: int, connection: socket.socket, pre_read: bytes) -> bool:
        """Pass *connection* and *pre_read* to worker *owner*; False (and nothing sent) if it cannot take
        them. On True the caller closes its descriptor of *connection*."""
        for attempt in range(2):  # a connection from before the owner was replaced fails once
            peer = self._peers.get(owner) or self._connect(owner)
            if peer is None:
                return False
            try:
                return await self._send(peer, connection, pre_read)
            except OSError as exc:
                self._forget(owner)
                if attempt:
                    logger.debug("hand-off to worker %d failed: %s", owner, exc)
        return False

    async def _send(self, peer: socket.socket, connection: socket.socket, pre_read: bytes) -> bool:
        with anyio.move_on_after(SEND_WAIT):
            while True:
                try:
                    socket.send_fds(peer, [pre_read], [connection.fileno()])
                except BlockingIOError:
                    await anyio.wait_writable(peer)
                else:
                    return True
        return False

    def _connect(self, owner: int) -> socket.socket | None:
        peer = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        peer.setblocking(False)
        try:
            peer.connect(self._slot.handoff_path(owner))
        except OSError:
            peer.close()
            return None
        self._peers[owner] = peer
        return peer

    def _forget(self, owner: int) -> None:
        peer = self._peers.pop(owner, None)
        if peer is not None:
            peer.close()


class HandoffReceiver:
    """Take the connections other workers hand to this one; each goes to *adopt* with its pre-read bytes.

    Args:
        slot: this worker.
        max_message: the most pre-read bytes a hand-off may carry (a head and one read past it).
        adopt: serves a handed-over connection; must not block.
    """

    def __init__(
        self, slot: WorkerSlot, max_message: int, adopt: Callable[[socket.socket, bytes], None]
    ) -> None:
        self._slot = slot
        self._max_message = max_message
        self._adopt = adopt

    async def run(self) -> None:
        """Listen until cancelled."""
        path = self._slot.handoff_path(self._slot.index)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # left by the worker this one replaces
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with listener:
            listener.bind(path)
            listener.listen(_BACKLOG)
            listener.setblocking(False)
            async with anyio.create_task_group() as tg:
                while True:
                    await anyio.wait_readable(listener)
                    try:
                        peer, _ = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        continue
                    peer.setblocking(False)
                    tg.start_soon(self._receive, peer)

    async def _receive(self, peer: socket.socket) -> None:
        with peer:
            while True:
                await anyio.wait_readable(peer)
                while True:  # every message queued, then wait again
                    try:
                        data, fds, flags, _ = socket.recv_fds(peer, self._max_message, 1)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        return
                    if not data and not fds:
                        return  # the other worker closed its end
                    self._take(data, fds, flags)

    def _take(self, data: bytes, fds: list[int], flags: int) -> None:
        if len(fds) != 1 or flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
            for fd in fds:
                os.close(fd)
            logger.warning("a connection handed over by another worker was cut short; dropped")
            return
        self._adopt(socket.socket(fileno=fds[0]), data)
