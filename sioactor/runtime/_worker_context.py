"""Which worker this process is, when the embedded server runs several (``ServerConfig.workers``).

The supervisor (``runtime/_server/_workers.py``) forks the workers and enters each one's `WorkerSlot` here
before its server starts. Modules that behave differently in a worker read it once, at start-up, never
per request: the embedded server serves the inherited listener and routes requests by session id; a
``SocketIo`` with the default adapter joins the workers' cluster. Who owns a session is written into its
id: every id this worker draws starts with its `tag` (see ``_random_ids.py``), so any worker can tell the
owner of a ``sid=`` from the id alone.

This module imports nothing of sioactor but ``_random_ids``, so every layer of the runtime may read it;
the cluster package offers the workers' adapter here (`offer_cluster_adapter`), as the socketio layer
cannot import it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sioactor.runtime._random_ids import tag_ids

__all__ = (
    "TAGS",
    "WorkerSlot",
    "current_worker",
    "enter_worker",
    "offer_cluster_adapter",
    "owner_of_sid",
    "worker_adapter_factory",
)

# The base64url alphabet: a worker's tag is the character at its index, hence at most 64 workers.
TAGS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSlot:
    """One worker of ``count``: its index, the address its parent holds (``listener``, bound, not listening),
    and its supervisor's private directory
    (the hub's socket ``hub.sock``, each worker's hand-off socket ``handoff-<index>.sock``)."""

    index: int
    count: int
    directory: str
    listener: socket.socket

    @property
    def tag(self) -> str:
        """The first character of every id this worker draws."""
        return TAGS[self.index]

    @property
    def hub_path(self) -> str:
        """The supervisor's pub/sub hub (the workers' cluster bus)."""
        return os.path.join(self.directory, "hub.sock")

    def handoff_path(self, index: int) -> str:
        """Where worker *index* takes the connections of its sessions that other workers accepted."""
        return os.path.join(self.directory, f"handoff-{index}.sock")


_current: WorkerSlot | None = None
_cluster_adapter: Callable[[str], Any] | None = None


def enter_worker(slot: WorkerSlot) -> None:
    """Make this process worker *slot* (in the forked child, before its server starts)."""
    global _current
    _current = slot
    tag_ids(slot.tag)


def current_worker() -> WorkerSlot | None:
    """This process's slot, or ``None`` outside a multi-worker server."""
    return _current


def owner_of_sid(sid: str | bytes) -> int | None:
    """The index of the worker that drew session id *sid*, or ``None`` when it names none."""
    if not sid:
        return None
    first = sid[0]
    index = TAGS.find(chr(first) if isinstance(first, int) else first)
    return None if index < 0 else index


def offer_cluster_adapter(maker: Callable[[str], Any]) -> None:
    """Register how a worker builds its cluster adapter factory from the hub's socket path."""
    global _cluster_adapter
    _cluster_adapter = maker


def worker_adapter_factory() -> Any | None:
    """In a worker of several, the adapter factory that joins the workers' cluster; else ``None``."""
    slot = _current
    if slot is None or slot.count < 2 or _cluster_adapter is None:
        return None
    return _cluster_adapter(slot.hub_path)
