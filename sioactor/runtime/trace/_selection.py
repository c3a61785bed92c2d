"""Which actors a subscriber gets per-message records of: its selection patterns, and how they match.

Selections are glob patterns (``fnmatch``, case-sensitive) on actor names (``socket:/chat:*``, an engine
sid), ``kind:KIND`` for every actor of a kind (``kind:engine_session``), and ``*`` for everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

__all__ = ("ALL_MESSAGES", "MAX_PATTERNS", "MAX_PATTERN_LENGTH", "selects")

ALL_MESSAGES = ("*",)
MAX_PATTERNS = 256
MAX_PATTERN_LENGTH = 512


def selects(patterns: Iterable[str], actor: str, actor_kind: str) -> bool:
    """Whether any of *patterns* selects the actor *actor* of kind *actor_kind*."""
    for pattern in patterns:
        if pattern.startswith("kind:"):
            if pattern[len("kind:") :] == actor_kind:
                return True
        elif fnmatchcase(actor, pattern):
            return True
    return False
