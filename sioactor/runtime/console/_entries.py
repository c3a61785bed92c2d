"""A line of the console's log (``LogEntry``) and the groups identical errors fold into (``ErrorGroup``),
shared by the model's sockets and cluster links."""

from __future__ import annotations

from dataclasses import dataclass

from sioactor.actors._trace import TraceKind

__all__ = ("ErrorGroup", "LogEntry", "add_error")


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """One line of the message log, with what its filters need."""

    time: float
    seq: int
    kind: TraceKind
    actor: str
    actor_kind: str
    namespace: str | None
    sid: str | None
    event: str | None
    text: str
    error: bool
    group: str = ""  # identical errors share it: the kind, the event, the exception type


@dataclass(slots=True)
class ErrorGroup:
    """Errors that say the same thing (``LogEntry.group``), shown once: the latest, how many, since when."""

    entry: LogEntry
    count: int = 1
    first: float = 0.0

    def describe(self) -> str:
        """The latest entry's text, after ``[xN in T s]`` if it repeated (first: a column cuts the end)."""
        if self.count == 1:
            return self.entry.text
        return f"[x{self.count} in {self.entry.time - self.first:.0f} s] {self.entry.text}"


def add_error(groups: dict[str, ErrorGroup], entry: LogEntry, limit: int) -> None:
    """Count *entry* in its group of *groups* (keyed by ``LogEntry.group``, least recently seen first); a new
    group past *limit* forgets the stalest."""
    group = groups.pop(entry.group, None)
    if group is None:
        group = ErrorGroup(entry, first=entry.time)
        if len(groups) >= limit:
            del groups[next(iter(groups))]
    else:
        group.entry = entry
        group.count += 1
    groups[entry.group] = group
