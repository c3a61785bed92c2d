"""A tracer fake shared by the tests: it keeps every ``TraceEvent`` it is given, in order."""

from __future__ import annotations

from sioactor import TraceEvent, TraceKind


class ListTracer:
    """Keeps every event; ``kinds`` and ``of`` read them back."""

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []

    def record(self, event: TraceEvent) -> None:
        self.events.append(event)

    def kinds(self, actor: str | None = None) -> list[TraceKind]:
        """The kinds of the events recorded (of *actor*'s only, if given), in order."""
        return [e.kind for e in self.events if actor is None or e.actor == actor]

    def of(self, kind: TraceKind) -> list[TraceEvent]:
        """The events of *kind*, in order."""
        return [e for e in self.events if e.kind is kind]
