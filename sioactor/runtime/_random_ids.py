"""Random ids (Engine.IO session ids, Socket.IO socket ids) drawn from a pool of kernel randomness.

Every connect needs two ids of 15 random bytes; ``os.urandom`` per id is a system call each. The pool reads
4 KiB at once and hands out slices, so ~270 ids cost one call. The bytes are the kernel's CSPRNG output
all the same. A forked child drops the pool it inherited (``os.register_at_fork``): two processes must
never hand out the same ids.

In a worker of a multi-worker server, every id starts with the worker's tag (`tag_ids`), so the worker that
owns a session can be read from its id; the other 19 characters stay random (114 bits).
"""

from __future__ import annotations

import base64
import os

__all__ = ("random_id", "tag_ids")

_ID_BYTES = 15  # 20 characters of URL-safe base64, as Node's ids
_POOL_SIZE = _ID_BYTES * 273  # ~4 KiB per read

_pool = b""
_offset = 0
_tag = ""


def random_id() -> str:
    """20 characters of the URL-safe base64 alphabet encoding 15 fresh random bytes."""
    global _pool, _offset
    start = _offset
    if start + _ID_BYTES > len(_pool):
        _pool, start = os.urandom(_POOL_SIZE), 0
    _offset = start + _ID_BYTES
    text = base64.urlsafe_b64encode(_pool[start : start + _ID_BYTES]).decode("ascii")
    return _tag + text[1:] if _tag else text


def tag_ids(tag: str) -> None:
    """Start every id drawn from now on with the one character *tag* (a worker's; see `_worker_context`)."""
    global _tag
    _tag = tag


def _forget_pool() -> None:
    global _pool, _offset
    _pool, _offset = b"", 0


os.register_at_fork(after_in_child=_forget_pool)
