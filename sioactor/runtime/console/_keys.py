"""Keyboard input in raw mode: a worker thread reads stdin (``select`` with a short timeout, so cancelling
the console never waits on a key press) and hands decoded keys back to the event loop.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import tty
from collections.abc import Callable, Iterator

import anyio
import anyio.to_thread

__all__ = ("decode_keys", "raw_terminal", "read_keys")

_SEQUENCES = {"\x1b[A": "up", "\x1b[B": "down", "\x1b[C": "right", "\x1b[D": "left", "\x1bOA": "up"}
_SEQUENCES |= {"\x1bOB": "down", "\r": "enter", "\n": "enter", "\x7f": "backspace", "\x08": "backspace"}


def decode_keys(data: str) -> list[str]:
    """Split raw terminal input into key names (``up``, ``enter``, ``esc``, or the character itself)."""
    keys = []
    i = 0
    while i < len(data):
        for sequence, name in _SEQUENCES.items():
            if data.startswith(sequence, i):
                keys.append(name)
                i += len(sequence)
                break
        else:
            keys.append("esc" if data[i] == "\x1b" else data[i])
            i += 1
    return keys


@contextlib.contextmanager
def raw_terminal() -> Iterator[bool]:
    """Put stdin in cbreak mode for the block (restored after); yields False when stdin is no terminal."""
    if not sys.stdin.isatty():
        yield False
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield True
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _read_chunk(fd: int) -> bytes | None:
    # b"" when no key came within the timeout; None once stdin is closed.
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        return b""
    return os.read(fd, 64) or None


async def read_keys(on_key: Callable[[str], None]) -> None:
    """Deliver key presses to *on_key* until cancelled (or stdin closes)."""
    fd = sys.stdin.fileno()
    while True:
        chunk = await anyio.to_thread.run_sync(_read_chunk, fd)
        if chunk is None:
            return
        for key in decode_keys(chunk.decode(errors="replace")):
            on_key(key)
