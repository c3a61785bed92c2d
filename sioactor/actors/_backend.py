"""Which event loop runs this thread: for the few places that use a backend's own primitive."""

from __future__ import annotations

__all__ = ("running_trio",)


def running_trio() -> bool:
    """True inside a trio run (trio is an optional dependency: False when it is not installed)."""
    try:
        import trio

        trio.lowlevel.current_root_task()  # raises RuntimeError outside a trio run
    except (ImportError, RuntimeError):
        return False
    return True
