"""Which actor the event loop last began handling a message for: what a loop watchdog names when a handler
holds the loop (``runtime/_watchdog.py``).

An actor writes itself into ``HANDLING.actor`` as it starts handling a message: one attribute store per
message, no clearing afterwards (a second store would double the cost for a fact only read when something
went wrong). So the slot names the actor that holds the loop while a handler blocks it (nothing else can run
meanwhile), and otherwise merely the last one that handled something: the watchdog reads it only while it sees
the loop stalled. One slot per process: with loops in several threads it names the last handler of any.
"""

from __future__ import annotations

from typing import Any

__all__ = ("HANDLING", "Handling")


class Handling:
    """The slot: ``actor`` is the actor whose handler started last (``None`` before any)."""

    __slots__ = ("actor",)

    def __init__(self) -> None:
        self.actor: Any = None


HANDLING = Handling()
